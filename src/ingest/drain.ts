/**
 * Drains one HQ stream, page by page: GET a page, validate each item, record the page in one
 * transaction, and only then acknowledge it. Stops when HQ says there is no more, when the job's
 * page or time budget is spent (the caller re-queues it at once), or when shutdown begins
 * (between pages: a page is either committed and acknowledged, or abandoned before commit and
 * handed out again by HQ after its lease).
 */
import type { Knex } from '@mikro-orm/knex';
import type { HqClient, HqStream } from '../hq/client';
import type { MonthBucketer } from '../usage/month';
import { Backoff } from '../util/backoff';
import { markStreamPolled, recordInboundPage, recordReceiptsPage, type PageOutcome } from './record-page';
import { splitPage } from './validate';
import type { ValidInbound, ValidReceipt } from '../hq/schemas';

export interface DrainDeps {
  hq: HqClient;
  knex: Knex;
  months: MonthBucketer;
  /** Guards the database: after a failed write no page is fetched (and leased) until it passes. */
  dbGate: Backoff;
  pageSize: number;
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

export async function drainStream(deps: DrainDeps, stream: HqStream, budget: DrainBudget): Promise<DrainResult> {
  const started = Date.now();
  const result: DrainResult = { pages: 0, items: 0, recorded: 0, duplicates: 0, quarantined: 0, acked: 0, more: false };
  for (;;) {
    if (budget.signal?.aborted) {
      result.more = true;
      return result;
    }
    const dbWait = deps.dbGate.waitMs();
    if (dbWait > 0) throw new DatabaseUnavailableError(`database in backoff after a failed write; next try in ${dbWait} ms`, dbWait, false);

    const pageStarted = Date.now();
    const page = await deps.hq.getPage(stream, deps.pageSize, budget.signal);
    let outcome: PageOutcome;
    try {
      outcome = await recordPage(deps, stream, page.items);
      deps.dbGate.succeed();
    } catch (err) {
      // Nothing from this page is acknowledged: HQ hands it out again after the lease.
      const waitMs = deps.dbGate.fail();
      throw new DatabaseUnavailableError(`could not record a ${stream} page (${(err as Error).message}); nothing acknowledged; next try in ${waitMs} ms`, waitMs, true);
    }
    const acked = outcome.ackIds.length > 0 ? await deps.hq.ack(stream, outcome.ackIds, budget.signal) : 0;

    result.pages += 1;
    result.items += page.items.length;
    result.recorded += outcome.recorded;
    result.duplicates += outcome.duplicates;
    result.quarantined += outcome.quarantined;
    result.acked += acked;
    deps.onPage?.(stream, { ...outcome, items: page.items.length, acked, durationMs: Date.now() - pageStarted });

    if (!page.more) return result;
    if (result.pages >= budget.maxPages || Date.now() - started >= budget.maxMs) {
      result.more = true;
      return result;
    }
  }
}

async function recordPage(deps: DrainDeps, stream: HqStream, items: unknown[]): Promise<PageOutcome> {
  if (items.length === 0) {
    await markStreamPolled(deps.knex, stream);
    return { recorded: 0, duplicates: 0, quarantined: 0, ackIds: [], dirtyPairs: 0 };
  }
  if (stream === 'receipts') {
    const { valid, quarantined } = splitPage('receipt', items);
    return recordReceiptsPage(deps.knex, valid as ValidReceipt[], quarantined, deps.months);
  }
  const { valid, quarantined } = splitPage('inbound', items);
  return recordInboundPage(deps.knex, valid as ValidInbound[], quarantined, deps.months);
}
