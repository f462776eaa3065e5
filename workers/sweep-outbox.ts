import { z } from 'zod';
import { sweepOutbox } from '../src/office/send';
import { defineJob } from '../src/queues/job';
import { everySeconds } from '../src/scheduler';
import type { WorkerServices } from './services';

/** How often the outbox is looked at. */
const SWEEP_EVERY_SECONDS = 30;

/**
 * Queues again the office messages still owed to HQ whose send job is gone (Redis was away when
 * it was queued, or the job ran out of attempts while HQ was down), and gives up, as failed,
 * those not accepted within a day. Queuing collapses into a send job that still exists.
 */
export const sweepOutboxJob = defineJob({
  name: 'sweep-outbox',
  payload: z.strictObject({}),
  jobId: () => 'sweep-outbox',
  concurrency: () => 1,
  schedule: { cron: () => everySeconds(SWEEP_EVERY_SECONDS) },
  deps: (s: WorkerServices) => ({ knex: s.db.knex, months: s.months }),
  handler: (_payload, { knex, months }) => sweepOutbox(knex, months),
  followUp: (r) => ({ sendGuids: r.requeue, recomputeUsage: r.expired > 0 }),
  summarize: (r) => ({ requeued: r.requeue.length, expired: r.expired }),
  quiet: (r) => r.requeue.length === 0 && r.expired === 0,
});
