/**
 * Records one HQ page in ONE database transaction: the page's valid items as idempotent upserts
 * keyed by their ids, its bad items in quarantine, the clinics it names, and the (clinic, month)
 * usage pairs it changed. The caller acknowledges the page to HQ only after this resolves.
 *
 * Replaying any page, in any order, any number of times, changes nothing: receipts and inbound
 * messages are insert-or-ignore by id, and a message's final state is the greatest of ALL its
 * stored receipts by the contract's rule (latest statusAt, then greatest receiptId). The stored
 * message row keeps that greatest receipt (final_receipt_id, final_status_at), and a page's
 * greatest receipt of each message is compared with it: a maximum over a set does not depend on
 * the order or the repetition of its elements, a receipt stored before can never exceed it, and no
 * page reads a message's old receipts again. The insert's RETURNING names the receipts new to the
 * database (what the page recorded, as opposed to redelivered).
 *
 * Monthly usage changes by exact deltas in the same transaction (src/usage/aggregates.ts): a
 * message row that changes moves its contribution from its old (clinic, month) to its new one.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertPreparedReturning, insertRows, insertRowsReturning, isSqlite, PreparedRows, rowsOf, selectIn, type SqlValue } from '../db/bulk-sql';
import { pageTransaction } from '../db/pg-serialized';
import type { ValidInbound, ValidReceipt } from '../hq/schemas';
import type { HqStream } from '../texting/streams';
import type { MonthBucketer } from '../usage/month';
import { applyUsageDeltas, sentContribution, UsageDeltas } from '../usage/aggregates';
import { compareReceiptOrder } from './final-receipt';
import {
  CLINIC_SEEN, greatestPerMessage, MESSAGE_COLUMNS, MESSAGE_IF_NEW, MESSAGE_TAKES_RECEIPT, messageRow, QUARANTINE_COLUMNS, QUARANTINE_SEEN_AGAIN, quarantineRow,
  RECEIPT_COLUMNS, RECEIPT_IF_NEW, receiptRow, STREAM_PROGRESS, uniqueBy,
} from './page-sql';

export { uniqueBy } from './page-sql';
import { recordStreamOk } from '../db/store/stream-state';
import { markUsageDirty } from '../db/store/usage-dirty';
import type { QuarantineEntry } from './validate';
import { actOnNewInbound, annotateInbound } from '../office/inbound';
import { flagsForNewReplies, noteActivity } from '../office/conversations';

export interface PageOutcome {
  /** Items newly stored (not seen before). */
  recorded: number;
  /** Items already stored (redeliveries). */
  duplicates: number;
  quarantined: number;
  /** Ids to acknowledge to HQ once the transaction has committed. */
  ackIds: string[];
  /** (clinic, month) usage pairs left dirty for the recompute job (0 when the page's deltas covered everything). */
  dirtyPairs: number;
  /** (clinic, month) usage pairs the page updated in place. */
  usagePairs?: number;
  /** Office messages this page recorded (automatic HELP replies): queue their sends once committed. */
  sendGuids?: string[];
}

interface StoredMessage {
  guid: string;
  clinic_id: number;
  sent_at: number | string;
  status: string;
  charge_micros: number | string | null;
  final_receipt_id: string | null;
  final_status_at: number | string | null;
}


/** Strings in JavaScript's order (UTF-16 code units): any one total order does to lock rows in. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Set of `${clinicId}|${month}` keys. */
class DirtyPairs {
  private readonly keys = new Set<string>();
  add(clinicId: number, month: string): void {
    this.keys.add(`${clinicId}|${month}`);
  }
  get size(): number {
    return this.keys.size;
  }
  pairs(): Array<[clinicId: number, month: string]> {
    return [...this.keys].map((k) => {
      const [clinic, month] = k.split('|');
      return [Number(clinic), month!];
    });
  }
}

/** An empty page is still a good poll: readiness judges the age of the last one. */
export async function markStreamPolled(knex: Knex, stream: HqStream, now: number = Date.now()): Promise<void> {
  await recordStreamOk(knex, stream, now);
}

async function storeQuarantine(trx: Knex.Transaction, entries: readonly QuarantineEntry[], now: number): Promise<void> {
  const unique = uniqueBy(entries, (e) => `${e.kind}|${e.itemKey}`).sort((a, b) => byCodeUnit(a.kind, b.kind) || byCodeUnit(a.itemKey, b.itemKey));
  await insertRows(trx, 'quarantine', QUARANTINE_COLUMNS, unique.map((e) => quarantineRow(e, now)), QUARANTINE_SEEN_AGAIN);
}

/**
 * Marks the clinics a page names as seen in traffic. Nearly always they all are already: a read
 * finds that and writes nothing, so pages side by side (PostgreSQL) do not queue on the clinic
 * rows (an upsert locks the row it conflicts with even when its WHERE then changes nothing).
 */
async function markClinicsSeen(trx: Knex.Transaction, clinicIds: Iterable<number>): Promise<void> {
  const ids = [...new Set(clinicIds)].sort((a, b) => a - b);
  if (ids.length === 0) return;
  const seen = new Set(rowsOf<{ clinic_id: number | string }>(await trx.raw(
    `SELECT clinic_id FROM clinics WHERE seen_in_traffic AND clinic_id IN (${ids.map(() => '?').join(', ')})`, ids)).map((r) => Number(r.clinic_id)));
  await insertRows(trx, 'clinics', ['clinic_id', 'seen_in_traffic'], ids.filter((id) => !seen.has(id)).map((id) => [id, true]), CLINIC_SEEN);
}

async function recordStreamProgress(trx: Knex.Transaction, stream: HqStream, now: number, recorded: number): Promise<void> {
  await insertRows(trx, 'stream_state', ['stream', 'last_ok_at', 'items_recorded'], [[stream, now, recorded]], STREAM_PROGRESS);
}

export async function recordReceiptsPage(
  knex: Knex,
  receipts: readonly ValidReceipt[],
  quarantined: readonly QuarantineEntry[],
  months: MonthBucketer,
  now: number = Date.now(),
): Promise<PageOutcome> {
  // Sorted by id: pages written side by side (PostgreSQL) then lock the rows they share in one
  // order, so they wait for each other instead of deadlocking (src/db/pg-serialized.ts).
  const unique = uniqueBy(receipts, (r) => r.receiptId).sort((a, b) => byCodeUnit(a.receiptId, b.receiptId));

  // Everything that does not depend on what is stored is built before the transaction begins, so
  // it overlaps the other stream's transaction instead of holding the one connection.
  const receiptRows = new PreparedRows(knex, 'receipts', RECEIPT_COLUMNS, unique.map((r) => receiptRow(r, now)));
  // The greatest receipt of each message in the page (stored ones may take part: page-sql.ts).
  const latest = new Map([...greatestPerMessage(unique)].sort(([a], [b]) => byCodeUnit(a, b)));
  const newMessageRows = new PreparedRows(knex, 'outbound_messages', MESSAGE_COLUMNS, [...latest.values()].map((r) => messageRow(r, now)));
  // On PostgreSQL the stored messages are read under a row lock: no other page can change one
  // between this page's reading it and writing it (SQLite has one writer: no locking clause there).
  const lockStored = isSqlite(knex) ? '' : ' ORDER BY guid FOR UPDATE';

  // The transaction may run more than once (a deadlock on PostgreSQL): what it collects starts inside.
  const outcome = await pageTransaction(knex, async (trx) => {
    const deltas = new UsageDeltas();
    const addsToUsage = (r: ValidReceipt): void => {
      const is = sentContribution({ status: r.status, charge_micros: r.chargeMicros });
      deltas.sent(r.clinicId, months.monthOf(r.sentAtMs), is.count, is.micros, 1);
    };
    // Insert-or-ignore by receiptId; RETURNING names exactly the receipts new to the database.
    const inserted = await insertPreparedReturning<{ receipt_id: string }>(trx, receiptRows, RECEIPT_IF_NEW, 'receipt_id');
    await storeQuarantine(trx, quarantined, now);

    // Messages new to the database (nearly all, in a backlog) are inserted outright: their greatest
    // receipt is their final one. RETURNING names them; the insert's own key lookup is the only one.
    const pending = new Map(latest);
    const created = await insertPreparedReturning<{ guid: string }>(trx, newMessageRows, MESSAGE_IF_NEW, 'guid');
    for (const { guid } of created) {
      addsToUsage(pending.get(guid)!);
      pending.delete(guid);
    }

    // Messages already stored: a receipt wins only over the greatest one stored before. A message
    // another page inserted meanwhile is among them: its insert made ours wait for its commit.
    const existing = new Map<string, StoredMessage>();
    for (const m of await selectIn<StoredMessage>(trx,
      `SELECT guid, clinic_id, sent_at, status, charge_micros, final_receipt_id, final_status_at FROM outbound_messages WHERE guid IN {in}${lockStored}`, [...pending.keys()])) {
      existing.set(m.guid, m);
    }
    const changed: SqlValue[][] = [];
    for (const [guid, r] of pending) {
      const before = existing.get(guid);
      if (before === undefined) throw new Error('a message neither inserted nor found'); // cannot happen: fail the page, never miscount
      if (before.final_receipt_id !== null
        && compareReceiptOrder({ statusAtMs: Number(before.final_status_at), receiptId: before.final_receipt_id }, r) >= 0) continue;
      changed.push(messageRow(r, now));
      const was = sentContribution(before);
      deltas.sent(before.clinic_id, months.monthOf(Number(before.sent_at)), was.count, was.micros, -1);
      addsToUsage(r);
    }
    await insertRows(trx, 'outbound_messages', MESSAGE_COLUMNS, changed, MESSAGE_TAKES_RECEIPT);
    const usagePairs = await applyUsageDeltas(trx, deltas, now);
    await markClinicsSeen(trx, unique.map((r) => r.clinicId));
    await recordStreamProgress(trx, 'receipts', now, inserted.length);
    return { recorded: inserted.length, duplicates: receipts.length - inserted.length, usagePairs };
  });

  return {
    ...outcome,
    quarantined: quarantined.length,
    ackIds: ackIdsOf(unique.map((r) => r.receiptId), quarantined),
    dirtyPairs: 0,
  };
}

export async function recordInboundPage(
  knex: Knex,
  messages: readonly ValidInbound[],
  quarantined: readonly QuarantineEntry[],
  months: MonthBucketer,
  now: number = Date.now(),
): Promise<PageOutcome> {
  // Sorted by id, like receipts: rows shared with a page written beside this one are locked in one order.
  const unique = uniqueBy(messages, (m) => m.inboundId).sort((a, b) => byCodeUnit(a.inboundId, b.inboundId));

  // The transaction may run more than once (a deadlock on PostgreSQL): what it collects starts inside.
  const outcome = await pageTransaction(knex, async (trx) => {
    const dirty = new DirtyPairs();
    const deltas = new UsageDeltas();
    const existing = await existingIds(trx, 'inbound_messages', 'inbound_id', unique.map((m) => m.inboundId));
    await storeQuarantine(trx, quarantined, now);
    const candidates = unique.filter((m) => !existing.has(m.inboundId));
    const notes = await annotateInbound(trx, candidates);
    // New replies are unread, a blocked number's hidden and read (src/office/conversations.ts).
    const flags = await flagsForNewReplies(trx, candidates);
    // Only replies THIS insert stored are matched, counted and acted on: a replayed page changes
    // nothing, and of two pages holding one reply at once (PostgreSQL) only the one whose insert
    // stored it acts on it (the other's insert waits for that commit, then stores nothing).
    const inserted = new Set((await insertRowsReturning<{ inbound_id: string }>(
      trx,
      'inbound_messages',
      ['inbound_id', 'clinic_id', 'from_phone', 'to_phone', 'body', 'received_at', 'charge_micros', 'segments', 'recorded_at', 'patient_id', 'match_count', 'keyword',
        'is_read', 'hidden'],
      candidates.map((m) => {
        const note = notes.get(m.inboundId)!;
        const flag = flags.get(m.inboundId)!;
        return [m.inboundId, m.clinicId, m.fromPhone, m.toPhone, m.body, m.receivedAtMs, m.chargeMicros, m.segments, now, note.patientId, note.matchCount, note.keyword,
          flag.isRead, flag.hidden];
      }),
      'ON CONFLICT (inbound_id) DO NOTHING',
      'inbound_id',
    )).map((r) => r.inbound_id));
    const fresh = candidates.filter((m) => inserted.has(m.inboundId));
    await noteActivity(trx, fresh.map((m) => ({
      phone: m.fromPhone, clinicId: m.clinicId, at: m.receivedAtMs, direction: 'in' as const, ref: m.inboundId,
      unread: flags.get(m.inboundId)!.isRead ? 0 as const : 1 as const,
    })));
    // The office's side (its automatic texts above all) runs on the daemon's calendar clock, like the send path (src/office/send.ts).
    const officeNow = months.now();
    const replies = await actOnNewInbound(trx, fresh, notes, officeNow);
    for (const r of replies) dirty.add(r.clinicId, months.monthOf(officeNow));
    // Each reply new to the database adds itself to its (clinic, month): a replay adds nothing.
    for (const m of fresh) deltas.received(m.clinicId, months.monthOf(m.receivedAtMs), m.chargeMicros);
    // The rows every page shares (usage, clinics, marks, the stream's progress) come last, so a
    // page beside this one waits for them only through this page's commit.
    const usagePairs = await applyUsageDeltas(trx, deltas, now);
    await markClinicsSeen(trx, unique.map((m) => m.clinicId));
    await markUsageDirty(trx, dirty.pairs());
    await recordStreamProgress(trx, 'inbound', now, fresh.length);
    return { recorded: fresh.length, duplicates: messages.length - fresh.length, sendGuids: replies.map((r) => r.guid), usagePairs, dirtyPairs: dirty.size };
  });

  return {
    ...outcome,
    quarantined: quarantined.length,
    ackIds: ackIdsOf(unique.map((m) => m.inboundId), quarantined),
  };
}

/** The ids of `ids` already stored in `table`. */
async function existingIds(trx: Knex.Transaction, table: string, idColumn: string, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const r of await selectIn<{ id: string }>(trx, `SELECT ${idColumn} AS id FROM ${table} WHERE ${idColumn} IN {in}`, ids)) found.add(r.id);
  return found;
}

/** The ids to acknowledge for a page: its valid items' and its quarantined items' that have one. */
export function ackIdsOf(validIds: readonly string[], quarantined: readonly QuarantineEntry[]): string[] {
  const ids = new Set(validIds);
  for (const q of quarantined) if (q.ackId !== null) ids.add(q.ackId);
  return [...ids];
}
