import type { JobDefinition } from '../src/queues/job';
import { recomputeDirtyUsage, type RecomputeOutcome } from '../src/usage/aggregates';

/** Recomputes the monthly usage of the (clinic, month) pairs that ingestion marked dirty. */
export const recomputeUsageJob: JobDefinition<object, RecomputeOutcome> = {
  name: 'recompute-usage',
  jobId: () => 'recompute-usage',
  concurrency: 1,
  handler: (_payload, { app }) => recomputeDirtyUsage(app.db.knex, app.months),
  // A page committed while we computed left its pair dirty: go again rather than wait for a tick.
  again: (result) => result.remarked > 0 || result.pairs >= 20_000,
  summarize: (result) => ({ ...result, quiet: result.pairs === 0 }),
};
