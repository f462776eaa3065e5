import { sweepOutbox, type SweepOutcome } from '../src/office/send';
import type { JobDefinition } from '../src/queues/job';

/**
 * Queues again the office messages still owed to HQ whose send job is gone (Redis was away when
 * it was queued, or the job ran out of attempts while HQ was down), and gives up, as failed,
 * those not accepted within a day. Queuing collapses into a send job that still exists.
 */
export const sweepOutboxJob: JobDefinition<object, SweepOutcome> = {
  name: 'sweep-outbox',
  jobId: () => 'sweep-outbox',
  concurrency: 1,
  handler: async (_payload, { app }) => {
    const outcome = await sweepOutbox(app.db.knex, app.months);
    for (const guid of outcome.requeue) await app.queues.enqueue('send-message', { guid });
    if (outcome.expired > 0) app.queues.kick('recompute-usage');
    return outcome;
  },
  summarize: (r) => ({ requeued: r.requeue.length, expired: r.expired, quiet: r.requeue.length === 0 && r.expired === 0 }),
};
