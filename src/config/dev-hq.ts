/**
 * The development API key: the daemon's key when HQ_URL is unset (it then starts the built-in HQ
 * mock, which accepts this key by default). Never valid at a real HQ.
 */
export const DEV_API_KEY = 'dev-econnector-key';
