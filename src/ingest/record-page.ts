/**
 * Records one HQ page in ONE database transaction: the page's valid items as idempotent upserts
 * keyed by their ids, its bad items in quarantine, the clinics it names, and the (clinic, month)
 * usage pairs it changed. The caller acknowledges the page to HQ only after this resolves.
 *
 * Replaying any page, in any order, any number of times, changes nothing: receipts and inbound
 * messages are insert-or-ignore by id, and a message's final state is recomputed from ALL its
 * stored receipts by the contract's rule (latest statusAt, then greatest receiptId), never
 * accumulated.
 */
import type { Knex } from '@mikro-orm/knex';
import { chunks, insertRows, rowsOf, type SqlValue } from '../db/bulk-sql';
import type { ValidInbound, ValidReceipt } from '../hq/schemas';
import type { MonthBucketer } from '../usage/month';
import { pickFinal } from './final-receipt';
import { recordStreamOk } from './stream-state';
import type { QuarantineEntry } from './validate';

export type StreamName = 'receipts' | 'inbound';

export interface PageOutcome {
  /** Items newly stored (not seen before). */
  recorded: number;
  /** Items already stored (redeliveries). */
  duplicates: number;
  quarantined: number;
  /** Ids to acknowledge to HQ once the transaction has committed. */
  ackIds: string[];
  dirtyPairs: number;
}

interface StoredReceipt {
  receipt_id: string;
  guid: string;
  clinic_id: number;
  status: string;
  charge_micros: number;
  segments: number;
  sent_at: number;
  status_at: number;
}

interface StoredMessage {
  guid: string;
  clinic_id: number;
  sent_at: number;
  final_receipt_id: string | null;
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
  rows(): SqlValue[][] {
    return [...this.keys].map((k) => {
      const [clinic, month] = k.split('|');
      return [Number(clinic), month!, 1];
    });
  }
}

/** Last write wins inside one page too: HQ may hand the same item twice in one page. */
function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(key(item), item);
  return [...seen.values()];
}

async function addRecorded(trx: Knex.Transaction, stream: StreamName, recorded: number): Promise<void> {
  if (recorded > 0) await trx.raw('UPDATE stream_state SET items_recorded = items_recorded + ? WHERE stream = ?', [recorded, stream]);
}

/** An empty page is still a good poll: readiness judges the age of the last one. */
export async function markStreamPolled(knex: Knex, stream: StreamName, now: number = Date.now()): Promise<void> {
  await recordStreamOk(knex, stream, now);
}

async function storeQuarantine(trx: Knex.Transaction, entries: readonly QuarantineEntry[], now: number): Promise<void> {
  const unique = uniqueBy(entries, (e) => `${e.kind}|${e.itemKey}`);
  await insertRows(
    trx,
    'quarantine',
    ['kind', 'item_key', 'ack_id', 'raw', 'reason', 'first_seen_at', 'last_seen_at', 'times_seen'],
    unique.map((e) => [e.kind, e.itemKey, e.ackId, e.raw, e.reason, now, now, 1]),
    'ON CONFLICT (kind, item_key) DO UPDATE SET last_seen_at = excluded.last_seen_at, times_seen = quarantine.times_seen + 1',
  );
}

async function markClinicsSeen(trx: Knex.Transaction, clinicIds: Iterable<number>): Promise<void> {
  const ids = [...new Set(clinicIds)];
  await insertRows(trx, 'clinics', ['clinic_id', 'seen_in_traffic'], ids.map((id) => [id, true]),
    'ON CONFLICT (clinic_id) DO UPDATE SET seen_in_traffic = excluded.seen_in_traffic');
}

async function markDirty(trx: Knex.Transaction, dirty: DirtyPairs): Promise<void> {
  await insertRows(trx, 'usage_dirty', ['clinic_id', 'month', 'version'], dirty.rows(),
    'ON CONFLICT (clinic_id, month) DO UPDATE SET version = usage_dirty.version + 1');
}

async function countExisting(trx: Knex.Transaction, table: string, idColumn: string, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(ids)) {
    const rows = rowsOf<{ n: number | string }>(
      await trx.raw(`SELECT COUNT(*) AS n FROM ${table} WHERE ${idColumn} IN (${part.map(() => '?').join(', ')})`, part),
    );
    n += Number(rows[0]?.n ?? 0);
  }
  return n;
}

export async function recordReceiptsPage(
  knex: Knex,
  receipts: readonly ValidReceipt[],
  quarantined: readonly QuarantineEntry[],
  months: MonthBucketer,
  now: number = Date.now(),
): Promise<PageOutcome> {
  const unique = uniqueBy(receipts, (r) => r.receiptId);
  const guids = [...new Set(unique.map((r) => r.guid))];
  const dirty = new DirtyPairs();

  const outcome = await knex.transaction(async (trx) => {
    // The first statement is a write: on SQLite it takes the write lock up front (waiting on
    // busy_timeout), so no later write in this transaction can fail on a stale read snapshot.
    await recordStreamOk(trx, 'receipts', now);
    const already = await countExisting(trx, 'receipts', 'receipt_id', unique.map((r) => r.receiptId));
    await addRecorded(trx, 'receipts', unique.length - already);
    await storeQuarantine(trx, quarantined, now);
    await insertRows(
      trx,
      'receipts',
      ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'],
      unique.map((r) => [r.receiptId, r.guid, r.clinicId, r.status, r.chargeMicros, r.segments, r.countryCode, r.sentAtMs, r.statusAtMs, now]),
      'ON CONFLICT (receipt_id) DO NOTHING',
    );

    // Recompute each touched message's final state from every receipt stored for it.
    const byGuid = new Map<string, StoredReceipt[]>();
    const existing = new Map<string, StoredMessage>();
    for (const part of chunks(guids)) {
      const marks = part.map(() => '?').join(', ');
      for (const r of rowsOf<StoredReceipt>(await trx.raw(
        `SELECT receipt_id, guid, clinic_id, status, charge_micros, segments, sent_at, status_at FROM receipts WHERE guid IN (${marks})`, part))) {
        const list = byGuid.get(r.guid);
        if (list) list.push(r);
        else byGuid.set(r.guid, [r]);
      }
      for (const m of rowsOf<StoredMessage>(await trx.raw(
        `SELECT guid, clinic_id, sent_at, final_receipt_id FROM outbound_messages WHERE guid IN (${marks})`, part))) {
        existing.set(m.guid, m);
      }
    }

    const changed: SqlValue[][] = [];
    for (const [guid, list] of byGuid) {
      const final = pickFinal(list.map((r) => ({ ...r, receiptId: r.receipt_id, statusAtMs: Number(r.status_at) })));
      if (!final) continue;
      const before = existing.get(guid);
      if (before?.final_receipt_id === final.receipt_id) continue; // a replay: nothing changes
      const sentAt = Number(final.sent_at);
      changed.push([guid, final.clinic_id, sentAt, final.status, Number(final.charge_micros), final.segments, final.receipt_id, Number(final.status_at), 'hq', now]);
      dirty.add(final.clinic_id, months.monthOf(sentAt));
      if (before) dirty.add(before.clinic_id, months.monthOf(Number(before.sent_at)));
    }
    await insertRows(
      trx,
      'outbound_messages',
      ['guid', 'clinic_id', 'sent_at', 'status', 'charge_micros', 'segments', 'final_receipt_id', 'final_status_at', 'origin', 'created_at'],
      changed,
      `ON CONFLICT (guid) DO UPDATE SET clinic_id = excluded.clinic_id, sent_at = excluded.sent_at, status = excluded.status,
         charge_micros = excluded.charge_micros, segments = excluded.segments,
         final_receipt_id = excluded.final_receipt_id, final_status_at = excluded.final_status_at`,
    );
    await markClinicsSeen(trx, unique.map((r) => r.clinicId));
    await markDirty(trx, dirty);
    return { recorded: unique.length - already, duplicates: receipts.length - (unique.length - already) };
  });

  return {
    ...outcome,
    quarantined: quarantined.length,
    ackIds: ackIdsOf(unique.map((r) => r.receiptId), quarantined),
    dirtyPairs: dirty.size,
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
  for (const m of unique) dirty.add(m.clinicId, months.monthOf(m.receivedAtMs));

  const outcome = await knex.transaction(async (trx) => {
    // The first statement is a write: on SQLite it takes the write lock up front (waiting on
    // busy_timeout), so no later write in this transaction can fail on a stale read snapshot.
    await recordStreamOk(trx, 'inbound', now);
    const already = await countExisting(trx, 'inbound_messages', 'inbound_id', unique.map((m) => m.inboundId));
    await addRecorded(trx, 'inbound', unique.length - already);
    await storeQuarantine(trx, quarantined, now);
    await insertRows(
      trx,
      'inbound_messages',
      ['inbound_id', 'clinic_id', 'from_phone', 'to_phone', 'body', 'received_at', 'charge_micros', 'segments', 'recorded_at'],
      unique.map((m) => [m.inboundId, m.clinicId, m.fromPhone, m.toPhone, m.body, m.receivedAtMs, m.chargeMicros, m.segments, now]),
      'ON CONFLICT (inbound_id) DO NOTHING',
    );
    await markClinicsSeen(trx, unique.map((m) => m.clinicId));
    // Marking a pair a replay did not change costs one recompute, never a wrong number.
    await markDirty(trx, dirty);
    return { recorded: unique.length - already, duplicates: messages.length - (unique.length - already) };
  });

  return {
    ...outcome,
    quarantined: quarantined.length,
    ackIds: ackIdsOf(unique.map((m) => m.inboundId), quarantined),
    dirtyPairs: dirty.size,
  };
}

function ackIdsOf(validIds: readonly string[], quarantined: readonly QuarantineEntry[]): string[] {
  const ids = new Set(validIds);
  for (const q of quarantined) if (q.ackId !== null) ids.add(q.ackId);
  return [...ids];
}
