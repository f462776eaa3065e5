/**
 * The pure part of recording a page, the same for every database engine (src/ingest/page-store.ts):
 * which of the page's items count (each id once), which receipt becomes each message's final
 * state, how monthly usage moves, and which ids are acknowledged to HQ afterwards. The engines
 * only read what is stored and write what this decides.
 *
 * The final-receipt rule (docs/hq-api.md): of one message's receipts, the one with the latest
 * statusAt is the message's final state (and its chargeUsd the message's charge). On a tie in
 * statusAt the greater receiptId wins, compared by UTF-16 code unit exactly as JavaScript's `<`
 * compares strings: not localeCompare (which would order 'a' before 'B') and not numeric
 * ('r-10' < 'r-9'). This is a total order over distinct receipts, so the final state is a pure
 * function of the set of receipts, whatever order they arrive in.
 *
 * A stored message keeps the greatest of all its stored receipts (final_receipt_id,
 * final_status_at), and a page's greatest receipt of each message is compared with it: a maximum
 * over a set depends neither on the order nor on the repetition of its elements, a receipt stored
 * before can never exceed it, and no page reads a message's old receipts again. So replaying any
 * page, in any order, any number of times, changes nothing.
 */
import type { ValidReceipt, QuarantineEntry } from '../hq/items';
import { sentContribution, type UsageDeltas } from '../usage/aggregates';
import type { MonthBucketer } from '../usage/month';

export interface ReceiptOrderKey {
  statusAtMs: number;
  receiptId: string;
}

/** Negative when `a` is earlier than `b` in the final-receipt order, positive when later, 0 when equal. */
export function compareReceiptOrder(a: ReceiptOrderKey, b: ReceiptOrderKey): number {
  if (a.statusAtMs !== b.statusAtMs) return a.statusAtMs < b.statusAtMs ? -1 : 1;
  if (a.receiptId === b.receiptId) return 0;
  return a.receiptId < b.receiptId ? -1 : 1;
}

/**
 * The greatest receipt of each message among `receipts`, by the final-receipt rule. Receipts
 * already stored may take part: a stored receipt is never greater than its message's stored final
 * one, so it changes nothing, and a message new to the database has no stored receipt at all.
 */
export function greatestPerMessage<T extends ReceiptOrderKey & { guid: string }>(receipts: readonly T[]): Map<string, T> {
  const latest = new Map<string, T>();
  for (const r of receipts) {
    const best = latest.get(r.guid);
    if (best === undefined || compareReceiptOrder(r, best) > 0) latest.set(r.guid, r);
  }
  return latest;
}

/** What the merge needs of a stored message row (numbers may come back as strings from PostgreSQL). */
export interface StoredMessage {
  clinic_id: number;
  sent_at: number | string;
  status: string;
  charge_micros: number | string | null;
  final_receipt_id: string | null;
  final_status_at: number | string | null;
}

/**
 * Merges a message's greatest receipt of the page, `r`, into what is stored of the message
 * (`stored`, null for a message new to the database). Returns true when `r` becomes the message's
 * final state (the caller then writes the row `r` leaves), and adds to `deltas` the exact usage
 * change: the stored row's contribution leaves its (clinic, month), the new one's arrives.
 */
export function mergeReceipt(stored: StoredMessage | null, r: ValidReceipt, months: MonthBucketer, deltas: UsageDeltas): boolean {
  if (stored !== null) {
    if (stored.final_receipt_id !== null
      && compareReceiptOrder({ statusAtMs: Number(stored.final_status_at), receiptId: stored.final_receipt_id }, r) >= 0) return false;
    const was = sentContribution(stored);
    deltas.sent(stored.clinic_id, months.monthOf(Number(stored.sent_at)), was.count, was.micros, -1);
  }
  const is = sentContribution({ status: r.status, charge_micros: r.chargeMicros });
  deltas.sent(r.clinicId, months.monthOf(r.sentAtMs), is.count, is.micros, 1);
  return true;
}

/** Strings in JavaScript's order (UTF-16 code units): any one total order does to lock rows in. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Last write wins inside one page too: HQ may hand the same item twice in one page. */
export function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(key(item), item);
  return [...seen.values()];
}

/** The ids to acknowledge for a page once it has committed: its valid items' and its quarantined items' that have one. */
export function ackIdsOf(validIds: readonly string[], quarantined: readonly QuarantineEntry[]): string[] {
  const ids = new Set(validIds);
  for (const q of quarantined) if (q.ackId !== null) ids.add(q.ackId);
  return [...ids];
}
