/**
 * How the conversations table (one row per number: its latest message and its unread replies)
 * follows the messages without rewriting itself on every page of a backlog
 * (docs/text-messages.md, "How conversations stay exact").
 *
 * Whatever moves a conversation (replies recorded, texts recorded, an unread count changed by the
 * office) hands its per-number activity to `recordActivity` in its own transaction. A large batch
 * (a page of a backlog: ~1,000 numbers spread over the whole table) is APPENDED to
 * `conversation_activity` as one row; everything appended is FOLDED into `conversations` later,
 * many batches at once, each number's row rewritten once per fold, in phone order. Folding a page
 * into the table directly dirtied nearly every page of the table and its index at every page of a
 * backlog (BENCHMARKS.md, "Recording a page of 1,000 replies").
 *
 * When folding happens, all in the transaction that writes, so nothing depends on a timer or a job:
 * - a small batch (an office change, a few texts, the replies of a poll with no backlog) when
 *   nothing is pending goes straight into the table: outside a backlog the table is always exact;
 * - any other batch is appended (a page of a backlog, or the automatic answers and office changes
 *   made while one is pending, which would otherwise fold it page by page), unless what is pending
 *   would reach FOLD_AT entries (or FOLD_ROWS rows): then everything is folded (a backlog pays one
 *   fold per FOLD_AT entries);
 * - a poll that finds no replies folds what is pending (the end of a backlog: src/ingest/record-inbound.ts);
 * - a read of the conversation list folds what is pending first (foldPending, called by the
 *   route: src/status/routes/messages.ts), so the list is exact whenever it is read, even in the
 *   middle of a backlog.
 *
 * The fold is exact whatever the order or grouping of batches: a number's latest message is the
 * newest by thread order (compareActivity), its unread count the sum of every change. On
 * PostgreSQL, page transactions side by side (src/db/pg-serialized.ts) claim pending rows with one
 * `DELETE … RETURNING`, so each row is folded by exactly one transaction.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, isSqlite, rowsOf } from '../db/bulk-sql';
import { pageTransaction } from '../db/pg-serialized';

export type Direction = 'in' | 'out';

/** A message as the thread orders it. */
interface ThreadPosition {
  at: number;
  direction: Direction;
  /** inboundId or guid. */
  ref: string;
}

/** Thread order: time, then 'in' before 'out', then id by character code. Negative when a is older. */
export function compareActivity(a: ThreadPosition, b: ThreadPosition): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.direction !== b.direction) return a.direction === 'in' ? -1 : 1;
  return a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
}

/**
 * Entries pending before a batch folds everything: about 300 pages of a backlog. A fold rewrites
 * each number of the batches once (at most every conversation), so the more entries per fold the
 * less a page pays for it (BENCHMARKS.md, "Recording a page of 1,000 replies"); what a fold holds
 * is bounded apart from this (MERGE_CAP). What is pending is also what a read during a backlog
 * folds first (under a second).
 */
export const FOLD_AT = 300_000;
/** A batch of fewer numbers is not a backlog's page: with nothing pending, it goes straight into the table. */
const FOLD_SMALL_BATCH = 100;

/**
 * A merged entry, one per number while a fold runs: [key, clinicId, at, direction, ref,
 * unreadDelta], the message fields null for a change of unread only. `key` is the number's
 * phoneKey; direction 0 is 'in', 1 is 'out' (the order compareActivity gives them).
 */
type MergedEntry = [key: number | string, clinicId: number | null, at: number | null, direction: 0 | 1 | null, ref: string | null, unreadDelta: number];

/** Fields per entry of a stored batch. */
const FIELDS = 6;

/** The largest key phoneKey gives: fifteen nines. */
const MAX_E164_KEY = 999_999_999_999_999;

/**
 * The key a number is merged under: an E.164 number as the integer of its digits (at most 15, so
 * exact in a double), anything else as itself. A batch stores it so, and a fold's map and sort
 * work on numbers: parsing, hashing and comparing numbers (with one flat array per batch) made a
 * fold about a fifth cheaper than with the phone as a string (BENCHMARKS.md, "Recording a page
 * of 1,000 replies").
 */
function phoneKey(phone: string): number | string {
  // '+', a first digit 1-9, at most 15 digits in all; read digit by digit (a regex, a slice and
  // Number() cost about twice as much, at every message of every page).
  const n = phone.length;
  if (n < 2 || n > 16 || phone.charCodeAt(0) !== 43 || phone.charCodeAt(1) === 48) return phone;
  let key = 0;
  for (let i = 1; i < n; i++) {
    const d = phone.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return phone;
    key = key * 10 + d;
  }
  return key;
}
const phoneOfKey = (key: number | string): string => (typeof key === 'number' ? `+${key}` : key);

/** compareActivity on the stored fields (direction 0 'in', 1 'out'): true when the first message is the newer. */
const isNewer = (at: number, dir: number, ref: string, thanAt: number, thanDir: number, thanRef: string): boolean =>
  at > thanAt || (at === thanAt && (dir > thanDir || (dir === thanDir && ref > thanRef)));

/**
 * What a batch (a page of replies, a batch of texts, an office change) changes of its numbers'
 * conversations, built in the form it is stored: one entry per number (FIELDS values, as in
 * MergedEntry) one after another in one flat array, so a fold parses one array per batch rather
 * than one per entry. A number's messages and unread changes merge into its entry as they are added.
 */
export class ActivityBatch {
  readonly values: Array<number | string | null> = [];
  private readonly offsets = new Map<number | string, number>();

  /** The numbers the batch holds. */
  get size(): number {
    return this.offsets.size;
  }

  /** A message of `phone`'s conversation; `unread` 1 for a reply stored unread, else 0. */
  message(phone: string, clinicId: number, at: number, direction: Direction, ref: string, unread: number): void {
    const key = phoneKey(phone);
    const dir = direction === 'in' ? 0 : 1;
    const v = this.values;
    const o = this.offsets.get(key);
    if (o === undefined) {
      this.offsets.set(key, v.length);
      v.push(key, clinicId, at, dir, ref, unread);
      return;
    }
    if (v[o + 2] === null || isNewer(at, dir, ref, v[o + 2] as number, v[o + 3] as number, v[o + 4] as string)) {
      v[o + 1] = clinicId;
      v[o + 2] = at;
      v[o + 3] = dir;
      v[o + 4] = ref;
    }
    v[o + 5] = (v[o + 5] as number) + unread;
  }

  /** A change of `phone`'s unread count alone (a reply already recorded, marked read or unread, hidden, ...). */
  unread(phone: string, delta: number): void {
    const key = phoneKey(phone);
    const o = this.offsets.get(key);
    if (o === undefined) {
      this.offsets.set(key, this.values.length);
      this.values.push(key, null, null, null, null, delta);
    } else this.values[o + 5] = (this.values[o + 5] as number) + delta;
  }
}

/**
 * Merges the entries of a flat batch (ActivityBatch's values) into the numbers': the newer message
 * by thread order (compareActivity), the unread changes summed. Returns false at the first value
 * that is not what ActivityBatch writes.
 */
function mergeFlat(into: Map<number | string, MergedEntry>, a: readonly unknown[]): boolean {
  if (a.length % FIELDS !== 0) return false;
  for (let i = 0; i < a.length; i += FIELDS) {
    const stored = a[i], clinicId = a[i + 1], at = a[i + 2], dir = a[i + 3], ref = a[i + 4], unread = a[i + 5];
    // A number key is an E.164 number's digits (at most 15, no leading zero); a text key is never one
    // (it would be a second entry for that number, keyed the other way).
    let key: number | string;
    if (typeof stored === 'number' && Number.isSafeInteger(stored) && stored >= 1 && stored <= MAX_E164_KEY) key = stored;
    else if (typeof stored === 'string' && typeof phoneKey(stored) === 'string') key = stored;
    else return false;
    if (!Number.isSafeInteger(unread)) return false;
    if (at === null ? clinicId !== null || dir !== null || ref !== null
      : !Number.isSafeInteger(clinicId) || !Number.isSafeInteger(at) || (dir !== 0 && dir !== 1) || typeof ref !== 'string') return false;
    const c = into.get(key);
    if (c === undefined) {
      into.set(key, [key, clinicId as number | null, at as number | null, dir as 0 | 1 | null, ref as string | null, unread as number]);
      continue;
    }
    if (at !== null && (c[2] === null || isNewer(at as number, dir as number, ref as string, c[2], c[3]!, c[4]!))) {
      c[1] = clinicId as number;
      c[2] = at as number;
      c[3] = dir as 0 | 1;
      c[4] = ref as string;
    }
    c[5] += unread as number;
  }
  return true;
}

/** The fold's lock order on the conversations rows: numbers' keys by value, then any other phone by code unit. */
const byKey = (x: MergedEntry, y: MergedEntry): number => {
  const a = x[0], b = y[0];
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  return typeof b === 'number' ? 1 : a < b ? -1 : a > b ? 1 : 0;
};

// The stored row is replaced only by a newer message; 'in' < 'out' as strings too.
const NEWER = `(excluded.last_at > conversations.last_at
  OR (excluded.last_at = conversations.last_at AND (excluded.last_direction > conversations.last_direction
    OR (excluded.last_direction = conversations.last_direction AND excluded.last_ref > conversations.last_ref))))`;
const UPSERT_CONVERSATION = `ON CONFLICT (phone) DO UPDATE SET
  clinic_id = CASE WHEN ${NEWER} THEN excluded.clinic_id ELSE conversations.clinic_id END,
  last_direction = CASE WHEN ${NEWER} THEN excluded.last_direction ELSE conversations.last_direction END,
  last_ref = CASE WHEN ${NEWER} THEN excluded.last_ref ELSE conversations.last_ref END,
  last_at = CASE WHEN ${NEWER} THEN excluded.last_at ELSE conversations.last_at END,
  unread = conversations.unread + excluded.unread`;

/** Rows per upsert statement of a fold: the statement's parameter is built per chunk, not for the whole fold. */
const WRITE_CHUNK = 5_000;

/** Writes merged entries into the conversations table, in one order by number (writers side by side lock rows in one order: byKey). */
async function writeConversations(trx: Knex | Knex.Transaction, merged: Map<number | string, MergedEntry>): Promise<void> {
  const all = [...merged.values()].sort(byKey);
  const moved: Array<[string, number, number, Direction, string, number]> = [];
  for (const e of all) if (e[2] !== null) moved.push([phoneOfKey(e[0]), e[1]!, e[2], e[3] === 0 ? 'in' : 'out', e[4]!, e[5]]);
  for (let i = 0; i < moved.length; i += WRITE_CHUNK) {
    await insertRows(trx, 'conversations', ['phone', 'clinic_id', 'last_at', 'last_direction', 'last_ref', 'unread'], moved.slice(i, i + WRITE_CHUNK), UPSERT_CONVERSATION);
  }
  // A change of unread alone is for a reply already recorded, so its number's conversation exists:
  // it was folded before, or its activity is in this same fold and the row was just written.
  for (const e of all) {
    if (e[2] === null && e[5] !== 0) await trx.raw('UPDATE conversations SET unread = unread + ? WHERE phone = ?', [e[5], phoneOfKey(e[0])]);
  }
}

/**
 * Rows appended before a batch folds everything, whatever their entries: office changes and texts
 * made during a backlog append a row each, and this keeps the pending rows (which every batch
 * counts) few.
 */
export const FOLD_ROWS = 500;

/** What is appended and not folded yet (as committed for this transaction to see): rows, and the entries they hold. */
async function pendingSize(db: Knex | Knex.Transaction): Promise<{ rows: number; entries: number }> {
  const row = rowsOf<{ batches: number | string; n: number | string | null }>(await db.raw('SELECT COUNT(*) AS batches, SUM(entries) AS n FROM conversation_activity'))[0];
  return { rows: Number(row?.batches ?? 0), entries: Number(row?.n ?? 0) };
}

/** Entries appended and not folded yet. */
export async function pendingEntries(db: Knex | Knex.Transaction): Promise<number> {
  return (await pendingSize(db)).entries;
}

/** Pending rows read at a time while folding on SQLite: a fold holds a few of them as text at once, not all. */
const CLAIM_CHUNK = 20;

/**
 * Numbers a fold holds merged before it writes them out and goes on. A fold's memory is one merged
 * entry per number (~200 bytes) on the SQLite writer thread, whose heap is limited
 * (src/ingest/page-store-sqlite.ts); an office with fewer numbers than this writes each once per
 * fold, a larger one some of them more than once.
 */
export const MERGE_CAP = 50_000;

/** Parses a stored batch into `merged`. Only this module writes the table: anything else is a damaged row, named by its id (never its numbers). */
function mergeBatch(merged: Map<number | string, MergedEntry>, id: number | string, batch: string): void {
  let entries: unknown;
  try {
    entries = JSON.parse(batch);
  } catch {
    entries = null;
  }
  if (!Array.isArray(entries) || !mergeFlat(merged, entries)) throw new Error(`conversation_activity row ${String(id)} is not a batch this connector wrote`);
}

/**
 * Writes out the merged numbers that have a message once `cap` of them are held. A change of
 * unread alone stays until the end of the fold: its number's row may come from a later batch.
 */
async function flushWhenFull(trx: Knex | Knex.Transaction, merged: Map<number | string, MergedEntry>, cap: number): Promise<void> {
  if (merged.size < cap) return;
  const moved = new Map([...merged].filter(([, e]) => e[2] !== null));
  await writeConversations(trx, moved);
  for (const phone of moved.keys()) merged.delete(phone);
}

/**
 * Takes every pending batch this transaction can see (deleting it: each exactly once whatever runs
 * beside it) and folds it, with `extra`, into the conversations table. Returns how many stored
 * batches it folded.
 */
async function foldActivity(trx: Knex | Knex.Transaction, extra: ActivityBatch | null = null, cap = MERGE_CAP): Promise<number> {
  const merged = new Map<number | string, MergedEntry>();
  let claimed = 0;
  const take = async (rows: ReadonlyArray<{ id: number | string; batch: string }>) => {
    for (const r of rows) mergeBatch(merged, r.id, r.batch);
    claimed += rows.length;
    await flushWhenFull(trx, merged, cap);
  };
  if (isSqlite(trx)) {
    // The transaction holds the file's one write lock from BEGIN (src/db/sqlite-immediate.ts): what
    // it reads is all there is until it commits. (The ORM's SQLite driver runs a raw DELETE without
    // returning its RETURNING rows, so read, then delete.)
    for (let last = 0; ;) {
      const rows = rowsOf<{ id: number | string; batch: string }>(await trx.raw(`SELECT id, batch FROM conversation_activity WHERE id > ? ORDER BY id LIMIT ${CLAIM_CHUNK}`, [last]));
      await take(rows);
      if (rows.length < CLAIM_CHUNK) break;
      last = Number(rows[rows.length - 1]!.id);
    }
    if (claimed > 0) await trx.raw('DELETE FROM conversation_activity');
  } else {
    // Page transactions side by side: a row another one's fold deleted first is not returned here.
    const rows = rowsOf<{ id: number | string; batch: string }>(await trx.raw('DELETE FROM conversation_activity RETURNING id, batch'));
    for (let i = 0; i < rows.length; i += CLAIM_CHUNK) await take(rows.slice(i, i + CLAIM_CHUNK));
  }
  if (extra) mergeFlat(merged, extra.values);
  await writeConversations(trx, merged);
  return claimed;
}

/** Records a batch's activity by the rules at the top of this file. */
export async function recordActivity(trx: Knex | Knex.Transaction, batch: ActivityBatch): Promise<void> {
  if (batch.size === 0) return;
  const pending = await pendingSize(trx);
  if (pending.rows === 0 && batch.size < FOLD_SMALL_BATCH) {
    const merged = new Map<number | string, MergedEntry>();
    mergeFlat(merged, batch.values);
    await writeConversations(trx, merged);
    return;
  }
  if (pending.entries + batch.size >= FOLD_AT || pending.rows + 1 >= FOLD_ROWS) {
    await foldActivity(trx, batch);
    return;
  }
  await trx.raw('INSERT INTO conversation_activity (batch, entries) VALUES (?, ?)', [JSON.stringify(batch.values), batch.size]);
}

/** True when activity waits to be folded. */
async function anyPending(db: Knex | Knex.Transaction): Promise<boolean> {
  return rowsOf(await db.raw('SELECT 1 AS x FROM conversation_activity LIMIT 1')).length > 0;
}

/**
 * Folds pending activity, if there is any: before the conversation list is read, and when a poll
 * finds no replies (the end of a backlog, whose last large pages were only appended). `writer`
 * must be a connection whose transactions take the write lock at BEGIN on SQLite (the ORM's knex,
 * or the page writer's; not the ORM's read connection, which reads a snapshot and would fail
 * busy). Its own transaction, run as a page transaction is (src/db/pg-serialized.ts: on
 * PostgreSQL beside the pages under way, not exclusive of them, and again on a deadlock); inside a
 * transaction, in that one.
 */
export async function foldPending(writer: Knex | Knex.Transaction, { mergeCap = MERGE_CAP }: { mergeCap?: number } = {}): Promise<void> {
  if (!(await anyPending(writer))) return;
  if (writer.isTransaction) await foldActivity(writer, null, mergeCap);
  else await pageTransaction(writer as Knex, async (trx) => { await foldActivity(trx, null, mergeCap); });
}
