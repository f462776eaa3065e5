/**
 * The shape of a job, declared once in its own file under workers/: its name (which is also its
 * queue's), the schema of its payload, the business-keyed id that collapses duplicates (so a cron
 * tick in every process, or a tick that fires while the last run is still going, never queues the
 * same work twice), its schedule or none, BullMQ options, and a plain async handler
 * `(payload, deps, helpers)`. A job names the few services it needs (`deps`), picked once at
 * start-up from what the process offers: a handler never sees the whole process.
 *
 * This module knows nothing of the daemon: the services a job picks from are a type parameter,
 * so the queues sit below everything that uses them.
 */
import type { Job, JobsOptions } from 'bullmq';
import type { Logger } from 'winston';
import type { z } from 'zod';
import type { Config } from '../config';

/** What every handler gets besides its payload and deps. */
interface JobHelpers {
  job: Job;
  /** Every line carries the job's queue, id and attempt (src/log jobLogger). */
  logger: Logger;
  /** Aborts when the process begins to shut down: stop between pages. */
  signal: AbortSignal;
}

/**
 * Work a job (or an office request) leaves for other jobs: office messages to hand to HQ, and
 * whether usage needs a recompute. One function does it (workers/follow-up.ts); nothing else
 * queues a send or kicks a recompute.
 */
export interface FollowUp {
  /** Guids of office messages, recorded and counted, now owed to HQ. */
  sendGuids?: readonly string[];
  /** A (clinic, month) pair was marked dirty: recompute soon. */
  recomputeUsage?: boolean;
}

/** When the scheduler adds a job: a cron expression from the settings, and the payloads of each tick. */
interface JobSchedule<P> {
  /** A six-field node-cron expression (src/scheduler everySeconds / everyMinutes). */
  cron(config: Readonly<Config>): string;
  /** One job per payload each tick (poll jobs: one per poller); default one job with `{}`. */
  payloads?(config: Readonly<Config>): P[];
}

export interface JobDefinition<N extends string = string, P extends object = object, R = unknown, D = unknown, S = never> {
  name: N;
  /** Checked before the handler runs: a payload it refuses fails the job, never reaches the handler. */
  payload: z.ZodType<P>;
  /** Business-keyed id: the same work is never queued twice. */
  jobId(payload: P): string;
  /** Options for BullMQ; merged over DEFAULT_JOB_OPTIONS. */
  options?: JobsOptions;
  /** Jobs of this kind that run at once in one process. */
  concurrency(config: Readonly<Config>): number;
  /** null: only other work queues it (a send is queued by the office, a follow-up). */
  schedule: JobSchedule<P> | null;
  /** The services the handler uses, picked once when the workers start. */
  deps(services: S): D;
  handler(payload: P, deps: D, helpers: JobHelpers): Promise<R>;
  /** When it returns true for a result, the job is queued again as soon as it finishes (more pages wait). */
  again?(result: R): boolean;
  /** Work the result leaves for other jobs (workers/follow-up.ts does it). */
  followUp?(result: R): FollowUp;
  /** Short summary of a result for the job's closing log line (never patient data). */
  summarize?(result: R): Record<string, unknown>;
  /** A result not worth an info line (an idle poll every two seconds): its closing line is at debug. */
  quiet?(result: R): boolean;
}

/** The identity function that lets TypeScript infer a job's types from its file. */
export function defineJob<N extends string, P extends object, R, D, S>(def: JobDefinition<N, P, R, D, S>): JobDefinition<N, P, R, D, S> {
  return def;
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

/**
 * A job of any payload, result and deps, as the registry, the queues and the workers hold them.
 * The handler's own types were checked where the job was defined (defineJob).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition<S = any> = JobDefinition<string, any, any, any, S>;
