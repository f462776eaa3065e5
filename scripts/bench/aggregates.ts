/**
 * Benchmark 3: monthly usage aggregates on the month database (1,000,000 messages, 100 clinics).
 *
 * - Full recompute: every (clinic, month) pair of the month marked dirty, then the recompute job's
 *   function (recomputeDirtyUsage) timed, as the daemon runs it (knex on the sqlite3 driver).
 * - Incremental: one page of 1,000 receipts (900 new messages across all clinics, 100 later receipts
 *   of stored messages) recorded with recordReceiptsPage; the figure is the usage work that page
 *   causes: the usage statements inside its transaction plus the recompute job run after it.
 *
 * After each, monthly_usage is checked against a GROUP BY over the rows: fast and wrong is a fail.
 */
import type { Knex } from '@mikro-orm/knex';
import { openDatabase } from '../../src/db/orm';
import { rowsOf } from '../../src/db/bulk-sql';
import type { ValidReceipt } from '../../src/hq/items';
import { formatGuid, seededGuidWords } from '../../src/hq-mock/ids';
import { mulberry32, randInt } from '../../src/hq-mock/prng';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { recomputeDirtyUsage } from '../../src/usage/aggregates';
import { MonthBucketer } from '../../src/usage/month';
import { PRICE_MICROS, type MonthDb } from './month-db';
import { round } from './util';

export interface AggregatesResult {
  fullRecomputeMs: number[];
  /** Usage statements inside the page's transaction (ms). */
  pageUsageMs: number[];
  /** The recompute job run after the page (ms). */
  afterPageRecomputeMs: number[];
  /** pageUsageMs + afterPageRecomputeMs: what the page costs the aggregates. */
  incrementalMs: number[];
  /** The whole page transaction, for scale. */
  pageRecordMs: number[];
  correct: boolean;
  problems: string[];
}

interface Usage { clinic_id: number; sent_count: number; sent_charge_micros: number; received_count: number; received_charge_micros: number }

async function checkUsage(knex: Knex, db: MonthDb): Promise<string[]> {
  const stored = rowsOf<Usage>(await knex.raw('SELECT clinic_id, sent_count, sent_charge_micros, received_count, received_charge_micros FROM monthly_usage WHERE month = ? ORDER BY clinic_id', [db.month]));
  const sent = rowsOf<{ clinic_id: number; n: number; m: number }>(await knex.raw(
    `SELECT clinic_id, COUNT(*) AS n, SUM(COALESCE(charge_micros, 0)) AS m FROM outbound_messages WHERE sent_at >= ? AND sent_at < ? AND status <> 'failed' GROUP BY clinic_id`, [db.startMs, db.endMs]));
  const recv = rowsOf<{ clinic_id: number; n: number; m: number }>(await knex.raw(
    'SELECT clinic_id, COUNT(*) AS n, SUM(charge_micros) AS m FROM inbound_messages WHERE received_at >= ? AND received_at < ? GROUP BY clinic_id', [db.startMs, db.endMs]));
  const want = new Map<number, string>();
  for (const s of sent) want.set(s.clinic_id, `${s.n}/${s.m}/0/0`);
  for (const r of recv) {
    const [n, m] = (want.get(r.clinic_id) ?? '0/0/0/0').split('/');
    want.set(r.clinic_id, `${n}/${m}/${r.n}/${r.m}`);
  }
  const problems: string[] = [];
  const got = new Map(stored.map((u) => [u.clinic_id, `${u.sent_count}/${u.sent_charge_micros}/${u.received_count}/${u.received_charge_micros}`]));
  for (const [clinic, w] of want) if (got.get(clinic) !== w) problems.push(`clinic ${clinic}: monthly_usage ${got.get(clinic) ?? 'absent'}, rows ${w}`);
  if (got.size !== want.size) problems.push(`monthly_usage has ${got.size} clinics for the month, rows ${want.size}`);
  return problems.slice(0, 5);
}

/** A page of 1,000 receipts: 900 for new messages spread over every clinic, 100 later receipts of stored messages. */
async function makePage(knex: Knex, db: MonthDb, seed: number): Promise<ValidReceipt[]> {
  const rng = mulberry32(seed);
  const page: ValidReceipt[] = [];
  const base = db.startMs + Math.floor((db.endMs - db.startMs) * 0.5);
  for (let k = 0; k < 900; k++) {
    const w = seededGuidWords(rng);
    const sentAt = base + k * 1000;
    page.push({ receiptId: `r-page-${seed}-${String(k).padStart(6, '0')}`, guid: formatGuid(w[0], w[1], w[2], w[3]), clinicId: randInt(rng, 1, db.clinics),
      status: 'delivered', chargeMicros: PRICE_MICROS, segments: 1, countryCode: 'US', sentAtMs: sentAt, statusAtMs: sentAt + 4000 });
  }
  const picks = rowsOf<{ guid: string; clinic_id: number; sent_at: number; final_status_at: number }>(await knex.raw(
    `SELECT guid, clinic_id, sent_at, final_status_at FROM outbound_messages WHERE rowid % 9973 = ? AND origin = 'hq' LIMIT 100`, [seed % 9973]));
  for (const [k, m] of picks.entries()) {
    page.push({ receiptId: `r-page-${seed}-late-${String(k).padStart(4, '0')}`, guid: m.guid, clinicId: m.clinic_id, status: 'delivered',
      chargeMicros: PRICE_MICROS * 2, segments: 2, countryCode: 'US', sentAtMs: Number(m.sent_at), statusAtMs: Number(m.final_status_at) + 60_000 });
  }
  return page;
}

export async function runAggregates(db: MonthDb, tz: string, runs: number, log: (l: string) => void): Promise<AggregatesResult> {
  const database = await openDatabase({ driver: 'sqlite', path: db.path } as Parameters<typeof openDatabase>[0]);
  const knex = database.knex;
  const months = new MonthBucketer(tz);
  // The knex statements of a page (the PostgreSQL page store's, here on SQLite) show in knex's query events, so the page's usage work can be timed.
  const pageStore = new PostgresPageStore(knex, months);
  const result: AggregatesResult = { fullRecomputeMs: [], pageUsageMs: [], afterPageRecomputeMs: [], incrementalMs: [], pageRecordMs: [], correct: true, problems: [] };
  // Time the usage statements of a page from knex's own query events.
  let usageMs = 0;
  const open = new Map<string, number>();
  knex.on('query', (q: { __knexQueryUid: string; sql: string }) => {
    if (/\b(monthly_usage|usage_dirty)\b/.test(q.sql)) open.set(q.__knexQueryUid, performance.now());
  });
  knex.on('query-response', (_r: unknown, q: { __knexQueryUid: string }) => {
    const t = open.get(q.__knexQueryUid);
    if (t !== undefined) { usageMs += performance.now() - t; open.delete(q.__knexQueryUid); }
  });
  try {
    for (let run = 0; run < runs; run++) {
      await knex.raw('DELETE FROM monthly_usage WHERE month = ?', [db.month]);
      await knex.raw(`INSERT INTO usage_dirty (clinic_id, month, version) SELECT clinic_id, ?, 1 FROM clinics WHERE true
        ON CONFLICT (clinic_id, month) DO UPDATE SET version = usage_dirty.version + 1`, [db.month]);
      const t0 = performance.now();
      const out = await recomputeDirtyUsage(knex, months);
      const ms = performance.now() - t0;
      result.fullRecomputeMs.push(round(ms, 1));
      log(`    full recompute ${run + 1}: ${round(ms, 1)} ms (${out.pairs} pairs)`);
    }
    let problems = await checkUsage(knex, db);
    if (problems.length > 0) { result.correct = false; result.problems.push(...problems.map((p) => `after the full recompute: ${p}`)); }

    for (let run = 0; run < runs; run++) {
      const page = await makePage(knex, db, 101 + run);
      usageMs = 0;
      const t0 = performance.now();
      await pageStore.recordReceipts({ receipts: page, quarantined: [], now: Date.now() });
      const recordMs = performance.now() - t0;
      const inPage = usageMs;
      const t1 = performance.now();
      await recomputeDirtyUsage(knex, months);
      const after = performance.now() - t1;
      result.pageRecordMs.push(round(recordMs, 1));
      result.pageUsageMs.push(round(inPage, 2));
      result.afterPageRecomputeMs.push(round(after, 1));
      result.incrementalMs.push(round(inPage + after, 1));
      log(`    page ${run + 1}: recorded in ${round(recordMs, 1)} ms; usage in the page ${round(inPage, 2)} ms; recompute job after it ${round(after, 1)} ms`);
    }
    problems = await checkUsage(knex, db);
    if (problems.length > 0) { result.correct = false; result.problems.push(...problems.map((p) => `after the pages: ${p}`)); }
  } finally {
    await database.close();
  }
  return result;
}
