/**
 * What a process offers its jobs. Each job picks the few it needs, once, in its `deps` (workers/<job>.ts);
 * the daemon builds this at start-up (src/daemon/daemon.ts).
 */
import type { Logger } from 'winston';
import { CatchUpProgress } from '../src/ingest/catch-up';
import type { PollDeps } from '../src/ingest/poll-job';
import type { Config } from '../src/config';
import type { Database } from '../src/db/orm';
import type { HqClient } from '../src/hq/client';
import type { HqStream } from '../src/texting/streams';
import type { PageStore } from '../src/ingest/page-store';
import type { Metrics } from '../src/metrics/metrics';
import type { FollowUp } from '../src/queues/job';
import type { MonthBucketer } from '../src/usage/month';
import type { Backoff } from '../src/util/backoff';

export interface WorkerServices {
  config: Readonly<Config>;
  /** The process's logger (a job's own lines go to the logger in its helpers). */
  logger: Logger;
  db: Database;
  hq: HqClient;
  months: MonthBucketer;
  metrics: Metrics;
  /**
   * Per stream: after a page's write failed for a reason of the database, no page of that stream
   * is fetched until this backoff passes. One gate per stream, so that a stream whose pages keep
   * failing never holds the other one up (a database that is really down fails both on their own).
   */
  dbGates: Record<HqStream, Backoff>;
  /** Where the poll jobs record HQ's pages: the database engine's page store, chosen at start-up (src/ingest/open-page-store.ts). */
  pageStore: PageStore;
  /** Queues the work a job leaves for others (workers/index.ts followUpVia). */
  followUp(work: FollowUp): Promise<void>;
}

/**
 * The deps of a stream's poll jobs (workers/poll-receipts.ts, workers/poll-inbound.ts), picked once
 * per process: its pollers share the HQ client (one Retry-After per endpoint), the stream's
 * database gate and its progress lines.
 */
export function pollDepsFor(stream: HqStream, s: WorkerServices): { pollers: number; poll: PollDeps } {
  return {
    pollers: s.config.ingest.pollers[stream],
    poll: {
      hq: s.hq,
      store: s.pageStore,
      knex: s.db.knex,
      dbGate: s.dbGates[stream],
      pageSize: s.config.hq.pageSize,
      budget: s.config.ingest,
      onPageRecorded: s.metrics.pageRecorded.bind(s.metrics),
      sendOwed: (guids) => void s.followUp({ sendGuids: guids }),
      logger: s.logger,
      progress: new CatchUpProgress(),
    },
  };
}
