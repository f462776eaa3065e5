/**
 * What the status server and each of its route groups (./routes) are given. The daemon passes its
 * whole application context, which has all of this; the server names only what it uses, so that
 * status depends on the layers below it and never on the daemon that starts it. No route imports
 * the server either.
 */
import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Database } from '../db/orm';
import type { Metrics } from '../metrics/metrics';
import type { FollowUp } from '../queues/job';
import type { QueueSnapshot } from '../queues/progress';
import type { JobQueues } from '../queues/queues';
import type { MonthBucketer } from '../usage/month';

export interface StatusApp {
  config: Readonly<Config>;
  logger: Logger;
  db: Database;
  months: MonthBucketer;
  /** Names of the queues (readiness reports each). */
  queues: JobQueues;
  /** Queues an office message's send and a recompute (workers/index.ts followUpVia). */
  followUp(work: FollowUp): Promise<void>;
  metrics: Metrics;
  startedAt: number;
}

export interface StatusServerDeps {
  app: StatusApp;
  /** Pings Redis (the queues' connection). */
  pingRedis: () => Promise<unknown>;
  /** Counts, oldest waiting job and last completion per queue, from Redis (readiness: queue progress). */
  queueSnapshot?: () => Promise<QueueSnapshot[]>;
}
