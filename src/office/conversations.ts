/**
 * The conversations (one row per number: its latest message and unread replies) and the unread
 * counters, moved by whatever changes them:
 *
 * - every reply recorded (src/ingest/record-inbound.ts) and every text recorded (insertOfficeMessages in
 *   send.ts) is "activity" of its phone number: the conversation's latest message moves forward
 *   (never back: the latest by time, then direction, then id, as the thread orders them), and an
 *   unread reply adds one to the conversation's and to its clinic's unread count;
 * - marking read or unread, hiding, unhiding and blocking change the counts by the difference
 *   (src/office/replies.ts).
 *
 * The clinics' counters change in the transaction that changes them (GET /api/inbound/unread and
 * /status read them as they are); the conversations follow through conversation-fold.ts, which
 * folds a backlog's pages many at a time and whatever else at once, and folds what is pending
 * before the list is read.
 *
 * A reply counts as unread while it is neither read nor hidden; a blocked number's replies are
 * stored read and hidden.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, rowsOf, selectIn, type SqlValue } from '../db/bulk-sql';
import { ActivityBatch, recordActivity, type Direction } from './conversation-fold';
import { phoneMatchKey } from './phone';
import { fromNumber } from './thread-index';

/** One message of a phone number's conversation. */
export interface Activity {
  /** E.164. */
  phone: string;
  clinicId: number;
  at: number;
  direction: Direction;
  /** inboundId or guid. */
  ref: string;
  /** 1 for a reply stored unread, else 0. */
  unread: 0 | 1;
}

/** Records messages as their conversations' activity (latest message, unread count), and the clinics' unread counts. */
export async function noteActivity(trx: Knex | Knex.Transaction, activity: readonly Activity[]): Promise<void> {
  if (activity.length === 0) return;
  const batch = new ActivityBatch();
  const unreadByClinic = new Map<number, number>();
  for (const a of activity) {
    batch.message(a.phone, a.clinicId, a.at, a.direction, a.ref, a.unread);
    if (a.unread) unreadByClinic.set(a.clinicId, (unreadByClinic.get(a.clinicId) ?? 0) + 1);
  }
  await adjustClinicUnread(trx, unreadByClinic);
  await recordActivity(trx, batch);
}

/** Adds each clinic's delta to its unread count. */
export async function adjustClinicUnread(trx: Knex | Knex.Transaction, deltas: ReadonlyMap<number, number>): Promise<void> {
  // Sorted by clinic: writers side by side (PostgreSQL page transactions) lock these rows in one order.
  const rows = [...deltas].filter(([, d]) => d !== 0).sort(([a], [b]) => a - b).map(([clinicId, d]): SqlValue[] => [clinicId, d]);
  await insertRows(trx, 'unread_counts', ['clinic_id', 'unread'], rows, 'ON CONFLICT (clinic_id) DO UPDATE SET unread = unread_counts.unread + excluded.unread');
}

/** Adds `delta` to one conversation's unread count. */
export async function adjustConversationUnread(trx: Knex | Knex.Transaction, phone: string, delta: number): Promise<void> {
  if (delta === 0) return;
  const batch = new ActivityBatch();
  batch.unread(phone, delta);
  await recordActivity(trx, batch);
}

/** The phone keys of `phones` that are blocked. */
export async function blockedKeysOf(trx: Knex | Knex.Transaction, phones: Iterable<string>): Promise<Set<string>> {
  const keys = [...new Set([...phones].map(phoneMatchKey).filter((k): k is string => k !== null))];
  const found = new Set<string>();
  for (const r of await selectIn<{ phone_key: string }>(trx, 'SELECT phone_key FROM blocked_numbers WHERE phone_key IN {in}', keys)) found.add(r.phone_key);
  return found;
}

/** How a new reply is stored: a blocked number's replies hidden and read (never unread), others unread. */
export interface ReplyFlags {
  isRead: boolean;
  hidden: boolean;
}

/**
 * How many blocked numbers a page reads whole. An office blocks a handful of numbers, and reading
 * them all is one short read, where looking up the page's ~1,000 numbers one by one cost about
 * 2 ms of a page (BENCHMARKS.md, "Recording a page of 1,000 replies"); a longer list is looked up
 * by the page's numbers.
 */
const BLOCKED_READ_WHOLE = 200;

export async function flagsForNewReplies(trx: Knex | Knex.Transaction, replies: readonly { inboundId: string; fromPhone: string }[]): Promise<Map<string, ReplyFlags>> {
  if (replies.length === 0) return new Map();
  const few = rowsOf<{ phone_key: string }>(await trx.raw(`SELECT phone_key FROM blocked_numbers LIMIT ${BLOCKED_READ_WHOLE + 1}`));
  const out = new Map<string, ReplyFlags>();
  // Most offices block no number: then no reply's number needs its key.
  if (few.length === 0) {
    for (const r of replies) out.set(r.inboundId, { isRead: false, hidden: false });
    return out;
  }
  const blocked = few.length <= BLOCKED_READ_WHOLE ? new Set(few.map((r) => r.phone_key)) : await blockedKeysOf(trx, replies.map((r) => r.fromPhone));
  for (const r of replies) {
    const key = phoneMatchKey(r.fromPhone);
    const isBlocked = key !== null && blocked.has(key);
    out.set(r.inboundId, { isRead: isBlocked, hidden: isBlocked });
  }
  return out;
}

/** The clinic a number's latest reply arrived at, or null when it never replied: a text answering it goes out from there. */
export async function latestReplyClinicId(trx: Knex | Knex.Transaction, phone: string): Promise<number | null> {
  const byNumber = fromNumber(trx, phone);
  const row = rowsOf<{ clinic_id: number | string }>(await trx.raw(`SELECT clinic_id FROM inbound_messages WHERE ${byNumber.sql} ORDER BY received_at DESC LIMIT 1`, byNumber.bindings))[0];
  return row === undefined ? null : Number(row.clinic_id);
}
