/**
 * /status (and /status/history) answers, exactly, for a month whose charges add up past 2^53 micro-dollars
 * (about 9 billion dollars), where a JavaScript number stops being exact. Validation bounds one
 * item's charge (1000 USD), so such a month takes millions of items; the sums themselves are
 * exact anyway: the 64-bit columns add in SQL, /status and the recompute read them as text and
 * add them as bigint. Here the bound is stepped around on purpose (the page stores take
 * validated items) to reach the sums quickly, on SQLite and on PostgreSQL.
 */
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/orm';
import type { ValidReceipt } from '../../src/hq/items';
import type { PageStore } from '../../src/ingest/page-store';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { readUsageHistory } from '../../src/status/usage-history';
import { buildStatus } from '../../src/status/usage-report';
import { markAllUsageDirty, recomputeDirtyUsage } from '../../src/usage/aggregates';
import { MonthBucketer } from '../../src/usage/month';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { tempDir } from '../support/tmp';

const SENT = Date.parse('2026-10-14T15:00:00.000Z');
/** 4,000,000,000 USD in micro-dollars: three of them are 1.2e16, past 2^53 (about 9.007e15). */
const HUGE = 4_000_000_000_000_000;

const receipt = (n: number, clinicId: number, chargeMicros: number): ValidReceipt => ({
  receiptId: `r-${n}`, guid: `g-${n}`, clinicId, status: 'delivered', chargeMicros, segments: 1, countryCode: 'US',
  sentAtMs: SENT + n * 1000, statusAtMs: SENT + n * 1000 + 4000,
});

describe.each(['sqlite', 'postgresql'] as const)('/status past 2^53 micro-dollars, on %s', (engine) => {
  const dir = tempDir();
  let pg: TestPostgres | undefined;
  let db: Database;
  let store: PageStore;
  const months = new MonthBucketer('UTC');

  beforeAll(async () => {
    if (engine === 'postgresql') {
      pg = await startPostgres();
      db = await openDatabase({ driver: 'postgresql', url: await pg.createDatabase('usage_2_53') });
      store = new PostgresPageStore(db.knex, months);
    } else {
      db = await openDatabase({ driver: 'sqlite', path: join(dir.path, 'usage.sqlite') });
      store = new SqlitePageStore(db.knex, months, { path: join(dir.path, 'usage.sqlite'), officeTz: 'UTC' });
    }
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await db?.close();
    await pg?.stop();
    dir.remove();
  });

  it('shows the month exactly, per clinic and in total, after the deltas and after a recompute', async () => {
    // One page each, so no page's own delta passes 2^53 (validation keeps a page far below it).
    for (let n = 1; n <= 3; n++) await store.recordReceipts({ receipts: [receipt(n, 1, HUGE + n)], quarantined: [], now: Date.now() });
    await store.recordReceipts({ receipts: [receipt(10, 2, 7900), receipt(11, 2, 7900)], quarantined: [], now: Date.now() });

    const expectExact = async (): Promise<void> => {
      const doc = await buildStatus(db.knex, '2026-10', 'UTC');
      const one = doc.clinics.find((c) => c.clinicId === 1)!;
      const two = doc.clinics.find((c) => c.clinicId === 2)!;
      expect(one).toMatchObject({ sentCount: 3, sentChargesUsd: '12000000000.000006' });
      expect(two).toMatchObject({ sentCount: 2, sentChargesUsd: '0.0158' });
      expect(doc.totals).toMatchObject({ sentCount: 5, sentChargesUsd: '12000000000.015806', chargesUsd: '12000000000.015806' });
      // The 12-month history sums the same rows, as exactly.
      const history = await readUsageHistory(db.knex, '2026-11', 2, 'UTC');
      expect(history.months.map((m) => [m.month, m.sentCount, m.sentChargesUsd, m.chargesUsd])).toEqual([
        ['2026-10', 5, '12000000000.015806', '12000000000.015806'],
        ['2026-11', 0, '0.00', '0.00'],
      ]);
    };
    await expectExact();

    await markAllUsageDirty(db.knex, months);
    await recomputeDirtyUsage(db.knex, months);
    await expectExact();
  });
});
