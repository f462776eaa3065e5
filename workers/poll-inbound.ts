import { z } from 'zod';
import { IDLE_POLL, isIdlePoll, pollStream, summarizePoll } from '../src/ingest/poll-job';
import { defineJob } from '../src/queues/job';
import { everySeconds } from '../src/scheduler';
import { MAX_POLLERS } from '../src/config/types';
import { pollDepsFor, type WorkerServices } from './services';

/**
 * Drains patient replies from HQ: GET a page, record it in one transaction, then acknowledge it; again at
 * once while HQ says more waits. One job per poller (config ingest.pollers.inbound), ids
 * poll-inbound-0..n-1, so across all processes at most n pages of the stream are in flight.
 */
export const pollInboundJob = defineJob({
  name: 'poll-inbound',
  payload: z.strictObject({ poller: z.number().int().min(0).max(MAX_POLLERS - 1).default(0) }),
  jobId: ({ poller }) => `poll-inbound-${poller}`,
  // Every poller may run in this process (one process with n pollers drains n pages at once).
  concurrency: (config) => config.ingest.pollers.inbound,
  schedule: {
    cron: (config) => everySeconds(config.schedule.pollEverySeconds),
    payloads: (config) => Array.from({ length: config.ingest.pollers.inbound }, (_, poller) => ({ poller })),
  },
  deps: (s: WorkerServices) => pollDepsFor('inbound', s),
  handler: async ({ poller }, { pollers, poll }, helpers) =>
    // A poller beyond the setting (it was lowered while this job waited) ends at once.
    poller < pollers ? pollStream('inbound', poll, helpers) : { ...IDLE_POLL },
  again: (result) => result.more,
  summarize: summarizePoll,
  quiet: isIdlePoll,
});
