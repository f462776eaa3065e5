import type { JobDefinition } from '../src/queues/job';
import { recomputeDirtyUsage, type RecomputeOutcome } from '../src/usage/aggregates';

/** Kicks within this window collapse into one run (the job id is fixed while it waits). */
export const RECOMPUTE_DEBOUNCE_MS = 2000;

/**
 * Recomputes the monthly usage of the (clinic, month) pairs marked dirty (office messages, a change
 * of OFFICE_TZ; pages of receipts and replies apply exact deltas instead, src/usage/aggregates.ts).
 * A recompute scans a (clinic, month) and holds the writer meanwhile, so kicks are debounced: a
 * burst of them (an office refusal per message, the schedule) is one run a little later, well
 * inside the 15 s that /status may lag.
 */
export const recomputeUsageJob: JobDefinition<object, RecomputeOutcome> = {
  name: 'recompute-usage',
  jobId: () => 'recompute-usage',
  options: { delay: RECOMPUTE_DEBOUNCE_MS },
  concurrency: 1,
  handler: (_payload, { app }) => recomputeDirtyUsage(app.db.knex, app.months),
  // A page committed while we computed left its pair dirty: go again rather than wait for a tick.
  again: (result) => result.remarked > 0 || result.pairs >= 20_000,
  summarize: (result) => ({ ...result, quiet: result.pairs === 0 }),
};
