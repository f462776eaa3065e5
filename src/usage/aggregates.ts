/**
 * Monthly usage per (clinic, month), precomputed so that /status never scans messages.
 *
 * Two ways keep `monthly_usage` right, both inside the transaction that changes the messages:
 *
 * - The hot paths (recording a page of receipts or inbound messages, src/ingest/page-store.ts)
 *   apply exact DELTAS: each message row they insert or change moves its contribution (one message
 *   and its charge, see `sentContribution`) from its old (clinic, month) to its new one. A page of
 *   1,000 receipts touching every clinic of a 1,000,000-message month costs one small upsert, where
 *   recomputing those pairs would scan the month (BENCHMARKS.md). Replays change no row, so they
 *   change no delta: exactly once holds for the sums as for the rows.
 * - Everything else (office sends, a change of OFFICE_TZ, repairs) marks (clinic, month) pairs in
 *   `usage_dirty`; this module recomputes exactly those pairs from the message tables (one grouped,
 *   index-only query per month) and clears each mark if its version is unchanged.
 *
 * They never race: a recompute reads and writes in ONE write transaction that no page overlaps
 * (SQLite has one writer, transactions begin IMMEDIATE, src/db/sqlite-immediate.ts; on PostgreSQL
 * it takes the write lock exclusive while pages hold it shared, src/db/pg-serialized.ts), so it
 * sees every committed delta's rows, and every later delta lands on its result. The recompute stays the self-healing path:
 * marking a pair dirty always converges it to the rows.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, rowsOf, type SqlValue } from '../db/bulk-sql';
import { recordStreamOk } from '../db/store/stream-state';
import { clearUsageDirty, dirtyMarksOf, dirtyMonths, markUsageDirty, type UsageDirtyMark } from '../db/store/usage-dirty';
import type { MonthBucketer, MonthKey } from './month';

interface SumRow {
  clinic_id: number;
  n: number | string;
  micros: number | string | null;
}

export interface RecomputeOutcome {
  pairs: number;
  months: number;
  /** Pairs left dirty because something marked them again while we computed (0 on SQLite, where the recompute holds the writer). */
  remarked: number;
}

const MAX_PAIRS_PER_RUN = 20_000;
/** outbound_messages.status of an office message that HQ refused (4xx): never sent, never counted. */
export const REFUSED_STATUS = 'failed';

/** The usage row columns, in the order deltas and recomputes write them. */
export const USAGE_COLUMNS = ['month', 'clinic_id', 'sent_count', 'sent_charge_micros', 'received_count', 'received_charge_micros', 'computed_at'];

/**
 * What one outbound_messages row adds to its (clinic, month) pair: the recompute's query below,
 * row by row. A message HQ refused (status 'failed') was never sent and adds nothing; a message
 * with no receipt yet adds itself with no charge. Keep the two in step.
 */
export function sentContribution(row: { status: string; charge_micros: number | string | null }): { count: number; micros: number } {
  return row.status === REFUSED_STATUS ? { count: 0, micros: 0 } : { count: 1, micros: Number(row.charge_micros ?? 0) };
}

/** Changes to monthly usage collected while recording one page, applied in the page's transaction. */
export class UsageDeltas {
  private readonly byPair = new Map<string, [clinicId: number, month: MonthKey, sentCount: number, sentMicros: number, receivedCount: number, receivedMicros: number]>();

  private entry(clinicId: number, month: MonthKey) {
    const key = `${clinicId}|${month}`;
    let e = this.byPair.get(key);
    if (!e) this.byPair.set(key, (e = [clinicId, month, 0, 0, 0, 0]));
    return e;
  }

  /** sign +1 adds a message's contribution, -1 takes it away (the row as it was before the change). */
  sent(clinicId: number, month: MonthKey, count: number, micros: number, sign: 1 | -1): void {
    if (count === 0 && micros === 0) return;
    const e = this.entry(clinicId, month);
    e[2] += sign * count;
    e[3] += sign * micros;
  }

  received(clinicId: number, month: MonthKey, micros: number): void {
    const e = this.entry(clinicId, month);
    e[4] += 1;
    e[5] += micros;
  }

  /**
   * Pairs whose usage actually changes, in the table's key order (month, clinic): pages written side
   * by side (PostgreSQL) lock the rows they share in one order, so they wait instead of deadlocking.
   */
  rows(now: number): SqlValue[][] {
    const out: Array<[MonthKey, number, number, number, number, number, number]> = [];
    for (const [clinicId, month, sc, sm, rc, rm] of this.byPair.values()) {
      if (sc !== 0 || sm !== 0 || rc !== 0 || rm !== 0) out.push([month, clinicId, sc, sm, rc, rm, now]);
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  }
}

/** A usage row (USAGE_COLUMNS) of deltas adds itself to the stored pair (a pair with no row yet counts from zero). */
export const USAGE_ADDS_DELTA = `ON CONFLICT (month, clinic_id) DO UPDATE SET sent_count = monthly_usage.sent_count + excluded.sent_count,
       sent_charge_micros = monthly_usage.sent_charge_micros + excluded.sent_charge_micros,
       received_count = monthly_usage.received_count + excluded.received_count,
       received_charge_micros = monthly_usage.received_charge_micros + excluded.received_charge_micros,
       computed_at = excluded.computed_at`;

/** Adds the deltas to monthly_usage (a pair with no row yet counts from zero). Returns the pairs changed. */
export async function applyUsageDeltas(trx: Knex | Knex.Transaction, deltas: UsageDeltas, now: number): Promise<number> {
  const rows = deltas.rows(now);
  await insertRows(trx, 'monthly_usage', USAGE_COLUMNS, rows, USAGE_ADDS_DELTA);
  return rows.length;
}

export async function recomputeDirtyUsage(knex: Knex, months: MonthBucketer, now: number = Date.now()): Promise<RecomputeOutcome> {
  let pairs = 0;
  let remarked = 0;
  let done = 0;
  for (const month of await dirtyMonths(knex)) {
    if (pairs >= MAX_PAIRS_PER_RUN) break;
    const outcome = await recomputeMonth(knex, months, month, MAX_PAIRS_PER_RUN - pairs, now);
    pairs += outcome.pairs;
    remarked += outcome.remarked;
    done++;
  }
  // The heartbeat /status shows as aggregatesComputedAt (deltas keep usage current in between):
  // one statement, outside a transaction, so it never waits for (or holds up) the pages.
  await recordStreamOk(knex, 'aggregates', now);
  return { pairs, months: done, remarked };
}

/**
 * Recomputes a month's dirty pairs in ONE write transaction: the marks, the message rows and the
 * result are read and written atomically against every page's deltas, and no transaction holds
 * the writer for more than one month's scan.
 */
async function recomputeMonth(knex: Knex, months: MonthBucketer, month: MonthKey, limit: number, now: number): Promise<{ pairs: number; remarked: number }> {
  const { startMs, endMs } = months.range(month);
  return knex.transaction(async (trx) => {
    const pairs = await dirtyMarksOf(trx, month, limit);
    if (pairs.length === 0) return { pairs: 0, remarked: 0 };
    const clinicIds = pairs.map((p) => p.clinic_id);
    const marks = clinicIds.map(() => '?').join(', ');
    // A message HQ refused (status 'failed', set by the send worker) was never sent: it does not count.
    const sent = sumsByClinic(await trx.raw(
      `SELECT clinic_id, COUNT(*) AS n, CAST(SUM(COALESCE(charge_micros, 0)) AS TEXT) AS micros FROM outbound_messages
        WHERE clinic_id IN (${marks}) AND sent_at >= ? AND sent_at < ? AND status <> ? GROUP BY clinic_id`, [...clinicIds, startMs, endMs, REFUSED_STATUS]));
    const received = sumsByClinic(await trx.raw(
      `SELECT clinic_id, COUNT(*) AS n, CAST(SUM(charge_micros) AS TEXT) AS micros FROM inbound_messages
        WHERE clinic_id IN (${marks}) AND received_at >= ? AND received_at < ? GROUP BY clinic_id`, [...clinicIds, startMs, endMs]));
    const usageRows: SqlValue[][] = [];
    const emptyPairs: UsageDirtyMark[] = [];
    for (const pair of pairs) {
      const s = sent.get(pair.clinic_id) ?? { n: 0, micros: 0 as string | number };
      const r = received.get(pair.clinic_id) ?? { n: 0, micros: 0 as string | number };
      if (s.n === 0 && r.n === 0) emptyPairs.push(pair);
      else usageRows.push([month, pair.clinic_id, s.n, s.micros, r.n, r.micros, now]);
    }
    await insertRows(trx, 'monthly_usage', USAGE_COLUMNS, usageRows,
      `ON CONFLICT (month, clinic_id) DO UPDATE SET sent_count = excluded.sent_count, sent_charge_micros = excluded.sent_charge_micros,
         received_count = excluded.received_count, received_charge_micros = excluded.received_charge_micros, computed_at = excluded.computed_at`);
    if (emptyPairs.length > 0) {
      await trx.raw(`DELETE FROM monthly_usage WHERE month = ? AND clinic_id IN (${emptyPairs.map(() => '?').join(', ')})`,
        [month, ...emptyPairs.map((p) => p.clinic_id)]);
    }
    // The mark goes only if its version is the one read (always, inside this transaction; the check is cheap insurance).
    const cleared = await clearUsageDirty(trx, month, pairs);
    return { pairs: pairs.length, remarked: pairs.length - cleared };
  });
}

/**
 * Marks every (clinic, month) pair that can hold data dirty: used when the office's time zone
 * changed since the aggregates were computed (every bucket boundary moved) and to repair.
 */
export async function markAllUsageDirty(knex: Knex, months: MonthBucketer): Promise<number> {
  const bounds = rowsOf<{ lo: number | string | null; hi: number | string | null }>(await knex.raw(
    `SELECT MIN(t) AS lo, MAX(t) AS hi FROM (SELECT MIN(sent_at) AS t FROM outbound_messages UNION ALL SELECT MAX(sent_at) FROM outbound_messages
       UNION ALL SELECT MIN(received_at) FROM inbound_messages UNION ALL SELECT MAX(received_at) FROM inbound_messages) AS b`))[0];
  const clinics = rowsOf<{ clinic_id: number }>(await knex.raw('SELECT clinic_id FROM clinics'));
  const pairs: Array<[clinicId: number, month: MonthKey]> = [];
  if (bounds?.lo != null && bounds.hi != null) {
    const last = months.monthOf(Number(bounds.hi));
    for (let m = months.monthOf(Number(bounds.lo)); m <= last; m = months.shift(m, 1)) {
      for (const c of clinics) pairs.push([c.clinic_id, m]);
    }
  }
  await knex.transaction(async (trx) => {
    await trx.raw('DELETE FROM monthly_usage');
    await markUsageDirty(trx, pairs);
  });
  return pairs.length;
}

/** Sums come as text (CAST in the queries) and are written back as text: exact beyond 2^53. */
function sumsByClinic(result: unknown): Map<number, { n: number; micros: string | number }> {
  const out = new Map<number, { n: number; micros: string | number }>();
  for (const row of rowsOf<SumRow>(result)) out.set(Number(row.clinic_id), { n: Number(row.n), micros: row.micros == null ? 0 : String(row.micros) });
  return out;
}
