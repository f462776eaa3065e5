/**
 * A poll job's summary (its 'job done' line) against what it recorded: a job that records pages and
 * is then told to wait by HQ (a 429, or the endpoint's gate closed by an earlier 429) reports those
 * pages, as the page metrics already counted them, instead of an idle poll or a failure. Whatever
 * ends the job, its pages are in the stream's catch-up state, which /status reads.
 *
 * A scripted HQ client stands in for HTTP and a counting page store for the database; stream_state
 * (where a poll records its errors and catch-up) is a real SQLite file.
 */
import { join } from 'node:path';
import type { Knex } from '@mikro-orm/knex';
import { createLogger, type Logger } from 'winston';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import type { HqClient, Page } from '../../src/hq/client';
import { HqBackoffError, HqRateLimitedError, HqUnavailableError } from '../../src/hq/errors';
import type { ValidReceipt } from '../../src/hq/items';
import { CatchUpProgress } from '../../src/ingest/catch-up';
import type { PageOutcome, PageStore } from '../../src/ingest/page-store';
import { isIdlePoll, pollStream, summarizePoll, type PollDeps } from '../../src/ingest/poll-job';
import { Backoff } from '../../src/util/backoff';
import { contractReceipt } from '../support/hq-items';
import { tempDir } from '../support/tmp';

const PAGE = 10;
type Step = 'page' | 'last page' | Error;

/** HQ answering each GET, and each acknowledgement, as its script says (then: nothing more). */
class ScriptedHq {
  private pages = 0;
  private acks = 0;
  constructor(private readonly gets: Step[], private readonly ackFailures: Map<number, Error> = new Map()) {}

  async getPage(): Promise<Page> {
    await new Promise((r) => setImmediate(r));
    const step = this.gets.shift() ?? 'last page';
    if (step instanceof Error) throw step;
    const n = this.pages++;
    const items = Array.from({ length: PAGE }, (_, i) => contractReceipt({ receiptId: `r-${n}-${i}`, guid: `g-${n}-${i}` }));
    return { items, more: step === 'page' };
  }

  async ack(_stream: string, ids: readonly string[]): Promise<number> {
    await new Promise((r) => setImmediate(r));
    const failure = this.ackFailures.get(++this.acks);
    if (failure) throw failure;
    return ids.length;
  }
}

/** Records every receipt as new (the drain's own logic is not what is tested here). */
const countingStore: PageStore = {
  recordReceipts: async ({ receipts, quarantined }): Promise<PageOutcome> => ({
    recorded: receipts.length, duplicates: 0, quarantined: quarantined.length, ackIds: receipts.map((r: ValidReceipt) => r.receiptId), usagePairs: 0, sendGuids: [],
  }),
  recordInbound: async () => {
    throw new Error('not in these tests');
  },
  close: async () => undefined,
};

const rateLimited = (): HqRateLimitedError => new HqRateLimitedError('GET /v1/receipts: HQ answered 429; next try in 2000 ms', 'GET /v1/receipts', 2000);

describe('poll job summary after HQ says to wait', () => {
  const dir = tempDir();
  let db: Database;
  const logger = createLogger({ silent: true });

  beforeAll(async () => {
    db = await openDatabase({ driver: 'sqlite', path: join(dir.path, 'poll.sqlite') });
  });
  afterAll(async () => {
    await db.close();
    dir.remove();
  });

  /** Runs one poll job; returns its result (or error) and the sums of the pages the metrics counted. */
  async function poll(hq: ScriptedHq, opts: { knex?: Knex; logger?: Logger } = {}): Promise<{ result?: ReturnType<typeof summarizePoll>; idle?: boolean; error?: unknown; metrics: { pages: number; items: number; recorded: number; acked: number } }> {
    const metrics = { pages: 0, items: 0, recorded: 0, acked: 0 };
    const jobLogger = opts.logger ?? logger;
    const deps: PollDeps = {
      hq: hq as unknown as HqClient,
      store: countingStore,
      knex: opts.knex ?? db.knex,
      dbGate: new Backoff({ baseMs: 100, maxMs: 1000 }),
      pageSize: PAGE,
      budget: { maxPagesPerJob: 100, maxJobSeconds: 60 },
      onPageRecorded: (_stream, page) => {
        metrics.pages += 1;
        metrics.items += page.items;
        metrics.recorded += page.recorded;
        metrics.acked += page.acked;
      },
      sendOwed: () => undefined,
      logger,
      progress: new CatchUpProgress(),
    };
    try {
      const r = await pollStream('receipts', deps, { logger: jobLogger, signal: new AbortController().signal });
      return { result: summarizePoll(r), idle: isIdlePoll(r), metrics };
    } catch (error) {
      return { error, metrics };
    }
  }

  const lastError = async (): Promise<string | null> =>
    rowsOf<{ last_error: string | null }>(await db.knex.raw("SELECT last_error FROM stream_state WHERE stream = 'receipts'"))[0]?.last_error ?? null;

  /** The stream's catch-up state, as /status reads it (src/ingest/catch-up.ts). */
  const catchUp = async (): Promise<{ items: number; at: number | null } | null> => {
    const row = rowsOf<{ catch_up_items: number; catch_up_at: number | null }>(
      await db.knex.raw("SELECT catch_up_items, catch_up_at FROM stream_state WHERE stream = 'receipts'"))[0];
    return row ? { items: Number(row.catch_up_items), at: row.catch_up_at === null ? null : Number(row.catch_up_at) } : null;
  };

  beforeEach(async () => {
    await db.knex.raw('DELETE FROM stream_state');
  });

  it('three pages, then a 429: the job is done and its summary counts the three pages, with the wait', async () => {
    const { result, idle, error, metrics } = await poll(new ScriptedHq(['page', 'page', 'page', rateLimited()]));
    expect(error).toBeUndefined();
    expect(metrics).toEqual({ pages: 3, items: 30, recorded: 30, acked: 30 });
    expect(result).toEqual({ pages: 3, items: 30, recorded: 30, duplicates: 0, quarantined: 0, acked: 30, more: false, deferredMs: 2000 });
    expect(idle).toBe(false); // an info line, not a debug one
    // The 429 is still what stream_state says last went wrong.
    expect(await lastError()).toMatch(/429/);
    // And the three pages are in the catch-up /status reports: HQ said more was waiting.
    expect(await catchUp()).toEqual({ items: 30, at: expect.any(Number) });
  });

  it('pages recorded before a closed gate or a failure are in the catch-up state too; a job that recorded nothing leaves it alone', async () => {
    await poll(new ScriptedHq(['page', 'page', new HqBackoffError('GET /v1/receipts', 1500)]));
    expect(await catchUp()).toEqual({ items: 20, at: expect.any(Number) });

    await db.knex.raw('DELETE FROM stream_state');
    const down = await poll(new ScriptedHq(['page', new HqUnavailableError('GET /v1/receipts: HQ answered 503', 'GET /v1/receipts')]));
    expect(down.error).toBeInstanceOf(HqUnavailableError);
    expect(await catchUp()).toEqual({ items: 10, at: expect.any(Number) });

    await db.knex.raw('DELETE FROM stream_state');
    await poll(new ScriptedHq([rateLimited()]));
    await poll(new ScriptedHq([new HqBackoffError('GET /v1/receipts', 700)]));
    // The 429 is recorded as the stream's last error; no catch-up was started.
    expect(await catchUp()).toEqual({ items: 0, at: null });
  });

  it('a catch-up state and last error that cannot be written after a 429 are one warning each, and the job is still done', async () => {
    const warnings: Array<[string, Record<string, unknown>]> = [];
    const warnLogger = { warn: (message: string, meta: Record<string, unknown>) => warnings.push([message, meta]), info: () => undefined } as unknown as Logger;
    // The database refuses every statement (stream_state is where both the catch-up and the error go).
    const refusing = new Proxy(db.knex, { get: (t, p) => (p === 'raw' ? async () => { throw new Error('SQLITE_READONLY: attempt to write a readonly database'); } : Reflect.get(t, p)) });
    const outcome = await poll(new ScriptedHq(['page', 'page', rateLimited()]), { knex: refusing, logger: warnLogger });
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toMatchObject({ pages: 2, items: 20, more: false, deferredMs: 2000 });
    const error = 'SQLITE_READONLY: attempt to write a readonly database';
    expect(warnings).toEqual([
      ['could not record catch-up state', { stream: 'receipts', error }],
      ['could not record the stream\'s last error', { stream: 'receipts', error }],
    ]);
  });

  it('two pages, then the endpoint\'s gate closed (another poller got the 429): the two pages are reported, not an idle poll', async () => {
    const { result, idle, metrics } = await poll(new ScriptedHq(['page', 'page', new HqBackoffError('GET /v1/receipts', 1500)]));
    expect(metrics.pages).toBe(2);
    expect(result).toEqual({ pages: 2, items: 20, recorded: 20, duplicates: 0, quarantined: 0, acked: 20, more: false, deferredMs: 1500 });
    expect(idle).toBe(false);
  });

  it('a 429 on the second page\'s acknowledgement: the summary counts the first page, as the metrics do', async () => {
    const { result, metrics } = await poll(new ScriptedHq(['page', 'page', 'page'], new Map([[2, rateLimited()]])));
    expect(metrics).toEqual({ pages: 1, items: 10, recorded: 10, acked: 10 });
    expect(result).toMatchObject({ pages: metrics.pages, items: metrics.items, recorded: metrics.recorded, acked: metrics.acked, deferredMs: 2000 });
  });

  it('still an idle poll when the gate is closed before any page, and still a failure on a 429 before any page or on a 5xx', async () => {
    const closed = await poll(new ScriptedHq([new HqBackoffError('GET /v1/receipts', 700)]));
    expect(closed.result).toEqual({ pages: 0, items: 0, recorded: 0, duplicates: 0, quarantined: 0, acked: 0, more: false, deferredMs: 700 });
    expect(closed.idle).toBe(true);

    const first = await poll(new ScriptedHq([rateLimited()]));
    expect(first.error).toBeInstanceOf(HqRateLimitedError);

    const down = await poll(new ScriptedHq(['page', new HqUnavailableError('GET /v1/receipts: HQ answered 503', 'GET /v1/receipts')]));
    expect(down.error).toBeInstanceOf(HqUnavailableError);
    expect(down.metrics.pages).toBe(1);
  });

  it('a drain that ends by itself is summarized as before', async () => {
    const { result, idle } = await poll(new ScriptedHq(['page', 'last page']));
    expect(result).toEqual({ pages: 2, items: 20, recorded: 20, duplicates: 0, quarantined: 0, acked: 20, more: false });
    expect(idle).toBe(false);
  });
});
