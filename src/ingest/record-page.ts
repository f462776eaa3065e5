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
import { insertPreparedReturning, insertRows, PreparedRows, selectIn, type SqlValue } from '../db/bulk-sql';
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

async function addRecorded(trx: Knex.Transaction, stream: HqStream, recorded: number): Promise<void> {
  if (recorded > 0) await trx.raw('UPDATE stream_state SET items_recorded = items_recorded + ? WHERE stream = ?', [recorded, stream]);
}

/** An empty page is still a good poll: readiness judges the age of the last one. */
export async function markStreamPolled(knex: Knex, stream: HqStream, now: number = Date.now()): Promise<void> {
  await recordStreamOk(knex, stream, now);
}

async function storeQuarantine(trx: Knex.Transaction, entries: readonly QuarantineEntry[], now: number): Promise<void> {
  const unique = uniqueBy(entries, (e) => `${e.kind}|${e.itemKey}`);
  await insertRows(trx, 'quarantine', QUARANTINE_COLUMNS, unique.map((e) => quarantineRow(e, now)), QUARANTINE_SEEN_AGAIN);
}

async function markClinicsSeen(trx: Knex.Transaction, clinicIds: Iterable<number>): Promise<void> {
  const ids = [...new Set(clinicIds)];
  await insertRows(trx, 'clinics', ['clinic_id', 'seen_in_traffic'], ids.map((id) => [id, true]), CLINIC_SEEN);
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
  const unique = uniqueBy(receipts, (r) => r.receiptId);
  const deltas = new UsageDeltas();
  const addsToUsage = (r: ValidReceipt): void => {
    const is = sentContribution({ status: r.status, charge_micros: r.chargeMicros });
    deltas.sent(r.clinicId, months.monthOf(r.sentAtMs), is.count, is.micros, 1);
  };

  // Everything that does not depend on what is stored is built before the transaction begins, so
  // it overlaps the other stream's transaction instead of holding the one connection.
  const receiptRows = new PreparedRows(knex, 'receipts', RECEIPT_COLUMNS, unique.map((r) => receiptRow(r, now)));
  // The greatest receipt of each message in the page (stored ones may take part: page-sql.ts).
  const latest = greatestPerMessage(unique);
  const newMessageRows = new PreparedRows(knex, 'outbound_messages', MESSAGE_COLUMNS, [...latest.values()].map((r) => messageRow(r, now)));

  const outcome = await knex.transaction(async (trx) => {
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

    // Messages already stored: a receipt wins only over the greatest one stored before.
    const existing = new Map<string, StoredMessage>();
    for (const m of await selectIn<StoredMessage>(trx,
      'SELECT guid, clinic_id, sent_at, status, charge_micros, final_receipt_id, final_status_at FROM outbound_messages WHERE guid IN {in}', [...pending.keys()])) {
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
  const unique = uniqueBy(messages, (m) => m.inboundId);
  const dirty = new DirtyPairs();
  const deltas = new UsageDeltas();
  let usagePairs = 0;

  const outcome = await knex.transaction(async (trx) => {
    // The first statement is a write: on SQLite it takes the write lock up front (waiting on
    // busy_timeout), so no later write in this transaction can fail on a stale read snapshot.
    await recordStreamOk(trx, 'inbound', now);
    const existing = await existingIds(trx, 'inbound_messages', 'inbound_id', unique.map((m) => m.inboundId));
    const already = existing.size;
    // Only replies new to the database are matched and acted on: a replayed page changes nothing.
    const fresh = unique.filter((m) => !existing.has(m.inboundId));
    await addRecorded(trx, 'inbound', unique.length - already);
    await storeQuarantine(trx, quarantined, now);
    const notes = await annotateInbound(trx, fresh);
    // New replies are unread, a blocked number's hidden and read (src/office/conversations.ts).
    const flags = await flagsForNewReplies(trx, fresh);
    await insertRows(
      trx,
      'inbound_messages',
      ['inbound_id', 'clinic_id', 'from_phone', 'to_phone', 'body', 'received_at', 'charge_micros', 'segments', 'recorded_at', 'patient_id', 'match_count', 'keyword',
        'is_read', 'hidden'],
      fresh.map((m) => {
        const note = notes.get(m.inboundId)!;
        const flag = flags.get(m.inboundId)!;
        return [m.inboundId, m.clinicId, m.fromPhone, m.toPhone, m.body, m.receivedAtMs, m.chargeMicros, m.segments, now, note.patientId, note.matchCount, note.keyword,
          flag.isRead, flag.hidden];
      }),
      'ON CONFLICT (inbound_id) DO NOTHING',
    );
    await noteActivity(trx, fresh.map((m) => ({
      phone: m.fromPhone, clinicId: m.clinicId, at: m.receivedAtMs, direction: 'in' as const, ref: m.inboundId,
      unread: flags.get(m.inboundId)!.isRead ? 0 as const : 1 as const,
    })));
    const replies = await actOnNewInbound(trx, fresh, notes, now);
    for (const r of replies) dirty.add(r.clinicId, months.monthOf(now));
    // Each reply new to the database adds itself to its (clinic, month): a replay adds nothing.
    for (const m of fresh) deltas.received(m.clinicId, months.monthOf(m.receivedAtMs), m.chargeMicros);
    usagePairs = await applyUsageDeltas(trx, deltas, now);
    await markClinicsSeen(trx, unique.map((m) => m.clinicId));
    await markUsageDirty(trx, dirty.pairs());
    return { recorded: unique.length - already, duplicates: messages.length - (unique.length - already), sendGuids: replies.map((r) => r.guid) };
  });

  return {
    ...outcome,
    quarantined: quarantined.length,
    ackIds: ackIdsOf(unique.map((m) => m.inboundId), quarantined),
    dirtyPairs: dirty.size,
    usagePairs,
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
