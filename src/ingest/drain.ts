/**
 * Drains one HQ stream, page by page: GET a page, validate each item, record the page in one
 * transaction, and only then acknowledge it. Stops when HQ says there is no more, when the job's
 * page or time budget is spent (the caller re-queues it at once), or when shutdown begins
 * (between pages: a page is either committed and acknowledged, or abandoned before commit and
 * handed out again by HQ after its lease).
 *
 * The drain knows nothing of database engines: it hands each validated page to the PageStore
 * chosen at start-up (page-store.ts) and acknowledges the ids its outcome names.
 *
 * While a page is being recorded, the next one is already fetched and validated, and the page
 * before it is being acknowledged: HTTP, JSON parsing and validation overlap the writing instead
 * of adding to it, and the database never idles through an acknowledgement's round trip
 * (BENCHMARKS.md). Acknowledgement still strictly follows each page's
 * commit; a page fetched ahead and then not recorded (a failed write, shutdown) is simply handed
 * out again after its lease, like any page abandoned before commit.
 */
import type { HqClient } from '../hq/client';
import type { HqStream } from '../texting/streams';
import type { Backoff } from '../util/backoff';
import type { PageOutcome, PageStore } from './page-store';
import { quarantineEntry, splitPage, type QuarantineEntry, type SplitPage, type ValidInbound, type ValidReceipt } from '../hq/items';
import { itemFailureReason, noteDatabaseError } from '../db/errors';
import { createHash } from 'node:crypto';

export interface DrainDeps {
  hq: HqClient;
  store: PageStore;
  /** This stream's database gate: after a write failed for a reason of the database, no page is fetched (and leased) until it passes. */
  dbGate: Backoff;
  pageSize: number;
  onPage?: (stream: HqStream, outcome: PageOutcome & { items: number; acked: number; durationMs: number; more: boolean }) => void;
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
  /** HQ's body, to quarantine an item verbatim if the database refuses it. */
  text: string | undefined;
  split: SplitPage<ValidReceipt> | SplitPage<ValidInbound> | null;
  startedAt: number;
}

async function fetchPage(deps: DrainDeps, stream: HqStream, signal: AbortSignal | undefined): Promise<FetchedPage> {
  const startedAt = Date.now();
  const page = await deps.hq.getPage(stream, deps.pageSize, signal);
  const split = page.items.length === 0 ? null : splitPage(stream === 'receipts' ? 'receipt' : 'inbound', page.items);
  return { count: page.items.length, more: page.more, text: page.text, split, startedAt };
}

/**
 * `result` is the tally the drain adds each acknowledged page to (a fresh one unless the caller
 * passes its own): when the drain throws, a caller's tally still holds what was recorded and
 * acknowledged before, the same pages `onPage` saw (src/ingest/poll-job.ts reports them).
 */
export async function drainStream(
  deps: DrainDeps, stream: HqStream, budget: DrainBudget,
  result: DrainResult = { pages: 0, items: 0, recorded: 0, duplicates: 0, quarantined: 0, acked: 0, more: false },
): Promise<DrainResult> {
  const started = Date.now();
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
        noteDatabaseError(err);
        const waitMs = deps.dbGate.fail();
        throw new DatabaseUnavailableError(`could not record a ${stream} page (${(err as Error).message}); nothing acknowledged; next try in ${waitMs} ms`, waitMs, true);
      }
      recorded += 1;
      // Committed: acknowledge it while the next page is written. One acknowledgement at a time,
      // in page order; a failed one surfaces here, at the next page's commit, or when the drain ends.
      await settle();
      // Only the page's size, start and `more` go along: its items are not kept alive through the round trip.
      acking = acknowledge(deps, stream, budget, result, { count: page.count, startedAt: page.startedAt, more: page.more }, outcome);
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

async function acknowledge(deps: DrainDeps, stream: HqStream, budget: DrainBudget, result: DrainResult, page: Pick<FetchedPage, 'count' | 'startedAt' | 'more'>, outcome: PageOutcome): Promise<void> {
  const acked = outcome.ackIds.length > 0 ? await deps.hq.ack(stream, outcome.ackIds, budget.signal) : 0;
  result.pages += 1;
  result.items += page.count;
  result.recorded += outcome.recorded;
  result.duplicates += outcome.duplicates;
  result.quarantined += outcome.quarantined;
  result.acked += acked;
  deps.onPage?.(stream, { ...outcome, items: page.count, acked, durationMs: Date.now() - page.startedAt, more: page.more });
}

/** One unit of a page for splitting: a valid item (with its position in HQ's page) or a quarantine entry. */
type Unit<T> = { valid: T; index: number } | { entry: QuarantineEntry };

async function recordPage(deps: DrainDeps, stream: HqStream, page: FetchedPage): Promise<PageOutcome> {
  if (page.split === null) return writeUnits(deps, stream, [], []);
  const split = page.split as SplitPage<ValidReceipt | ValidInbound>;
  try {
    return await writeUnits(deps, stream, split.valid, split.quarantined);
  } catch (err) {
    if (itemFailureReason(err) === null) throw err;
    // The page's items, not the database, made the write fail: find them, record the rest.
    const units: Array<Unit<ValidReceipt | ValidInbound>> = [
      ...split.valid.map((valid, i) => ({ valid, index: split.validIndex[i] ?? -1 })),
      ...split.quarantined.map((entry) => ({ entry })),
    ];
    return splitAndRecord(deps, stream, units, rawItems(page), err);
  }
}

/** HQ's items of the page verbatim, parsed again from the body only when a page must be split. */
function rawItems(page: FetchedPage): (index: number) => unknown {
  let items: unknown[] | null = null;
  return (index) => {
    if (items === null) {
      try {
        const body = JSON.parse(page.text ?? 'null') as Record<string, unknown> | null;
        const list = body?.receipts ?? body?.messages;
        items = Array.isArray(list) ? list : [];
      } catch {
        items = [];
      }
    }
    return items[index];
  };
}

/**
 * Bisects a page whose write failed for a reason that belongs to its items: each half is written
 * in a transaction of its own, a half that fails the same way is split again, and a single item
 * that still fails is quarantined verbatim with the database's reason. k bad items in a page of n
 * cost about 2k·log2(n) transactions, and only on pages that hold one. A failure that belongs to
 * the database at any step ends the whole page unacknowledged, like any failed write: the halves
 * already committed are recognised as stored when HQ hands the page out again.
 */
async function splitAndRecord(
  deps: DrainDeps, stream: HqStream, units: ReadonlyArray<Unit<ValidReceipt | ValidInbound>>, raw: (index: number) => unknown, failure: unknown,
): Promise<PageOutcome> {
  if (units.length === 1) return quarantineRefused(deps, stream, units[0]!, raw, itemFailureReason(failure)!);
  const mid = units.length >>> 1;
  const outcomes: PageOutcome[] = [];
  for (const half of [units.slice(0, mid), units.slice(mid)]) {
    const valid = half.flatMap((u) => ('valid' in u ? [u.valid] : []));
    const entries = half.flatMap((u) => ('entry' in u ? [u.entry] : []));
    try {
      outcomes.push(await writeUnits(deps, stream, valid, entries));
    } catch (err) {
      if (itemFailureReason(err) === null) throw err;
      outcomes.push(await splitAndRecord(deps, stream, half, raw, err));
    }
  }
  return mergeOutcomes(outcomes);
}

/** Stores one item the database refused in quarantine, verbatim, with the database's reason. */
async function quarantineRefused(
  deps: DrainDeps, stream: HqStream, unit: Unit<ValidReceipt | ValidInbound>, raw: (index: number) => unknown, reason: string,
): Promise<PageOutcome> {
  if ('valid' in unit) return writeUnits(deps, stream, [], [quarantineEntry(stream === 'receipts' ? 'receipt' : 'inbound', raw(unit.index) ?? unit.valid, reason)]);
  // A quarantine entry the database refused: keyed by its content's hash instead of its id, and
  // at last without its ack id (its text still names it). A refusal of that too fails the page.
  const hashed: QuarantineEntry = { ...unit.entry, itemKey: `sha256:${createHash('sha256').update(unit.entry.raw).digest('hex')}`, reason: `${unit.entry.reason}; ${reason}` };
  try {
    return await writeUnits(deps, stream, [], [hashed]);
  } catch (err) {
    if (itemFailureReason(err) === null) throw err;
    return writeUnits(deps, stream, [], [{ ...hashed, ackId: null }]);
  }
}

function mergeOutcomes(outcomes: readonly PageOutcome[]): PageOutcome {
  const ackIds = new Set<string>();
  const sendGuids: string[] = [];
  let recorded = 0, duplicates = 0, quarantined = 0, usagePairs = 0;
  for (const o of outcomes) {
    recorded += o.recorded;
    duplicates += o.duplicates;
    quarantined += o.quarantined;
    usagePairs += o.usagePairs;
    for (const id of o.ackIds) ackIds.add(id);
    sendGuids.push(...o.sendGuids);
  }
  return { recorded, duplicates, quarantined, ackIds: [...ackIds], usagePairs, sendGuids };
}

/** Writes valid items and quarantine entries of one stream in one transaction. */
function writeUnits(deps: DrainDeps, stream: HqStream, valid: ReadonlyArray<ValidReceipt | ValidInbound>, quarantined: readonly QuarantineEntry[]): Promise<PageOutcome> {
  const now = Date.now();
  return stream === 'receipts'
    ? deps.store.recordReceipts({ receipts: valid as readonly ValidReceipt[], quarantined, now })
    : deps.store.recordInbound({ messages: valid as readonly ValidInbound[], quarantined, now });
}
