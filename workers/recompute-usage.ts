import { z } from 'zod';
import { defineJob } from '../src/queues/job';
import { everySeconds } from '../src/scheduler';
import { recomputeDirtyUsage } from '../src/usage/aggregates';
import type { WorkerServices } from './services';

/** Kicks within this window collapse into one run (the job id is fixed while it waits). */
export const RECOMPUTE_DEBOUNCE_MS = 2000;

/**
 * Recomputes the monthly usage of the (clinic, month) pairs marked dirty (office messages, a change
 * of OFFICE_TZ; pages of receipts and replies apply exact deltas instead, src/usage/aggregates.ts).
 * A recompute scans a (clinic, month) and holds the writer meanwhile, so kicks are debounced: a
 * burst of them (an office refusal per message, the schedule) is one run a little later, well
 * inside the 15 s that /status may lag.
 */
export const recomputeUsageJob = defineJob({
  name: 'recompute-usage',
  payload: z.strictObject({}),
  jobId: () => 'recompute-usage',
  options: { delay: RECOMPUTE_DEBOUNCE_MS },
  concurrency: () => 1,
  schedule: { cron: (config) => everySeconds(config.schedule.aggregatesEverySeconds) },
  deps: (s: WorkerServices) => ({ knex: s.db.knex, months: s.months }),
  handler: (_payload, { knex, months }) => recomputeDirtyUsage(knex, months),
  // A page committed while we computed left its pair dirty: go again rather than wait for a tick.
  again: (result) => result.remarked > 0 || result.pairs >= 20_000,
  summarize: (result) => ({ ...result }),
  quiet: (result) => result.pairs === 0,
});
