/**
 * Records one page of patient replies in ONE transaction through knex (both engines: the SQLite
 * page store runs it on its writer thread, through knex on that thread's better-sqlite3 connection,
 * src/ingest/sqlite-page-writer.ts; the PostgreSQL one on the pool; tests on the ORM's knex): the
 * replies new to the database with the office's upkeep (matching, commlog, keywords, automatic
 * texts, conversations: src/office/inbound.ts, src/office/conversations.ts), the page's bad items
 * in quarantine, the clinics it names, the stream's progress, and the exact usage deltas.
 *
 * Replies are insert-or-ignore by inboundId, and only the replies this page's insert stored are
 * matched and acted on, so a replayed page changes nothing, and of two pages holding one reply at
 * once (PostgreSQL, src/db/pg-serialized.ts) only one acts on it. Each new reply adds itself to its (clinic,
 * month); office replies it causes mark their pair dirty for the recompute job.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, insertRowsReturning, rowsOf, selectIn } from '../db/bulk-sql';
import { pageTransaction } from '../db/pg-serialized';
import { applyUsageDeltas, UsageDeltas } from '../usage/aggregates';
import type { MonthBucketer } from '../usage/month';
import { CLINIC_SEEN, QUARANTINE_COLUMNS, QUARANTINE_SEEN_AGAIN, quarantineRow, STREAM_PROGRESS } from './page-sql';
import { ackIdsOf, byCodeUnit, uniqueBy } from './page-merge';
import type { PageOutcome } from './page-store';
import type { ValidInbound, QuarantineEntry } from '../hq/items';
import { recordStreamOk } from '../db/store/stream-state';
import { markUsageDirty } from '../db/store/usage-dirty';
import type { HqStream } from '../texting/streams';
import { actOnNewInbound, annotateInbound } from '../office/inbound';
import { flagsForNewReplies, noteActivity } from '../office/conversations';
import { foldPending } from '../office/conversation-fold';

/** Set of `${clinicId}|${month}` keys. */
class DirtyPairs {
  private readonly keys = new Set<string>();
  add(clinicId: number, month: string): void {
    this.keys.add(`${clinicId}|${month}`);
  }
  pairs(): Array<[clinicId: number, month: string]> {
    return [...this.keys].map((k) => {
      const [clinic, month] = k.split('|');
      return [Number(clinic), month!];
    });
  }
}

export async function storeQuarantine(trx: Knex.Transaction, entries: readonly QuarantineEntry[], now: number): Promise<void> {
  const unique = uniqueBy(entries, (e) => `${e.kind}|${e.itemKey}`).sort((a, b) => byCodeUnit(a.kind, b.kind) || byCodeUnit(a.itemKey, b.itemKey));
  await insertRows(trx, 'quarantine', QUARANTINE_COLUMNS, unique.map((e) => quarantineRow(e, now)), QUARANTINE_SEEN_AGAIN);
}

/**
 * Marks the clinics a page names as seen in traffic. Nearly always they all are already: a read
 * finds that and writes nothing, so pages side by side (PostgreSQL) do not queue on the clinic
 * rows (an upsert locks the row it conflicts with even when its WHERE then changes nothing).
 */
export async function markClinicsSeen(trx: Knex.Transaction, clinicIds: Iterable<number>): Promise<void> {
  const ids = [...new Set(clinicIds)].sort((a, b) => a - b);
  if (ids.length === 0) return;
  const seen = new Set(rowsOf<{ clinic_id: number | string }>(await trx.raw(
    `SELECT clinic_id FROM clinics WHERE seen_in_traffic AND clinic_id IN (${ids.map(() => '?').join(', ')})`, ids)).map((r) => Number(r.clinic_id)));
  await insertRows(trx, 'clinics', ['clinic_id', 'seen_in_traffic'], ids.filter((id) => !seen.has(id)).map((id) => [id, true]), CLINIC_SEEN);
}

export async function recordStreamProgress(trx: Knex.Transaction, stream: HqStream, now: number, recorded: number): Promise<void> {
  await insertRows(trx, 'stream_state', ['stream', 'last_ok_at', 'items_recorded'], [[stream, now, recorded]], STREAM_PROGRESS);
}

/**
 * The outcome of a page with no item: still a good poll (readiness judges the age of the last one).
 * No reply waiting is the end of any backlog, so the conversation activity its pages appended is
 * folded now (src/office/conversation-fold.ts).
 */
export async function recordEmptyPoll(knex: Knex, stream: HqStream, now: number): Promise<PageOutcome> {
  await recordStreamOk(knex, stream, now);
  if (stream === 'inbound') await foldPending(knex);
  return { recorded: 0, duplicates: 0, quarantined: 0, ackIds: [], usagePairs: 0, sendGuids: [] };
}

export async function recordInboundPage(
  knex: Knex,
  messages: readonly ValidInbound[],
  quarantined: readonly QuarantineEntry[],
  months: MonthBucketer,
  now: number = Date.now(),
): Promise<PageOutcome> {
  if (messages.length === 0 && quarantined.length === 0) return recordEmptyPoll(knex, 'inbound', now);
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
    return { recorded: fresh.length, duplicates: messages.length - fresh.length, sendGuids: replies.map((r) => r.guid), usagePairs };
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

