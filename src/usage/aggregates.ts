/**
 * Monthly usage per (clinic, month), precomputed so that /status never scans messages.
 *
 * Ingestion marks the (clinic, month) pairs a page changed in `usage_dirty` inside the page's own
 * transaction; this module recomputes exactly those pairs from the message tables (one grouped,
 * index-only query per month) and clears each mark only if its version is unchanged, so a page
 * committed while we computed leaves its mark for the next run. Recomputing from the rows rather
 * than adding deltas makes the result self-healing: any replay or reorder converges.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, rowsOf, type SqlValue } from '../db/bulk-sql';
import type { MonthBucketer, MonthKey } from './month';
import { recordStreamOk } from '../ingest/stream-state';

interface DirtyRow {
  clinic_id: number;
  month: string;
  version: number;
}

interface SumRow {
  clinic_id: number;
  n: number | string;
  micros: number | string | null;
}

export interface RecomputeOutcome {
  pairs: number;
  months: number;
  /** Pairs left dirty because a page marked them again while we computed. */
  remarked: number;
}

const MAX_PAIRS_PER_RUN = 20_000;

export async function recomputeDirtyUsage(knex: Knex, months: MonthBucketer, now: number = Date.now()): Promise<RecomputeOutcome> {
  const dirty = rowsOf<DirtyRow>(await knex.raw(`SELECT clinic_id, month, version FROM usage_dirty LIMIT ${MAX_PAIRS_PER_RUN}`));
  const byMonth = new Map<MonthKey, DirtyRow[]>();
  for (const d of dirty) {
    const list = byMonth.get(d.month);
    if (list) list.push(d);
    else byMonth.set(d.month, [d]);
  }

  const usageRows: SqlValue[][] = [];
  const emptyPairs: DirtyRow[] = [];
  for (const [month, pairs] of byMonth) {
    const { startMs, endMs } = months.range(month);
    const clinicIds = pairs.map((p) => p.clinic_id);
    const marks = clinicIds.map(() => '?').join(', ');
    const sent = sumsByClinic(await knex.raw(
      `SELECT clinic_id, COUNT(*) AS n, SUM(COALESCE(charge_micros, 0)) AS micros FROM outbound_messages
        WHERE clinic_id IN (${marks}) AND sent_at >= ? AND sent_at < ? GROUP BY clinic_id`, [...clinicIds, startMs, endMs]));
    const received = sumsByClinic(await knex.raw(
      `SELECT clinic_id, COUNT(*) AS n, SUM(charge_micros) AS micros FROM inbound_messages
        WHERE clinic_id IN (${marks}) AND received_at >= ? AND received_at < ? GROUP BY clinic_id`, [...clinicIds, startMs, endMs]));
    for (const pair of pairs) {
      const s = sent.get(pair.clinic_id) ?? { n: 0, micros: 0 };
      const r = received.get(pair.clinic_id) ?? { n: 0, micros: 0 };
      if (s.n === 0 && r.n === 0) emptyPairs.push(pair);
      else usageRows.push([month, pair.clinic_id, s.n, s.micros, r.n, r.micros, now]);
    }
  }

  let remarked = 0;
  await knex.transaction(async (trx) => {
    // Write first (see record-page.ts): takes SQLite's write lock before anything is read.
    await recordStreamOk(trx, 'aggregates', now);
    await insertRows(trx, 'monthly_usage',
      ['month', 'clinic_id', 'sent_count', 'sent_charge_micros', 'received_count', 'received_charge_micros', 'computed_at'], usageRows,
      `ON CONFLICT (month, clinic_id) DO UPDATE SET sent_count = excluded.sent_count, sent_charge_micros = excluded.sent_charge_micros,
         received_count = excluded.received_count, received_charge_micros = excluded.received_charge_micros, computed_at = excluded.computed_at`);
    for (const pair of emptyPairs) {
      await trx.raw('DELETE FROM monthly_usage WHERE month = ? AND clinic_id = ?', [pair.month, pair.clinic_id]);
    }
    for (const pair of dirty) {
      // The query builder (not raw SQL) reports affected rows on every driver.
      const deleted = await trx('usage_dirty').where({ clinic_id: pair.clinic_id, month: pair.month, version: pair.version }).del();
      if (deleted === 0) remarked += 1;
    }
  });
  return { pairs: dirty.length, months: byMonth.size, remarked };
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
  const rows: SqlValue[][] = [];
  if (bounds?.lo != null && bounds.hi != null) {
    const last = months.monthOf(Number(bounds.hi));
    for (let m = months.monthOf(Number(bounds.lo)); m <= last; m = months.shift(m, 1)) {
      for (const c of clinics) rows.push([c.clinic_id, m, 1]);
    }
  }
  await knex.transaction(async (trx) => {
    await trx.raw('DELETE FROM monthly_usage');
    await insertRows(trx, 'usage_dirty', ['clinic_id', 'month', 'version'], rows,
      'ON CONFLICT (clinic_id, month) DO UPDATE SET version = usage_dirty.version + 1');
  });
  return rows.length;
}

function sumsByClinic(result: unknown): Map<number, { n: number; micros: number }> {
  const out = new Map<number, { n: number; micros: number }>();
  for (const row of rowsOf<SumRow>(result)) out.set(Number(row.clinic_id), { n: Number(row.n), micros: Number(row.micros ?? 0) });
  return out;
}
