/**
 * Drains one HQ stream, page by page: GET a page, validate each item, record the page in one
 * transaction, and only then acknowledge it. Stops when HQ says there is no more, when the job's
 * page or time budget is spent (the caller re-queues it at once), or when shutdown begins
 * (between pages: a page is either committed and acknowledged, or abandoned before commit and
 * handed out again by HQ after its lease).
 *
 * While a page is being recorded, the next one is already fetched and validated, and the page
 * before it is being acknowledged: SQLite works on its own thread, so HTTP, JSON parsing and
 * validation overlap the writing instead of adding to it, and the database never idles through an
 * acknowledgement's round trip (BENCHMARKS.md). Acknowledgement still strictly follows each page's
 * commit; a page fetched ahead and then not recorded (a failed write, shutdown) is simply handed
 * out again after its lease, like any page abandoned before commit.
 */
import type { Knex } from '@mikro-orm/knex';
import type { HqClient, HqStream } from '../hq/client';
import type { MonthBucketer } from '../usage/month';
import { Backoff } from '../util/backoff';
import { ackIdsOf, markStreamPolled, recordInboundPage, recordReceiptsPage, uniqueBy, type PageOutcome } from './record-page';
import type { ReceiptsWriter } from './receipts-writer';
import { splitPage, type SplitPage } from './validate';
import type { ValidInbound, ValidReceipt } from '../hq/schemas';

export interface DrainDeps {
  hq: HqClient;
  knex: Knex;
  months: MonthBucketer;
  /** Guards the database: after a failed write no page is fetched (and leased) until it passes. */
  dbGate: Backoff;
  pageSize: number;
  /** On SQLite, the thread that writes receipts pages (receipts-writer.ts); absent: the knex writer. */
  receiptsWriter?: ReceiptsWriter | null;
  onPage?: (stream: HqStream, outcome: PageOutcome & { items: number; acked: number; durationMs: number }) => void;
}

export interface DrainBudget {
  maxPages: number;
  maxMs: number;
  signal?: AbortSignal;
}

export interface DrainResult {
  pages: number;
  items: number;
  recorded: number;
  duplicates: number;
  quarantined: number;
  acked: number;
  /** HQ still has items: poll again at once. */
  more: boolean;
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
  /** false: the gate was closed and nothing was tried; true: a write was tried and failed. */
  constructor(message: string, readonly waitMs: number, readonly attempted: boolean) {
    super(message);
  }
}

/**
 * A page as fetched and validated, ready to record. It keeps the validated items, not HQ's parsed
 * ones: those die right after validation instead of living (and being promoted to the old
 * generation of the heap) while the previous page is written.
 */
interface FetchedPage {
  count: number;
  more: boolean;
  split: SplitPage<ValidReceipt> | SplitPage<ValidInbound> | null;
  startedAt: number;
}

async function fetchPage(deps: DrainDeps, stream: HqStream, signal: AbortSignal | undefined): Promise<FetchedPage> {
  const startedAt = Date.now();
  const page = await deps.hq.getPage(stream, deps.pageSize, signal);
  const split = page.items.length === 0 ? null : splitPage(stream === 'receipts' ? 'receipt' : 'inbound', page.items);
  return { count: page.items.length, more: page.more, split, startedAt };
}

export async function drainStream(deps: DrainDeps, stream: HqStream, budget: DrainBudget): Promise<DrainResult> {
  const started = Date.now();
  const result: DrainResult = { pages: 0, items: 0, recorded: 0, duplicates: 0, quarantined: 0, acked: 0, more: false };
  let ahead: Promise<FetchedPage> | null = null;
  // The last committed page's acknowledgement, sent while the next page is written.
  let acking: Promise<void> | null = null;
  let recorded = 0;
  const settle = async (): Promise<void> => {
    const a = acking;
    acking = null;
    if (a) await a;
  };
  try {
    for (;;) {
      if (budget.signal?.aborted) {
        await settle();
        result.more = true;
        return result;
      }
      const dbWait = deps.dbGate.waitMs();
      if (dbWait > 0) throw new DatabaseUnavailableError(`database in backoff after a failed write; next try in ${dbWait} ms`, dbWait, false);

      const page: FetchedPage = await (ahead ?? fetchPage(deps, stream, budget.signal));
      // Fetch the next page while this one is written, when the budget will let us record it.
      ahead = page.more && recorded + 1 < budget.maxPages && Date.now() - started < budget.maxMs ? fetchPage(deps, stream, budget.signal) : null;
      // Its failure (HQ down, 429) surfaces when it is awaited, after this page is acknowledged.
      ahead?.catch(() => undefined);
      let outcome: PageOutcome;
      try {
        outcome = await recordPage(deps, stream, page);
        deps.dbGate.succeed();
      } catch (err) {
        // Nothing from this page is acknowledged: HQ hands it out again after the lease.
        const waitMs = deps.dbGate.fail();
        throw new DatabaseUnavailableError(`could not record a ${stream} page (${(err as Error).message}); nothing acknowledged; next try in ${waitMs} ms`, waitMs, true);
      }
      recorded += 1;
      // Committed: acknowledge it while the next page is written. One acknowledgement at a time,
      // in page order; a failed one surfaces here, at the next page's commit, or when the drain ends.
      await settle();
      // Only the page's size and start go along: its items are not kept alive through the round trip.
      acking = acknowledge(deps, stream, budget, result, { count: page.count, startedAt: page.startedAt }, outcome);
      acking.catch(() => undefined);

      if (!page.more || ahead === null) {
        await settle();
        // A page fetched ahead is recorded even if the time budget ran out meanwhile.
        if (page.more) result.more = true;
        return result;
      }
    }
  } catch (err) {
    // Let an acknowledgement already under way finish; the error that stopped the drain is the one to report.
    await acking?.catch(() => undefined);
    throw err;
  }
}

async function acknowledge(deps: DrainDeps, stream: HqStream, budget: DrainBudget, result: DrainResult, page: Pick<FetchedPage, 'count' | 'startedAt'>, outcome: PageOutcome): Promise<void> {
  const acked = outcome.ackIds.length > 0 ? await deps.hq.ack(stream, outcome.ackIds, budget.signal) : 0;
  result.pages += 1;
  result.items += page.count;
  result.recorded += outcome.recorded;
  result.duplicates += outcome.duplicates;
  result.quarantined += outcome.quarantined;
  result.acked += acked;
  deps.onPage?.(stream, { ...outcome, items: page.count, acked, durationMs: Date.now() - page.startedAt });
}

async function recordPage(deps: DrainDeps, stream: HqStream, page: FetchedPage): Promise<PageOutcome> {
  if (page.split === null) {
    await markStreamPolled(deps.knex, stream);
    return { recorded: 0, duplicates: 0, quarantined: 0, ackIds: [], dirtyPairs: 0 };
  }
  if (stream === 'receipts') {
    const { valid, quarantined } = page.split as SplitPage<ValidReceipt>;
    if (deps.receiptsWriter) {
      const written = await deps.receiptsWriter.record({ receipts: valid, quarantined, now: Date.now() });
      return { ...written, quarantined: quarantined.length, ackIds: ackIdsOf(uniqueBy(valid, (r) => r.receiptId).map((r) => r.receiptId), quarantined), dirtyPairs: 0 };
    }
    return recordReceiptsPage(deps.knex, valid, quarantined, deps.months);
  }
  const { valid, quarantined } = page.split as SplitPage<ValidInbound>;
  return recordInboundPage(deps.knex, valid, quarantined, deps.months);
}
