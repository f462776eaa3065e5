/**
 * Every job of the daemon: the one list that the queues, the schedule and the registry are derived
 * from (src/queues/registry.ts checks at start-up that each name has exactly one handler). A job
 * is its file: workers/<name>.ts declares the job named <name> and nothing else
 * (test/unit/jobs.test.ts holds the list to that).
 */
import type { Logger } from 'winston';
import type { AnyJobDefinition, FollowUp } from '../src/queues/job';
import type { JobQueues } from '../src/queues/queues';
import { pollInboundJob } from './poll-inbound';
import { pollReceiptsJob } from './poll-receipts';
import { recomputeUsageJob } from './recompute-usage';
import { sendMessageJob } from './send-message';
import type { WorkerServices } from './services';
import { sweepOutboxJob } from './sweep-outbox';
import { syncAccountJob } from './sync-account';

export const ALL_JOBS: readonly AnyJobDefinition<WorkerServices>[] = [syncAccountJob, pollReceiptsJob, pollInboundJob, recomputeUsageJob, sendMessageJob, sweepOutboxJob];

/**
 * The one function that does follow-up work (FollowUp, src/queues/job.ts), for jobs and office
 * requests alike: each owed message gets its send job (collapsing into one that exists), and a
 * recompute is kicked (debounced by its job id). It never throws: a send it could not queue is
 * recorded and counted already, and the outbox sweep queues it once Redis is back.
 */
export function followUpVia(queues: JobQueues, logger: Logger): (work: FollowUp) => Promise<void> {
  return async (work) => {
    if (work.recomputeUsage) queues.kick(recomputeUsageJob.name);
    // All at once rather than one round trip after another: a page's answers reach the send
    // workers together, and so join the same batches (src/office/send.ts OutboxSender).
    const guids = work.sendGuids ?? [];
    const refused = (await Promise.allSettled(guids.map((guid) => queues.enqueue(sendMessageJob.name, { guid }))))
      .flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    // One line for the lot: with Redis away, every one of a page's sends fails the same way.
    if (refused.length > 0) {
      logger.warn('office messages recorded but not queued yet: the outbox sweep queues them', { count: refused.length, of: guids.length, error: refused[0]!.message });
    }
  };
}
