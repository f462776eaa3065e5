import { z } from 'zod';
import { HqBackoffError, HqRateLimitedError } from '../src/hq/errors';
import { BATCH_SIZE, BATCHES_AT_ONCE, OutboxSender } from '../src/office/send';
import { defineJob } from '../src/queues/job';
import { sleep } from '../src/util/backoff';
import type { WorkerServices } from './services';

/** Longest HQ-imposed wait (429 Retry-After, or the client's backoff gate) sat out inside one attempt. */
export const MAX_INLINE_WAIT_MS = 120_000;
export const SEND_ATTEMPTS = 10;
export const SEND_BACKOFF_BASE_MS = 1_000;
/** Send jobs one process runs at once: OutboxSender's batches under way (src/office/send.ts) and the next one gathering. */
const SEND_JOBS_AT_ONCE = BATCH_SIZE * (BATCHES_AT_ONCE + 1);

/**
 * Hands one office message to HQ (POST /v1/messages), by guid; the text and number stay in the
 * database, never in Redis or the logs.
 *
 * - Each job asks the process's OutboxSender for its guid: the sender hands the texts its jobs ask
 *   for to HQ in batches, a few database statements per batch (src/office/send.ts), and each job
 *   gets its own text's outcome. A drain's automatic answers (thousands, while every page being
 *   written holds the one SQLite connection) then go out during the drain, not long after it.
 * - jobId `send-<guid>`: a message is never queued twice while its job waits or runs.
 * - A final refusal (4xx other than 429 and 401) is recorded as failed and the job completes; so is
 *   a text whose consent was withdrawn after it was queued (src/office/consent.ts), never handed over.
 * - 429 Retry-After (and the HQ client's backoff gate) is sat out inside the attempt, since the
 *   client refuses to call sooner anyway; other transient failures (5xx, timeouts, resets) fail
 *   the attempt and BullMQ retries it with exponential backoff and jitter, SEND_ATTEMPTS times.
 * - A message still owed after that stays in the outbox: the sweep-outbox job queues it again.
 *   Retrying is safe: HQ answers a repeated guid with its first answer.
 * - A refused or withheld message changes the month's usage: its result asks for a recompute.
 */
export const sendMessageJob = defineJob({
  name: 'send-message',
  payload: z.strictObject({ guid: z.string().min(1).max(200) }),
  jobId: (p) => `send-${p.guid}`,
  options: {
    attempts: SEND_ATTEMPTS,
    backoff: { type: 'exponential', delay: SEND_BACKOFF_BASE_MS, jitter: 0.5 },
  },
  // Enough jobs at once to fill the sender's batches: a job mostly waits for its batch.
  concurrency: () => SEND_JOBS_AT_ONCE,
  // Queued by the office (src/status/routes) and by follow-ups, never by the clock.
  schedule: null,
  // One sender per process: the jobs of this process share its batches.
  deps: (s: WorkerServices) => ({ sender: new OutboxSender({ knex: s.db.knex, hq: s.hq, months: s.months, logger: s.logger }) }),
  handler: async ({ guid }, { sender }, { signal, logger }) => {
    const deadline = Date.now() + MAX_INLINE_WAIT_MS;
    for (;;) {
      try {
        const outcome = await sender.deliver(guid, signal);
        if (outcome.outcome === 'refused') {
          logger.warn('HQ refused an office message: recorded as failed', { guid, httpStatus: outcome.httpStatus, reason: outcome.reason });
        }
        if (outcome.outcome === 'withheld') {
          logger.info('office message withheld: consent was withdrawn after it was queued', { guid, reason: outcome.reason });
        }
        return outcome;
      } catch (err) {
        const waitMs = err instanceof HqRateLimitedError ? err.retryAfterMs : err instanceof HqBackoffError ? err.waitMs : null;
        if (waitMs === null || Date.now() + waitMs > deadline) throw err;
        await sleep(Math.max(waitMs, 1) + Math.floor(Math.random() * 100), signal);
      }
    }
  },
  followUp: (r) => ({ recomputeUsage: r.outcome === 'refused' || r.outcome === 'withheld' }),
  summarize: (r) => ({ outcome: r.outcome, ...(r.outcome === 'accepted' ? { segments: r.segments } : {}), ...(r.outcome === 'refused' ? { httpStatus: r.httpStatus, reason: r.reason } : {}), ...(r.outcome === 'withheld' ? { reason: r.reason } : {}) }),
});
