/**
 * The handler shared by the two poll jobs (receipts, inbound): drain the stream within the job's
 * budget. A closed backoff gate (HQ asked us to wait, or HQ or the database failed recently) is
 * not a failure of this job: it ends quietly and the next tick looks again. When the gate closes,
 * or HQ answers 429, after the job recorded pages, the job ends as done with those pages in its
 * summary (the pages' metrics counted them already; a summary of an idle or failed job did not).
 * Whatever ends a job, the pages it recorded go into the stream's catch-up state (catch-up.ts),
 * which /status reads.
 *
 * A stream may have several pollers (config ingest.pollers), in one process or several: each runs
 * this on its own, leasing its own pages (HQ never hands one item to two GETs within its lease),
 * and each acknowledges a page only after that page's commit. The pollers of a process share its
 * HQ client (so a Retry-After holds for all of them) and the stream's database gate.
 */
import type { Knex } from '@mikro-orm/knex';
import type { Logger } from 'winston';
import { HqBackoffError, HqRateLimitedError } from '../hq/errors';
import type { HqClient } from '../hq/client';
import type { HqStream } from '../texting/streams';
import type { Backoff } from '../util/backoff';
import { DatabaseUnavailableError, drainStream, type DrainDeps, type DrainResult } from './drain';
import { recordCatchUp, type CatchUpProgress } from './catch-up';
import type { PageStore } from './page-store';
import { recordStreamError } from '../db/store/stream-state';

export type PollResult = DrainResult & { deferredMs?: number };

/** A poll that fetched nothing. */
export const IDLE_POLL: Readonly<PollResult> = Object.freeze({ pages: 0, items: 0, recorded: 0, duplicates: 0, quarantined: 0, acked: 0, more: false });

/** What a poll job uses: picked once per process, so every poller of a stream shares them. */
export interface PollDeps {
  hq: HqClient;
  /** Where pages are recorded (and, for catch-up state and stream errors, the database). */
  store: PageStore;
  knex: Knex;
  /** The stream's database gate, shared by the stream's pollers in this process (src/ingest/drain.ts). */
  dbGate: Backoff;
  pageSize: number;
  budget: { maxPagesPerJob: number; maxJobSeconds: number };
  /** Counts a recorded page (src/metrics). */
  onPageRecorded: NonNullable<DrainDeps['onPage']>;
  /** Office messages a page owes HQ (automatic replies): src/queues/job.ts FollowUp. */
  sendOwed(guids: readonly string[]): void;
  /** The process's logger, for its catch-up progress lines. */
  logger: Logger;
  /** The process's progress lines (one per stream is enough; pollers of a stream share it). */
  progress: CatchUpProgress;
}

export async function pollStream(stream: HqStream, deps: PollDeps, helpers: { logger: Logger; signal: AbortSignal }): Promise<PollResult> {
  const { progress } = deps;
  const startedAt = Date.now();
  // What the drain recorded and acknowledged so far, kept when it throws.
  const tally: DrainResult = { ...IDLE_POLL };
  // What HQ said with the last acknowledged page: whether a backlog is still waiting.
  let lastMore = false;
  // What /status says about catching up; a failure here must not fail a job whose pages are acknowledged.
  const noteCatchUp = (items: number, more: boolean): Promise<void> =>
    recordCatchUp(deps.knex, progress, stream, { items, more, startedAt }).catch((err: Error) => {
      helpers.logger.warn('could not record catch-up state', { stream, error: err.message });
    });
  try {
    const result = await drainStream(
      {
        hq: deps.hq,
        store: deps.store,
        dbGate: deps.dbGate,
        pageSize: deps.pageSize,
        onPage: (_stream, page) => {
          deps.onPageRecorded(stream, page);
          lastMore = page.more;
          // Pages update usage in place (deltas); pairs they leave dirty (office replies) wait for the
          // scheduled recompute (every few seconds) rather than one per page, which would hold the
          // writer with a month's scan after every page of a drain.
          // Automatic HELP replies the page recorded (the outbox sweep covers a kick that fails).
          if (page.sendGuids && page.sendGuids.length > 0) deps.sendOwed(page.sendGuids);
          if (page.quarantined > 0) helpers.logger.warn('items quarantined', { stream, quarantined: page.quarantined });
          progress.onPage(stream, page.items, page.more, (message, meta) => deps.logger.info(message, meta));
        },
      },
      stream,
      { maxPages: deps.budget.maxPagesPerJob, maxMs: deps.budget.maxJobSeconds * 1000, signal: helpers.signal },
      tally,
    );
    await noteCatchUp(result.items, result.more);
    return result;
  } catch (err) {
    // Pages recorded and acknowledged before whatever ended the job (a 429, a closed gate, a
    // failure) are part of the catch-up like any others: /status counts them too. A job that
    // recorded nothing leaves the state alone (HQ said nothing about its backlog).
    if (tally.pages > 0) await noteCatchUp(tally.items, lastMore);
    // `more` stays false: the next tick looks again, not an immediate re-queue into a closed gate.
    if (err instanceof HqBackoffError || (err instanceof DatabaseUnavailableError && !err.attempted)) {
      return { ...tally, more: false, deferredMs: err.waitMs };
    }
    // What /status shows as the stream's last error. Failing to write it must not replace the
    // job's own error (the one the job fails or ends with), so it is one warning of its own.
    await recordStreamError(deps.knex, stream, err as Error).catch((writeErr: Error) =>
      helpers.logger.warn('could not record the stream\'s last error', { stream, error: writeErr.message }));
    // HQ asked us to wait after the job's pages were recorded: the job did its work (the 429 is in
    // stream_state like any error, and the HQ client holds the endpoint until Retry-After).
    if (err instanceof HqRateLimitedError && tally.pages > 0) return { ...tally, more: false, deferredMs: err.retryAfterMs };
    throw err;
  }
}

export function summarizePoll(result: PollResult): Record<string, unknown> {
  return {
    pages: result.pages,
    items: result.items,
    recorded: result.recorded,
    duplicates: result.duplicates,
    quarantined: result.quarantined,
    acked: result.acked,
    more: result.more,
    ...(result.deferredMs !== undefined ? { deferredMs: result.deferredMs } : {}),
  };
}

/** An idle poll (nothing waiting at HQ) every two seconds is not news at info level. */
export function isIdlePoll(result: PollResult): boolean {
  return result.items === 0;
}
