import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Database } from '../db/orm';
import type { HqClient } from '../hq/client';
import type { HqStream } from '../texting/streams';
import type { Metrics } from '../metrics/metrics';
import type { FollowUp } from '../queues/job';
import type { JobQueues } from '../queues/queues';
import type { MonthBucketer } from '../usage/month';
import type { Backoff } from '../util/backoff';
import type { PageStore } from '../ingest/page-store';

/**
 * What the process built at start-up: the status server reads it, and the jobs pick their deps
 * from it (workers/services.ts WorkerServices is the part they may see).
 */
export interface AppContext {
  config: Readonly<Config>;
  logger: Logger;
  db: Database;
  hq: HqClient;
  months: MonthBucketer;
  /**
   * Per stream: after a page's write failed for a reason of the database, no page of that stream
   * is fetched until this backoff passes (workers/services.ts says more).
   */
  dbGates: Record<HqStream, Backoff>;
  /** Where the poll jobs record HQ's pages: the database engine's page store, chosen at start-up (src/ingest/open-page-store.ts). */
  pageStore: PageStore;
  queues: JobQueues;
  /** Queues the work an office request or a job leaves for others: sends, a recompute (workers/index.ts). */
  followUp(work: FollowUp): Promise<void>;
  /** This process's Prometheus metrics (src/metrics). */
  metrics: Metrics;
  startedAt: number;
}
