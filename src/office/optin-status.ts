/**
 * The state of a patient's opt-in request (patients.optin_status), as answers show it in `optin`:
 * - suggested: a change the office made calls for asking the patient (optin.ts, optinSuggested);
 * - sent: the opt-in text was sent (POST /api/patients/:id/optin-request);
 * - confirmed: the patient answered YES, START or OPTIN (Text OK became Yes);
 * - declined: the patient answered STOP (Text OK became No).
 */
export const OPTIN_STATUSES = ['suggested', 'sent', 'confirmed', 'declined'] as const;
export type OptinStatus = (typeof OPTIN_STATUSES)[number];
