/**
 * The drain overlaps work (the next page is fetched while one is written; a committed page is
 * acknowledged while the next is written). These tests pin the one rule that overlap must never
 * bend: a page is acknowledged only after its own transaction has committed, in page order, and a
 * failed acknowledgement stops the drain without losing or double-counting anything.
 *
 * A scripted HQ client stands in for HTTP; the database is a real SQLite file (written by the
 * SQLite page store, as in production), and each
 * acknowledgement is checked against it through a second, independent connection (better-sqlite3),
 * which sees only committed rows.
 */
import { join } from 'node:path';
import BetterSqlite from 'better-sqlite3';
import { openDatabase, type Database } from '../../src/db/orm';
import type { HqClient, Page } from '../../src/hq/client';
import type { HqStream } from '../../src/texting/streams';
import { HqUnavailableError } from '../../src/hq/errors';
import { drainStream, type DrainDeps } from '../../src/ingest/drain';
import { SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { MonthBucketer } from '../../src/usage/month';
import { Backoff } from '../../src/util/backoff';
import { tempDir } from '../support/tmp';

const T0 = Date.parse('2026-11-10T15:00:00.000Z');

function receipt(n: number): Record<string, unknown> {
  return {
    receiptId: `r-${String(n).padStart(9, '0')}`,
    guid: `g-${n}`,
    clinicId: 1 + (n % 3),
    status: 'delivered',
    chargeUsd: '0.0079',
    segments: 1,
    countryCode: 'US',
    sentAt: new Date(T0 + n * 1000).toISOString(),
    statusAt: new Date(T0 + n * 1000 + 4000).toISOString(),
  };
}

/** HQ with a fixed backlog handed out in pages, each item leased until acknowledged or redelivered. */
class ScriptedHq {
  readonly events: string[] = [];
  private readonly available: Array<Record<string, unknown>>;
  private readonly leased = new Map<string, Record<string, unknown>>();
  failAckNumber: number | null = null;
  private acks = 0;
  onAck: (ids: readonly string[]) => void = () => undefined;

  constructor(items: number) {
    this.available = Array.from({ length: items }, (_, i) => receipt(i + 1));
  }

  async getPage(_stream: HqStream, limit: number): Promise<Page> {
    await new Promise((r) => setTimeout(r, 2));
    const items = this.available.splice(0, limit);
    for (const item of items) this.leased.set(item.receiptId as string, item);
    this.events.push(`get ${items.length}`);
    return { items, more: this.available.length > 0 };
  }

  async ack(_stream: HqStream, ids: readonly string[]): Promise<number> {
    this.acks += 1;
    this.events.push(`ack ${ids[0]}..${ids.at(-1)}`);
    this.onAck(ids);
    await new Promise((r) => setTimeout(r, 5));
    if (this.acks === this.failAckNumber) throw new HqUnavailableError('HQ answered 503 to an ack', 'POST /v1/receipts/ack');
    for (const id of ids) this.leased.delete(id);
    return ids.length;
  }

  /** Like leases running out: what was handed out and not acknowledged is available again. */
  redeliver(): void {
    this.available.unshift(...[...this.leased.values()].sort((a, b) => String(a.receiptId).localeCompare(String(b.receiptId))));
    this.leased.clear();
  }

  get left(): number {
    return this.available.length + this.leased.size;
  }
}

describe('drain: acknowledgement strictly after commit, while pages overlap', () => {
  const dir = tempDir();
  const path = join(dir.path, 'drain.sqlite');
  let db: Database;
  let reader: BetterSqlite.Database;
  let store: SqlitePageStore;

  beforeAll(async () => {
    db = await openDatabase({ driver: 'sqlite', path });
    reader = new BetterSqlite(path, { readonly: true });
    store = new SqlitePageStore(db.knex, new MonthBucketer('UTC'), { path, officeTz: 'UTC' });
  });
  afterAll(async () => {
    await store.close();
    reader.close();
    await db.close();
    dir.remove();
  });
  beforeEach(async () => {
    for (const table of ['receipts', 'outbound_messages', 'monthly_usage']) await db.knex.raw(`DELETE FROM ${table}`);
  });

  const deps = (hq: ScriptedHq): DrainDeps => ({
    hq: hq as unknown as HqClient,
    store,
    dbGate: new Backoff({ baseMs: 100, maxMs: 1000 }),
    pageSize: 100,
  });
  const committedCount = (ids: readonly string[]): number => {
    const stmt = reader.prepare(`SELECT count(*) AS n FROM receipts WHERE receipt_id IN (SELECT value FROM json_each(?))`);
    return (stmt.get(JSON.stringify(ids)) as { n: number }).n;
  };

  it('acknowledges every page after its commit and in page order', async () => {
    const hq = new ScriptedHq(1_050);
    const uncommittedAtAck: number[] = [];
    hq.onAck = (ids) => uncommittedAtAck.push(ids.length - committedCount(ids));
    const result = await drainStream(deps(hq), 'receipts', { maxPages: 100, maxMs: 60_000 });

    expect(result).toMatchObject({ pages: 11, items: 1_050, recorded: 1_050, duplicates: 0, acked: 1_050, more: false });
    expect(uncommittedAtAck).toEqual(Array(11).fill(0));
    const ackStarts = hq.events.filter((e) => e.startsWith('ack')).map((e) => Number(e.slice(6, 15)));
    expect(ackStarts).toEqual(Array.from({ length: 11 }, (_, i) => i * 100 + 1));
    expect(hq.left).toBe(0);
    expect(committedCount(Array.from({ length: 1_050 }, (_, i) => receipt(i + 1).receiptId as string))).toBe(1_050);
  });

  it('stops at a failed acknowledgement; the next drain finds the unacknowledged pages stored and counts them once', async () => {
    const hq = new ScriptedHq(600);
    hq.failAckNumber = 2;
    await expect(drainStream(deps(hq), 'receipts', { maxPages: 100, maxMs: 60_000 })).rejects.toThrow(HqUnavailableError);
    // The page after the failed one may have been written meanwhile, but it was never acknowledged.
    expect(hq.events.filter((e) => e.startsWith('ack'))).toHaveLength(2);
    expect(hq.left).toBe(500);

    hq.redeliver();
    const again = await drainStream(deps(hq), 'receipts', { maxPages: 100, maxMs: 60_000 });
    expect(again.items).toBe(500);
    expect(again.recorded + again.duplicates).toBe(500);
    expect(again.duplicates).toBeGreaterThanOrEqual(100); // at least the page whose ack failed
    expect(hq.left).toBe(0);
    const usage = await db.knex.raw('SELECT SUM(sent_count) AS n, SUM(sent_charge_micros) AS micros FROM monthly_usage') as Array<{ n: number; micros: number }>;
    expect(usage[0]).toEqual({ n: 600, micros: 600 * 7900 });
  });

  it('ends a budget-limited drain with every recorded page acknowledged and more: true', async () => {
    const hq = new ScriptedHq(1_000);
    const result = await drainStream(deps(hq), 'receipts', { maxPages: 3, maxMs: 60_000 });
    expect(result).toMatchObject({ pages: 3, items: 300, acked: 300, more: true });
    expect(hq.left).toBe(700);
  });
});
