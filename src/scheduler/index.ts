/**
 * The schedule: node-cron ticks that only ADD jobs, whose business-keyed ids collapse duplicates.
 * So a tick that fires while the last run still works, or the same schedule running in several
 * processes, never queues the same work twice. A tick that cannot reach Redis is skipped; the
 * next one tries again.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { JobQueues } from '../queues/queues';
import type { QueueName } from '../queues/names';

export interface ScheduleSettings {
  pollEverySeconds: number;
  aggregatesEverySeconds: number;
  accountSyncEveryMinutes: number;
}

/** A cron expression for "every n seconds" (n from 1 to 59; a divisor of 60 spaces ticks evenly). */
export function everySeconds(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 59) throw new RangeError(`every-seconds must be 1..59, got ${n}`);
  return n === 1 ? '* * * * * *' : `*/${n} * * * * *`;
}

/** A cron expression for "every n minutes" (n from 1 to 59). */
export function everyMinutes(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 59) throw new RangeError(`every-minutes must be 1..59, got ${n}`);
  return n === 1 ? '0 * * * * *' : `0 */${n} * * * *`;
}

export interface Scheduler {
  stop(): Promise<void>;
}

export function startScheduler(queues: JobQueues, settings: ScheduleSettings): Scheduler {
  const plan: Array<{ expression: string; jobs: QueueName[] }> = [
    { expression: everySeconds(settings.pollEverySeconds), jobs: ['poll-receipts', 'poll-inbound'] },
    { expression: everySeconds(settings.aggregatesEverySeconds), jobs: ['recompute-usage'] },
    { expression: everyMinutes(settings.accountSyncEveryMinutes), jobs: ['sync-account'] },
    // Office messages whose send job is gone (Redis was away when it was queued, or it ran out of attempts).
    { expression: everySeconds(30), jobs: ['sweep-outbox'] },
  ];
  const tasks: ScheduledTask[] = plan.map(({ expression, jobs }) =>
    cron.schedule(expression, () => jobs.forEach((job) => queues.kick(job)), { name: jobs.join('+'), noOverlap: true }),
  );
  // Start-up does not wait for the first tick.
  for (const job of ['sync-account', 'poll-receipts', 'poll-inbound', 'recompute-usage', 'sweep-outbox'] as const) queues.kick(job);
  return {
    stop: async () => {
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
