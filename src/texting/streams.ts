/**
 * The two streams HQ delivers to the office (docs/hq-api.md): delivery receipts for the office's
 * messages and the patients' inbound replies. Each is paged, recorded and acknowledged on its own.
 */
export type HqStream = 'receipts' | 'inbound';
