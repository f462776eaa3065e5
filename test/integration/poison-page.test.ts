/**
 * No item may hold up its page: when a page's write fails for a reason that belongs to
 * its items (the database refuses a value: a constraint, a type, a length, an encoding), the drain
 * bisects the page, quarantines each offending item verbatim with the database's reason, records
 * its page-mates and acknowledges all of them. A failure of the database itself (busy, locked,
 * down) still fails the page as a whole: nothing quarantined, nothing acknowledged.
 *
 * The database is made to refuse chosen items by a rule the test installs (a trigger on SQLite, a
 * CHECK constraint on PostgreSQL), so the mechanism is tested apart from validation: validation
 * catches the known cases before they reach the database (test/faults/hostile-hq.test.ts).
 * Every writer: SQLite through knex (inbound, office), SQLite through the receipts writer thread,
 * and PostgreSQL.
 */
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/orm';
import { rowsOf } from '../../src/db/bulk-sql';
import type { HqClient, Page } from '../../src/hq/client';
import type { HqStream } from '../../src/texting/streams';
import { DatabaseUnavailableError, drainStream, type DrainDeps } from '../../src/ingest/drain';
import type { PageStore } from '../../src/ingest/page-store';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { MonthBucketer } from '../../src/usage/month';
import { Backoff, monotonicMs } from '../../src/util/backoff';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { tempDir } from '../support/tmp';

const T0 = Date.parse('2026-10-10T15:00:00.000Z');
const POISON = new Set([7, 50, 51, 99]);

function receipt(n: number): Record<string, unknown> {
  return {
    receiptId: POISON.has(n) ? `r-poison-${n}` : `r-${String(n).padStart(6, '0')}`,
    guid: `g-${n}`,
    clinicId: 1 + (n % 3),
    status: 'delivered',
    chargeUsd: '0.0079',
    segments: 1,
    countryCode: 'US',
    sentAt: new Date(T0 + n * 1000).toISOString(),
    statusAt: new Date(T0 + n * 1000 + 4000).toISOString(),
    // An unknown field: verbatim means this comes back too.
    extra: { n },
  };
}

function inbound(n: number): Record<string, unknown> {
  return {
    inboundId: POISON.has(n) ? `i-poison-${n}` : `i-${String(n).padStart(6, '0')}`,
    clinicId: 1 + (n % 3),
    fromPhone: `+1503555${String(1000 + n)}`,
    toPhone: '+15035550100',
    body: `reply ${n}`,
    receivedAt: new Date(T0 + n * 1000).toISOString(),
    chargeUsd: '0.0079',
    segments: 1,
  };
}

/** One page of `items`, then nothing; records what is acknowledged. */
class OnePageHq {
  readonly acked: string[] = [];
  private served = false;
  constructor(private readonly items: Array<Record<string, unknown>>, private readonly key: 'receipts' | 'messages') {}
  async getPage(): Promise<Page> {
    if (this.served) return { items: [], more: false, text: `{"${this.key}":[],"more":false}` };
    this.served = true;
    const text = JSON.stringify({ [this.key]: this.items, more: false });
    return { items: (JSON.parse(text) as Record<string, unknown[]>)[this.key]!, more: false, text };
  }
  async ack(_stream: HqStream, ids: readonly string[]): Promise<number> {
    this.acked.push(...ids);
    return ids.length;
  }
}

/**
 * The stream's gate as drain.ts uses it, recording what the drain told it: each failure with the
 * instant it was recorded at and the wait it imposed, and each success. The test asserts on these
 * and on the gate's state at those instants, never on how much real time went by since.
 */
class RecordingGate extends Backoff {
  readonly events: Array<{ event: 'fail'; at: number; waitMs: number } | { event: 'succeed' }> = [];
  // Whole milliseconds, so that the wait arithmetic below is exact (performance.now() is fractional).
  override fail(now: number = Math.floor(monotonicMs())): number {
    const waitMs = super.fail(now);
    this.events.push({ event: 'fail', at: now, waitMs });
    return waitMs;
  }
  override succeed(): void {
    super.succeed();
    this.events.push({ event: 'succeed' });
  }
}

type Engine = 'sqlite' | 'postgresql';

describe.each<Engine>(['sqlite', 'postgresql'])('a page with items the database refuses, on %s', (engine) => {
  const dir = tempDir();
  let pg: TestPostgres | undefined;
  let db: Database;
  let store: PageStore;
  const months = new MonthBucketer('UTC');

  beforeAll(async () => {
    if (engine === 'postgresql') {
      pg = await startPostgres();
      db = await openDatabase({ driver: 'postgresql', url: await pg.createDatabase('poison_page') });
      await db.knex.raw("ALTER TABLE receipts ADD CONSTRAINT test_poison CHECK (receipt_id NOT LIKE 'r-poison%')");
      await db.knex.raw("ALTER TABLE inbound_messages ADD CONSTRAINT test_poison CHECK (inbound_id NOT LIKE 'i-poison%')");
      store = new PostgresPageStore(db.knex, months);
    } else {
      const path = join(dir.path, 'poison.sqlite');
      db = await openDatabase({ driver: 'sqlite', path });
      for (const [table, column, prefix] of [['receipts', 'receipt_id', 'r-poison'], ['inbound_messages', 'inbound_id', 'i-poison']]) {
        await db.knex.raw(`CREATE TRIGGER test_poison_${table} BEFORE INSERT ON ${table} WHEN NEW.${column} LIKE '${prefix}%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);
      }
      store = new SqlitePageStore(db.knex, months, { path, officeTz: 'UTC' });
    }
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await db?.close();
    await pg?.stop();
    dir.remove();
  });

  const deps = (hq: OnePageHq, gate: Backoff): DrainDeps => ({
    hq: hq as unknown as HqClient, store, dbGate: gate, pageSize: 1000,
  });
  const rows = async <T>(sql: string, bindings: unknown[] = []): Promise<T[]> => rowsOf<T>(await db.knex.raw(sql, bindings as never));

  it.each<[HqStream, (n: number) => Record<string, unknown>, string, string, string]>([
    ['receipts', receipt, 'receipts', 'receipt_id', 'receipt'],
    ['inbound', inbound, 'inbound_messages', 'inbound_id', 'inbound'],
  ])('%s: records the page-mates, quarantines each refused item verbatim with the reason, acknowledges all', async (stream, make, table, idColumn, kind) => {
    const items = Array.from({ length: 120 }, (_, i) => make(i + 1));
    const hq = new OnePageHq(items, stream === 'receipts' ? 'receipts' : 'messages');
    const gate = new RecordingGate({ baseMs: 100, maxMs: 1000 });
    const result = await drainStream(deps(hq, gate), stream, { maxPages: 10, maxMs: 60_000 });

    expect(result).toMatchObject({ items: 120, recorded: 116, quarantined: 4, acked: 120 });
    // No item of the page is a failure of the database: the stream's gate recorded no failure
    // (only the page's success) and stays open.
    expect(gate.events).toEqual([{ event: 'succeed' }]);
    expect(gate.waitMs()).toBe(0);
    const idOf = (item: Record<string, unknown>): string => String(item.receiptId ?? item.inboundId);
    expect([...hq.acked].sort()).toEqual(items.map(idOf).sort());

    const stored = (await rows<{ id: string }>(`SELECT ${idColumn} AS id FROM ${table}`)).map((r) => r.id).sort();
    expect(stored).toEqual(items.filter((_, i) => !POISON.has(i + 1)).map(idOf).sort());
    const quarantine = await rows<{ item_key: string; ack_id: string; raw: string; reason: string }>(
      'SELECT item_key, ack_id, raw, reason FROM quarantine WHERE kind = ? ORDER BY item_key', [kind]);
    const poisoned = items.filter((_, i) => POISON.has(i + 1));
    expect(quarantine.map((q) => q.item_key)).toEqual(poisoned.map(idOf).sort());
    for (const q of quarantine) {
      expect(q.ack_id).toBe(q.item_key);
      expect(q.raw).toBe(JSON.stringify(poisoned.find((p) => idOf(p) === q.item_key)));
      expect(q.reason).toMatch(engine === 'postgresql' ? /^database refused the item: 23514 / : /^database refused the item: SQLITE_CONSTRAINT/);
    }
    // Usage counts exactly the recorded page-mates.
    const usage = await rows<{ n: number | string; micros: number | string }>(
      `SELECT SUM(${stream === 'receipts' ? 'sent_count' : 'received_count'}) AS n, SUM(${stream === 'receipts' ? 'sent_charge_micros' : 'received_charge_micros'}) AS micros FROM monthly_usage`);
    expect(Number(usage[0]!.n)).toBe(116);
    expect(Number(usage[0]!.micros)).toBe(116 * 7900);

    // The same page again (a lost ack): nothing new, nothing twice.
    const again = new OnePageHq(items, stream === 'receipts' ? 'receipts' : 'messages');
    const replay = await drainStream(deps(again, gate), stream, { maxPages: 10, maxMs: 60_000 });
    expect(replay).toMatchObject({ items: 120, recorded: 0, acked: 120 });
    expect((await rows<{ n: number | string }>('SELECT COUNT(*) AS n FROM quarantine WHERE kind = ?', [kind]))[0]!.n).toEqual(engine === 'postgresql' ? '4' : 4);
  }, 60_000);

  it('a failure of the database itself fails the page as a whole: nothing quarantined, nothing acknowledged', async () => {
    const busy = Object.assign(new Error('database is locked'), { code: engine === 'postgresql' ? '57P01' : 'SQLITE_BUSY' });
    const hq = new OnePageHq([receipt(1000), receipt(1001)], 'receipts');
    const gate = new RecordingGate({ baseMs: 100, maxMs: 1000 });
    const before = (await rows<{ n: number | string }>('SELECT COUNT(*) AS n FROM quarantine'))[0]!.n;
    const d: DrainDeps = engine === 'postgresql'
      // The knex transaction fails the way a database that went away does.
      ? { ...deps(hq, gate), store: new PostgresPageStore(new Proxy(db.knex, { get: (t, p) => (p === 'transaction' ? async () => { throw busy; } : Reflect.get(t, p)) }), months) }
      // The writer thread answers with the database's error.
      : { ...deps(hq, gate), store: { recordReceipts: async () => { throw busy; }, recordInbound: async () => { throw busy; }, close: async () => undefined } };
    const failure = await drainStream(d, 'receipts', { maxPages: 10, maxMs: 60_000 }).then(() => null, (err: unknown) => err);
    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect(failure).toMatchObject({ attempted: true, waitMs: 100 });
    expect(hq.acked).toEqual([]);
    // One failure, and no success, reached the stream's gate: it closed for one base wait (100 ms
    // here) from the instant of the failure, so a page fetched then waits, and one fetched after
    // the wait goes ahead. Asserted at those instants, not by reading the clock now: how long the
    // drain took to throw depends on the machine's load.
    expect(gate.events).toEqual([{ event: 'fail', at: expect.any(Number), waitMs: 100 }]);
    const failedAt = (gate.events[0] as { at: number }).at;
    expect(gate.waitMs(failedAt)).toBe(100);
    expect(gate.waitMs(failedAt + 99)).toBe(1);
    expect(gate.waitMs(failedAt + 100)).toBe(0);
    expect((await rows<{ n: number | string }>('SELECT COUNT(*) AS n FROM quarantine'))[0]!.n).toEqual(before);
  });
});
