/**
 * The schedule: node-cron ticks that only ADD jobs, whose business-keyed ids collapse duplicates.
 * So a tick that fires while the last run still works, or the same schedule running in several
 * processes, never queues the same work twice. A tick that cannot reach Redis is skipped; the
 * next one tries again. The plan is derived from the jobs' own schedules (workers/<job>.ts).
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../config';
import type { AnyJobDefinition } from '../queues/job';
import type { JobQueues } from '../queues/queues';

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

/** One tick of the schedule: the jobs (with their payloads) it adds. */
interface PlannedTick {
  cron: string;
  jobs: Array<{ name: string; payload: object }>;
}

/** The jobs with a schedule, grouped by cron expression, in the order of the list of jobs. */
export function schedulePlan(jobs: Iterable<AnyJobDefinition>, config: Readonly<Config>): PlannedTick[] {
  const byCron = new Map<string, PlannedTick>();
  for (const def of jobs) {
    if (!def.schedule) continue;
    const expression = def.schedule.cron(config);
    if (!cron.validate(expression)) throw new RangeError(`job '${def.name}': '${expression}' is not a cron expression`);
    let tick = byCron.get(expression);
    if (!tick) byCron.set(expression, (tick = { cron: expression, jobs: [] }));
    for (const payload of def.schedule.payloads?.(config) ?? [{}]) tick.jobs.push({ name: def.name, payload });
  }
  return [...byCron.values()];
}

export interface Scheduler {
  stop(): Promise<void>;
}

export function startScheduler(queues: JobQueues, plan: readonly PlannedTick[]): Scheduler {
  const tasks: ScheduledTask[] = plan.map(({ cron: expression, jobs }) =>
    cron.schedule(expression, () => jobs.forEach((j) => queues.kick(j.name, j.payload)), { name: [...new Set(jobs.map((j) => j.name))].join('+'), noOverlap: true }),
  );
  // Start-up does not wait for the first tick.
  for (const tick of plan) for (const j of tick.jobs) queues.kick(j.name, j.payload);
  return {
    stop: async () => {
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
