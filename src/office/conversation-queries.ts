/**
 * Reading conversations (GET /api/conversations, GET /api/conversations/:phone, GET
 * /api/inbound/unread). Every read is a keyset range on an index (Migration20261201214500). The
 * list reads the conversations table, so its caller folds pending activity first (foldPending in
 * conversation-fold.ts; the route does):
 *
 * - the list walks conversations by (last_at DESC, phone DESC), with the clinic index or the
 *   partial unread index when filtered, joining each row's latest message, its patient and the
 *   number's block by primary key: one statement per page;
 * - a thread walks the number's replies by the thread index (thread-index.ts) and its office texts by
 *   (to_phone, sent_at), newest first from the cursor, and merges the two in thread order
 *   (time, 'in' before 'out', then id: compareActivity);
 * - unread counts are the per-clinic counters, never a count of replies.
 *
 * Cursors are opaque to clients (base64url of the last row's order key).
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import type { ConversationJson, PatientMatch, ReceivedInThreadJson, SentInThreadJson } from './conversation-document';
import { compareActivity, type Direction } from './conversation-fold';
import { phoneMatchKey } from './phone';
import { fromNumber } from './thread-index';

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;

type Db = Knex | Knex.Transaction;
type Num = number | string;
const n = (v: Num): number => Number(v);
const nOrNull = (v: Num | null): number | null => (v === null ? null : Number(v));

/** A conversation of the list as read: the wire form (conversation-document.d.ts) with its time in epoch ms. */
export type ConversationSummary = Omit<ConversationJson, 'lastAt'> & { lastAtMs: number };

/** Where a list page ends: the last conversation's (lastAt, phone). */
export interface ListCursor {
  at: number;
  phone: string;
}

/** Where a thread page begins: its oldest message's order key. */
export interface ThreadCursor {
  at: number;
  direction: Direction;
  ref: string;
}

export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The parts of a cursor, or null when it is not one this server made. */
export function decodeCursor(raw: string): unknown[] | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(raw)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export function listCursorOf(raw: string): ListCursor | null {
  const p = decodeCursor(raw);
  if (!p || p.length !== 2 || !Number.isSafeInteger(p[0]) || typeof p[1] !== 'string' || p[1].length > 40) return null;
  return { at: p[0] as number, phone: p[1] };
}

export function threadCursorOf(raw: string): ThreadCursor | null {
  const p = decodeCursor(raw);
  if (!p || p.length !== 3 || !Number.isSafeInteger(p[0]) || (p[1] !== 'in' && p[1] !== 'out') || typeof p[2] !== 'string' || p[2].length > 255) return null;
  return { at: p[0] as number, direction: p[1], ref: p[2] };
}

export interface ListQuery {
  clinicId?: number;
  unreadOnly?: boolean;
  limit: number;
  before?: ListCursor;
}

interface ConversationRow {
  phone: string;
  clinic_id: Num;
  last_at: Num;
  last_direction: Direction;
  unread: Num;
  last_body: string | null;
  patient_id: Num | null;
  patient_name: string | null;
  blocked: Num | boolean | null;
}

/**
 * One statement per page: the conversations in keyset order, each joined by primary key with its
 * latest message (the reply or the text named by last_ref), that message's patient, and the
 * number's block (a phone key is the E.164 number without its '+', src/office/phone.ts).
 */
const LIST_SQL = (where: string) => `
  SELECT c.phone, c.clinic_id, c.last_at, c.last_direction, c.unread,
         COALESCE(i.body, o.body) AS last_body, COALESCE(i.patient_id, o.patient_id) AS patient_id, p.name AS patient_name,
         CASE WHEN b.phone_key IS NULL THEN 0 ELSE 1 END AS blocked
    FROM conversations c
    LEFT JOIN inbound_messages i ON c.last_direction = 'in' AND i.inbound_id = c.last_ref
    LEFT JOIN outbound_messages o ON c.last_direction = 'out' AND o.guid = c.last_ref
    LEFT JOIN patients p ON p.patient_id = COALESCE(i.patient_id, o.patient_id)
    LEFT JOIN blocked_numbers b ON b.phone_key = substr(c.phone, 2)
   ${where}
   ORDER BY c.last_at DESC, c.phone DESC
   LIMIT ?`;

export async function listConversations(db: Db, query: ListQuery): Promise<{ conversations: ConversationSummary[]; next: ListCursor | null }> {
  const where: string[] = [];
  const bind: (string | number)[] = [];
  if (query.clinicId !== undefined) {
    where.push('c.clinic_id = ?');
    bind.push(query.clinicId);
  }
  if (query.unreadOnly) where.push('c.unread > 0');
  if (query.before) {
    // The leading range lets the planner seek the index; the OR breaks ties on the phone.
    where.push('c.last_at <= ? AND (c.last_at < ? OR c.phone < ?)');
    bind.push(query.before.at, query.before.at, query.before.phone);
  }
  const rows = rowsOf<ConversationRow>(await db.raw(LIST_SQL(where.length ? `WHERE ${where.join(' AND ')}` : ''), [...bind, query.limit + 1]));
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const conversations = page.map((c): ConversationSummary => ({
    phone: c.phone,
    patientId: nOrNull(c.patient_id),
    patientName: c.patient_name,
    clinicId: n(c.clinic_id),
    lastAtMs: n(c.last_at),
    lastDirection: c.last_direction,
    lastBody: c.last_body,
    unread: n(c.unread),
    blocked: Number(c.blocked ?? 0) === 1,
  }));
  const tail = page[page.length - 1];
  return { conversations, next: more && tail ? { at: n(tail.last_at), phone: tail.phone } : null };
}

/** The thread's messages as read: the wire forms (conversation-document.d.ts) with times in epoch ms and money in micro-dollars. */
export type SentInThread = Omit<SentInThreadJson, 'at' | 'chargeUsd'> & { atMs: number; chargeMicros: number | null };
export type ReceivedInThread = Omit<ReceivedInThreadJson, 'at'> & { atMs: number };
export type ThreadMessage = SentInThread | ReceivedInThread;

interface InboundRow {
  inbound_id: string; clinic_id: Num; body: string; received_at: Num; is_read: number | boolean; hidden: number | boolean;
  patient_id: Num | null; match_count: Num | null; segments: Num; keyword: string | null;
}

export const INBOUND_COLUMNS = 'inbound_id, clinic_id, body, received_at, is_read, hidden, patient_id, match_count, segments, keyword';

export function receivedOf(r: InboundRow): ReceivedInThread {
  return {
    direction: 'in', inboundId: r.inbound_id, atMs: n(r.received_at), clinicId: n(r.clinic_id), body: r.body,
    read: Boolean(r.is_read), hidden: Boolean(r.hidden), patientId: nOrNull(r.patient_id), matchCount: nOrNull(r.match_count),
    segments: n(r.segments), keyword: r.keyword,
  };
}

/** True when the number has a conversation (it replied, or the office texted it). */
export async function conversationExists(db: Db, phone: string): Promise<boolean> {
  // From the messages themselves (index seeks), so activity not folded yet counts: an office text is
  // the one kind of message with a recipient (receipts' message rows have none).
  const byNumber = fromNumber(db, phone);
  const found = await db.raw(`SELECT 1 AS x FROM inbound_messages WHERE ${byNumber.sql}
    UNION ALL SELECT 1 AS x FROM outbound_messages WHERE to_phone = ? LIMIT 1`, [...byNumber.bindings, phone]);
  return rowsOf(found).length > 0;
}

export async function readThread(db: Db, phone: string, limit: number, before?: ThreadCursor): Promise<{ patients: PatientMatch[]; messages: ThreadMessage[]; next: ThreadCursor | null }> {
  // Rows strictly older than the cursor in thread order ('in' sorts before 'out' at the same time).
  let inCond = '';
  let outCond = '';
  const byNumber = fromNumber(db, phone);
  const inBind: (string | number)[] = [...byNumber.bindings];
  const outBind: (string | number)[] = [phone];
  if (before) {
    if (before.direction === 'in') {
      inCond = 'AND received_at <= ? AND (received_at < ? OR inbound_id < ?)';
      inBind.push(before.at, before.at, before.ref);
      outCond = 'AND sent_at < ?';
      outBind.push(before.at);
    } else {
      inCond = 'AND received_at <= ?';
      inBind.push(before.at);
      outCond = 'AND sent_at <= ? AND (sent_at < ? OR guid < ?)';
      outBind.push(before.at, before.at, before.ref);
    }
  }
  // Sent at once: the connection runs them back to back, with no wait in between.
  const phoneKey = phoneMatchKey(phone);
  const [inRows, outRows, patientRows] = await Promise.all([
    db.raw(`SELECT ${INBOUND_COLUMNS} FROM inbound_messages WHERE ${byNumber.sql} ${inCond} ORDER BY received_at DESC, inbound_id DESC LIMIT ?`, [...inBind, limit + 1]),
    db.raw(`SELECT guid, clinic_id, body, sent_at, status, segments, charge_micros, origin, purpose, patient_id, failure_reason
              FROM outbound_messages WHERE to_phone = ? ${outCond} ORDER BY sent_at DESC, guid DESC LIMIT ?`, [...outBind, limit + 1]),
    phoneKey === null ? Promise.resolve([]) : db.raw('SELECT patient_id, name, clinic_id, text_ok FROM patients WHERE phone_key = ? ORDER BY patient_id', [phoneKey]),
  ]);
  const received = rowsOf<InboundRow>(inRows);
  const sent = rowsOf<{
    guid: string; clinic_id: Num; body: string | null; sent_at: Num; status: string; segments: Num | null; charge_micros: Num | null;
    origin: string; purpose: string | null; patient_id: Num | null; failure_reason: string | null;
  }>(outRows);

  const all: ThreadMessage[] = [
    ...received.map(receivedOf),
    ...sent.map((r): SentInThread => ({
      direction: 'out', guid: r.guid, atMs: n(r.sent_at), clinicId: n(r.clinic_id), body: r.body, status: r.status,
      segments: nOrNull(r.segments), chargeMicros: nOrNull(r.charge_micros), origin: r.purpose ?? r.origin,
      patientId: nOrNull(r.patient_id), failureReason: r.failure_reason,
    })),
  ];
  const key = (m: ThreadMessage) => ({ at: m.atMs, direction: m.direction, ref: m.direction === 'in' ? m.inboundId : m.guid });
  all.sort((a, b) => compareActivity(key(b), key(a)));
  const page = all.slice(0, limit);
  const oldest = page[page.length - 1];
  const next = all.length > limit && oldest ? key(oldest) : null;

  const patients = rowsOf<{ patient_id: Num; name: string; clinic_id: Num | null; text_ok: string }>(patientRows).map((p) => ({
    patientId: n(p.patient_id), name: p.name, clinicId: nOrNull(p.clinic_id), textOk: p.text_ok,
  }));
  return { patients, messages: page.reverse(), next };
}

/** Unread replies, all and per clinic (only clinics with any). */
export async function unreadCounts(db: Db): Promise<{ total: number; byClinic: Map<number, number> }> {
  const byClinic = new Map<number, number>();
  let total = 0;
  for (const r of rowsOf<{ clinic_id: Num; unread: Num }>(await db.raw('SELECT clinic_id, unread FROM unread_counts WHERE unread > 0 ORDER BY clinic_id'))) {
    byClinic.set(n(r.clinic_id), n(r.unread));
    total += n(r.unread);
  }
  return { total, byClinic };
}
