/**
 * Runs the jobs of the registry as BullMQ workers. Each job's deps are picked once, here, from the
 * process's services; each run gets a child logger carrying its queue, id and attempt, and ends
 * with one line giving its duration and "attempt a of n". A payload that breaks its schema, or a
 * handler that throws, fails the job (never swallowed); a job whose result says more work waits is
 * queued again as soon as it is finished, and the work its result leaves for others is handed to
 * `followUp`.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import type { Config } from '../config';
import { jobLogger } from '../log';
import type { AnyJobDefinition, FollowUp } from './job';
import type { JobQueues } from './queues';
import type { JobRegistry } from './registry';

/** A job whose process died is handed back to a worker within about LOCK_DURATION_MS + 2 * STALLED_INTERVAL_MS. */
export const LOCK_DURATION_MS = 8_000;
export const STALLED_INTERVAL_MS = 3_000;

export interface RunningWorkers {
  workers: Worker[];
  /** Stops taking new jobs; running ones go on (and see their signal abort when the caller aborts it). */
  pause(): Promise<void>;
  /** Resolves once no handler of this process is running (whatever each one's outcome). */
  settled(): Promise<void>;
  /** Waits for running jobs to finish, then closes the workers and their connections. */
  close(): Promise<void>;
}

interface WorkerOptions<S> {
  registry: JobRegistry<S>;
  /** What each job's deps() picks from. */
  services: S;
  config: Readonly<Config>;
  queues: JobQueues;
  connection: Redis;
  logger: Logger;
  /** Aborts when the process begins to shut down: handlers stop between pages. */
  signal: AbortSignal;
  followUp(work: FollowUp): void;
  onJobFinished?(event: { queue: string; ok: boolean; durationMs: number }): void;
}

class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
}

export function startWorkers<S>(opts: WorkerOptions<S>): RunningWorkers {
  const { queues, signal } = opts;
  const workers: Worker[] = [];
  const running = new Set<Promise<unknown>>();
  for (const def of opts.registry.values()) workers.push(startWorker(def, opts));
  return {
    workers,
    pause: async () => {
      // doNotWaitActive: stop fetching now; running jobs finish on their own (close waits for them).
      await Promise.allSettled(workers.map((w) => w.pause(true)));
    },
    settled: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    close: async () => {
      await Promise.allSettled(workers.map((w) => w.close()));
    },
  };

  function startWorker(def: AnyJobDefinition<S>, o: WorkerOptions<S>): Worker {
    const deps: unknown = def.deps(o.services);
    const processor = async (job: Job): Promise<unknown> => {
      const attempts = job.opts.attempts ?? 1;
      const attempt = job.attemptsMade + 1;
      // Every line of the job carries its queue, id, attempt and attempts (src/log jobLogger)...
      const logger = jobLogger(o.logger, { queue: def.name, jobId: job.id, attempt, attempts });
      // ...and its closing line says it in words too, graphile-worker style.
      const attemptOf = `attempt ${attempt} of ${attempts}`;
      const started = Date.now();
      try {
        const parsed = def.payload.safeParse(job.data ?? {});
        if (!parsed.success) throw new InvalidPayloadError(`${def.name}: the payload does not match its schema`);
        const handling = def.handler(parsed.data, deps, { job, logger, signal });
        running.add(handling);
        const result: unknown = await handling.finally(() => running.delete(handling));
        const durationMs = Date.now() - started;
        o.onJobFinished?.({ queue: def.name, ok: true, durationMs });
        const work = def.followUp?.(result);
        if (work) o.followUp(work);
        logger.log(def.quiet?.(result) ? 'debug' : 'info', 'job done', { durationMs, attemptOf, ...(def.summarize?.(result) ?? {}) });
        return result;
      } catch (err) {
        const durationMs = Date.now() - started;
        o.onJobFinished?.({ queue: def.name, ok: false, durationMs });
        logger.warn('job failed', { durationMs, attemptOf, error: (err as Error).message });
        throw err;
      }
    };
    const worker = new Worker(def.name, processor, {
      connection: o.connection,
      prefix: queues.prefix,
      concurrency: def.concurrency(o.config),
      autorun: true,
      // Crash recovery. Jobs have fixed ids (poll-receipts-0, ...), so while a job that a killed
      // process left 'active' sits in Redis, every tick's add collapses into it and nothing polls.
      // BullMQ gives such a job back only once its lock has expired and a stalled check has seen
      // it twice: with the defaults (30 s lock, 30 s checks) that was up to a minute of silence
      // after every kill -9. A live worker renews its lock every lockDuration / 2.
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
    });
    // Re-queue from 'completed', not from inside the processor: only once BullMQ has moved the job
    // out (and removed it) is its id free again; adding it earlier would be collapsed and lost.
    worker.on('completed', (job, result) => {
      if (def.again?.(result) && !signal.aborted) queues.kick(def.name, job.data ?? {});
    });
    // Without a listener, one Redis error event would crash the process.
    worker.on('error', (err) => o.logger.debug('worker error', { queue: def.name, error: err.message }));
    return worker;
  }
}
