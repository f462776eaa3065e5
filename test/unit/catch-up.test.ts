/**
 * Catching up: progress lines while pages say `more`, and the stream_state facts /status reads
 * (on a real SQLite file and a real PostgreSQL database, migrated as the daemon migrates them).
 */
import { rowsOf } from '../../src/db/bulk-sql';
import type { Database } from '../../src/db/orm';
import { CATCH_UP_FRESH_MS, CatchUpProgress, PROGRESS_EVERY_MS, catchUpStatus, recordCatchUp } from '../../src/ingest/catch-up';
import { databaseEngines, type OpenedDatabase } from '../support/databases';

describe('catch-up progress lines', () => {
  it('one line every few seconds while HQ says more, one when it stops, nothing when idle', () => {
    const lines: Array<[string, Record<string, unknown>]> = [];
    const log = (m: string, meta: Record<string, unknown>): void => void lines.push([m, meta]);
    const p = new CatchUpProgress();
    const t0 = 1_000_000;
    p.onPage('receipts', 0, false, log, t0);
    expect(lines).toEqual([]);
    for (let i = 1; i <= 12; i++) p.onPage('receipts', 1000, true, log, t0 + i * 500);
    // 6 s of pages at 2,000 items/s: one line at 5 s.
    expect(lines).toEqual([['catching up', { stream: 'receipts', items: 11_000, itemsPerSecond: 2000, more: true }]]);
    expect(PROGRESS_EVERY_MS).toBe(5000);
    p.onPage('receipts', 400, false, log, t0 + 6500);
    expect(lines[1]).toEqual(['caught up', { stream: 'receipts', items: 12_400, seconds: 6, itemsPerSecond: 2067 }]);
    p.onPage('receipts', 3, false, log, t0 + 9000);
    expect(lines).toHaveLength(2);
  });
});

const engines = databaseEngines('catch_up');
afterAll(() => engines.stop());

describe.each(engines.each)('catch-up state in stream_state (%s)', (_name, open) => {
  let opened: OpenedDatabase;
  let db: Database;
  beforeEach(async () => {
    opened = await open();
    db = opened.db;
  });
  afterEach(() => opened.close());

  const facts = async (): Promise<Record<string, unknown>> => {
    const row = rowsOf<Record<string, unknown>>(await db.knex.raw("SELECT catch_up_since, catch_up_at, catch_up_items, items_per_second FROM stream_state WHERE stream = 'receipts'"))[0]!;
    // PostgreSQL hands BIGINT columns back as strings.
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : Number(v)]));
  };

  it('accumulates while HQ says more, is cleared by the process that wrote it, and goes stale by itself', async () => {
    const owner = {};
    const t = 5_000_000_000;
    await recordCatchUp(db.knex, owner, 'receipts', { items: 20_000, more: true, startedAt: t }, t + 10_000);
    await recordCatchUp(db.knex, owner, 'receipts', { items: 10_000, more: true, startedAt: t + 10_000 }, t + 15_000);
    expect(await facts()).toEqual({ catch_up_since: t, catch_up_at: t + 15_000, catch_up_items: 30_000, items_per_second: 2000 });
    const status = (now: number) => catchUpStatus({ receiptsAt: t + 15_000, receiptsRate: 2000, inboundAt: t + 14_000, inboundRate: 500 }, now);
    expect(status(t + 16_000)).toEqual({ catchingUp: true, itemsPerSecond: 2500 });
    expect(status(t + 14_000 + CATCH_UP_FRESH_MS + 1)).toEqual({ catchingUp: true, itemsPerSecond: 2000 });
    expect(status(t + 15_000 + CATCH_UP_FRESH_MS + 1)).toEqual({ catchingUp: false, itemsPerSecond: 0 });

    // Another process's idle poll writes nothing; this one's end of the drain clears it.
    await recordCatchUp(db.knex, {}, 'receipts', { items: 0, more: false, startedAt: t + 16_000 }, t + 16_000);
    expect((await facts()).catch_up_at).toBe(t + 15_000);
    await recordCatchUp(db.knex, owner, 'receipts', { items: 300, more: false, startedAt: t + 16_000 }, t + 16_500);
    expect(await facts()).toEqual({ catch_up_since: null, catch_up_at: null, catch_up_items: 0, items_per_second: null });

    // A stale row (a worker that died mid-drain) starts a new catch-up instead of adding to the old one.
    await recordCatchUp(db.knex, owner, 'receipts', { items: 1000, more: true, startedAt: t + 20_000 }, t + 21_000);
    await recordCatchUp(db.knex, owner, 'receipts', { items: 500, more: true, startedAt: t + 100_000 }, t + 101_000);
    expect(await facts()).toEqual({ catch_up_since: t + 100_000, catch_up_at: t + 101_000, catch_up_items: 500, items_per_second: 500 });
  });

  it('reports the stream\'s rate when several pollers drain it at once, not one poller\'s share', async () => {
    const t = 6_000_000_000;
    // Two pollers (one per process, or two of ingest.pollers) each record 10,000 items in the same 10 s.
    await recordCatchUp(db.knex, {}, 'receipts', { items: 10_000, more: true, startedAt: t }, t + 10_000);
    await recordCatchUp(db.knex, {}, 'receipts', { items: 10_000, more: true, startedAt: t }, t + 10_000);
    expect(await facts()).toEqual({ catch_up_since: t, catch_up_at: t + 10_000, catch_up_items: 20_000, items_per_second: 2000 });
    // Their next jobs: 15,000 more in all over the next 5 s, 35,000 in 15 s.
    await recordCatchUp(db.knex, {}, 'receipts', { items: 8_000, more: true, startedAt: t + 10_000 }, t + 15_000);
    await recordCatchUp(db.knex, {}, 'receipts', { items: 7_000, more: true, startedAt: t + 10_000 }, t + 15_000);
    expect(await facts()).toEqual({ catch_up_since: t, catch_up_at: t + 15_000, catch_up_items: 35_000, items_per_second: 2333 });
  });
});
