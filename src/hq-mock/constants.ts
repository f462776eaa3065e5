/** The built-in HQ mock's development API key: used by the daemon when HQ_URL is unset. Never valid at a real HQ. */
export const DEV_API_KEY = 'dev-econnector-key';
