/**
 * Runs the handlers of the registry as BullMQ workers. Each job gets a child logger carrying its
 * queue, id and attempt, and ends with one line giving its duration and "attempt a of n". A handler
 * that throws fails the job (never swallowed); a job whose result says more work waits is queued
 * again as soon as it is finished.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppContext } from '../daemon/context';
import { jobLogger } from '../log';
import type { AnyJobDefinition } from './job';
import type { QueueName } from './names';

/** A job whose process died is handed back to a worker within about LOCK_DURATION_MS + 2 * STALLED_INTERVAL_MS. */
export const LOCK_DURATION_MS = 8_000;
export const STALLED_INTERVAL_MS = 3_000;

export interface RunningWorkers {
  workers: Worker[];
  /** Stops taking jobs and waits for running ones (which see `signal` abort) to finish. */
  close(): Promise<void>;
}

export function startWorkers(
  registry: ReadonlyMap<QueueName, AnyJobDefinition>,
  app: AppContext,
  connection: Redis,
  signal: AbortSignal,
  onJobFinished?: (event: { queue: QueueName; ok: boolean; durationMs: number }) => void,
): RunningWorkers {
  const workers: Worker[] = [];
  for (const def of registry.values()) {
    const processor = async (job: Job): Promise<unknown> => {
      const attempts = job.opts.attempts ?? 1;
      const attempt = job.attemptsMade + 1;
      // Every line of the job carries its queue, id, attempt and attempts (src/log jobLogger)...
      const logger = jobLogger(app.logger, { queue: def.name, jobId: job.id, attempt, attempts });
      // ...and its closing line says it in words too, graphile-worker style.
      const attemptOf = `attempt ${attempt} of ${attempts}`;
      const started = Date.now();
      try {
        const result = await def.handler(job.data ?? {}, { app, job, logger, signal });
        const durationMs = Date.now() - started;
        onJobFinished?.({ queue: def.name, ok: true, durationMs });
        const summary = def.summarize?.(result) ?? {};
        const quiet = (summary as { quiet?: boolean }).quiet === true;
        logger.log(quiet ? 'debug' : 'info', 'job done', { durationMs, attemptOf, ...summary, quiet: undefined });
        return result;
      } catch (err) {
        const durationMs = Date.now() - started;
        onJobFinished?.({ queue: def.name, ok: false, durationMs });
        logger.warn('job failed', { durationMs, attemptOf, error: (err as Error).message });
        throw err;
      }
    };
    const worker = new Worker(def.name, processor, {
      connection,
      prefix: app.queues.prefix,
      concurrency: def.concurrency,
      // Finished jobs are removed by their options; keep nothing else around.
      autorun: true,
      // Crash recovery. Jobs have fixed ids (poll-receipts, ...), so while a job that a killed
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
      if (def.again?.(result) && !signal.aborted) app.queues.kick(def.name, job.data ?? {});
    });
    worker.on('error', (err) => app.logger.debug('worker error', { queue: def.name, error: err.message }));
    workers.push(worker);
  }
  return {
    workers,
    close: async () => {
      await Promise.allSettled(workers.map((w) => w.close()));
    },
  };
}
