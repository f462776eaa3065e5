/**
 * The shape of a job: a name, the id that collapses duplicates (so a cron tick in every process,
 * or a tick that fires while the last run is still going, never queues the same work twice),
 * BullMQ options, and a plain async handler `(payload, ctx)`. workers/ holds one file per job.
 */
import type { Job, JobsOptions } from 'bullmq';
import type { Logger } from 'winston';
import type { AppContext } from '../daemon/context';
import type { QueueName } from './names';

export interface JobContext {
  app: AppContext;
  job: Job;
  logger: Logger;
  /** Aborts when the process begins to shut down: stop between pages. */
  signal: AbortSignal;
}

export interface JobDefinition<P extends object = object, R = unknown> {
  name: QueueName;
  /** Business-keyed id: the same work is never queued twice. */
  jobId(payload: P): string;
  /** Options for BullMQ; merged over DEFAULT_JOB_OPTIONS. */
  options?: JobsOptions;
  /** Jobs of this kind run at once in one process. */
  concurrency: number;
  handler(payload: P, ctx: JobContext): Promise<R>;
  /** When it returns true for a result, the job is queued again as soon as it finishes (more pages wait). */
  again?(result: R): boolean;
  /** Short summary of a result for the job's closing log line (never patient data). */
  summarize?(result: R): Record<string, unknown>;
}

/**
 * Finished jobs are removed at once: their ids must be free for the next tick, and finished jobs
 * would otherwise pile up in Redis for ever. Failures are logged and counted, not kept in Redis;
 * the schedule (and the HQ client's backoff) is the retry.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: true,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<any, any>;
