/**
 * The rows and conflict rules of a recorded page, shared by the page stores of both engines
 * (page-store-postgres.ts, and the SQLite writer thread's, sqlite-page-writer.ts): both must store
 * exactly the same thing.
 */
import type { SqlValue } from '../db/bulk-sql';
import { isStorableText } from '../hq/schemas';
import type { ValidReceipt, QuarantineEntry } from '../hq/items';

export const RECEIPT_COLUMNS = ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'];
export const MESSAGE_COLUMNS = ['guid', 'clinic_id', 'sent_at', 'status', 'charge_micros', 'segments', 'final_receipt_id', 'final_status_at', 'origin', 'created_at'];
export const QUARANTINE_COLUMNS = ['kind', 'item_key', 'ack_id', 'raw', 'reason', 'first_seen_at', 'last_seen_at', 'times_seen'];

/** Receipts and messages are insert-or-ignore by id: RETURNING (or a change count) names the new ones. */
export const RECEIPT_IF_NEW = 'ON CONFLICT (receipt_id) DO NOTHING';
export const MESSAGE_IF_NEW = 'ON CONFLICT (guid) DO NOTHING';
/** A stored message takes a greater receipt's state (the caller has compared them). */
export const MESSAGE_TAKES_RECEIPT = `ON CONFLICT (guid) DO UPDATE SET clinic_id = excluded.clinic_id, sent_at = excluded.sent_at, status = excluded.status,
         charge_micros = excluded.charge_micros, segments = excluded.segments,
         final_receipt_id = excluded.final_receipt_id, final_status_at = excluded.final_status_at`;
export const QUARANTINE_SEEN_AGAIN = 'ON CONFLICT (kind, item_key) DO UPDATE SET last_seen_at = excluded.last_seen_at, times_seen = quarantine.times_seen + 1';
/** The WHERE spares rewriting (and syncing) the clinics page on every page once a clinic is known. */
export const CLINIC_SEEN = 'ON CONFLICT (clinic_id) DO UPDATE SET seen_in_traffic = excluded.seen_in_traffic WHERE NOT clinics.seen_in_traffic';
/** The stream's good poll and the items it stored, in one statement. */
export const STREAM_PROGRESS = 'ON CONFLICT (stream) DO UPDATE SET last_ok_at = excluded.last_ok_at, items_recorded = stream_state.items_recorded + excluded.items_recorded';

export function receiptRow(r: ValidReceipt, now: number): SqlValue[] {
  return [r.receiptId, r.guid, r.clinicId, r.status, r.chargeMicros, r.segments, r.countryCode, r.sentAtMs, r.statusAtMs, now];
}

/** A message row as its receipt `r` leaves it. */
export function messageRow(r: ValidReceipt, now: number): SqlValue[] {
  return [r.guid, r.clinicId, r.sentAtMs, r.status, r.chargeMicros, r.segments, r.receiptId, r.statusAtMs, 'hq', now];
}

/**
 * The quarantine row of an entry. Its ack id is kept only when the database can store it exactly
 * (no NUL, no lone surrogate): the item is still acknowledged, and its raw text names the id.
 */
export function quarantineRow(e: QuarantineEntry, now: number): SqlValue[] {
  return [e.kind, e.itemKey, e.ackId !== null && isStorableText(e.ackId) ? e.ackId : null, e.raw, e.reason, now, now, 1];
}
