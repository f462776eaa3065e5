import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Database } from '../db/orm';
import type { HqClient } from '../hq/client';
import type { HqStream } from '../texting/streams';
import type { Metrics } from '../metrics/metrics';
import type { JobQueues } from '../queues/queues';
import type { MonthBucketer } from '../usage/month';
import type { Backoff } from '../util/backoff';
import type { ReceiptsWriter } from '../ingest/receipts-writer';

/** What every job handler and the status server may use: built once at start-up. */
export interface AppContext {
  config: Readonly<Config>;
  logger: Logger;
  db: Database;
  hq: HqClient;
  months: MonthBucketer;
  /**
   * Per stream: after a page's write failed for a reason of the database, no page of that stream
   * is fetched until this backoff passes. One gate per stream, so that a stream whose pages keep
   * failing never holds the other one up (a database that is really down fails both on their own).
   */
  dbGates: Record<HqStream, Backoff>;
  /** On SQLite with the workers role: the thread that writes receipts pages (null: the knex writer). */
  receiptsWriter: ReceiptsWriter | null;
  queues: JobQueues;
  /** This process's Prometheus metrics (src/metrics). */
  metrics: Metrics;
  startedAt: number;
}
