/**
 * Queue progress kept in Redis, where every process sees it: when a job of each queue last
 * completed (finished jobs are removed at once, so BullMQ itself keeps no trace of them), and the
 * waiting jobs BullMQ holds. The status process judges from this whether the workers — in
 * whichever processes they run — make progress (readiness) and exports the counts (metrics).
 */
import type { Redis } from 'ioredis';
import type { JobQueues } from './queues';

/** The job states reported per queue (completed jobs are removed at once, so not listed). */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'waiting-children'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface QueueSnapshot {
  queue: string;
  counts: Record<JobState, number>;
  /** Jobs ready to run but not taken: waiting + prioritized. */
  waiting: number;
  /** When the oldest of them was added (ms), or null when none waits. */
  oldestWaitingAt: number | null;
  /** When a job of this queue last completed, in any process (ms), or null when never seen. */
  lastCompletedAt: number | null;
}

export function progressKey(prefix: string): string {
  // No queue is named 'econnector-progress', so this never meets BullMQ's '<prefix>:<queue>:*' keys.
  return `${prefix}:econnector-progress`;
}

/** Notes in Redis that a job of `queue` completed now. Best effort: a failure only delays readiness. */
export async function recordCompletion(redis: Redis, prefix: string, queue: string, at: number = Date.now()): Promise<void> {
  await redis.hset(progressKey(prefix), `${queue}:completedAt`, String(at));
}

async function withTimeout<T>(run: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Counts, oldest waiting job and last completion of every queue. Throws when Redis does not answer in time. */
export async function snapshotQueues(queues: JobQueues, redis: Redis, timeoutMs = 1000): Promise<QueueSnapshot[]> {
  const read = async (): Promise<QueueSnapshot[]> => {
    const completed = await redis.hgetall(progressKey(queues.prefix));
    return Promise.all(
      queues.names().map(async (name): Promise<QueueSnapshot> => {
        const queue = queues.queue(name);
        const [raw, oldest] = await Promise.all([
          queue.getJobCounts(...JOB_STATES),
          // Oldest first: the head of the wait list, and the first prioritized job.
          queue.getJobs(['wait', 'prioritized'], 0, 0, true),
        ]);
        const counts = Object.fromEntries(JOB_STATES.map((s) => [s, Number(raw[s] ?? 0)])) as Record<JobState, number>;
        const waiting = counts.waiting + counts.prioritized;
        const stamps = oldest.filter((j) => j && typeof j.timestamp === 'number').map((j) => j.timestamp + Number(j.opts?.delay ?? 0));
        const last = completed[`${name}:completedAt`];
        return {
          queue: name,
          counts,
          waiting,
          oldestWaitingAt: waiting > 0 && stamps.length > 0 ? Math.min(...stamps) : null,
          lastCompletedAt: last !== undefined && /^\d+$/.test(last) ? Number(last) : null,
        };
      }),
    );
  };
  return withTimeout(read(), timeoutMs, 'redis');
}
