import { pollStream, summarizePoll, type PollResult } from '../src/ingest/poll-job';
import type { JobDefinition } from '../src/queues/job';

/** Drains patient replies from HQ: GET a page, record it in one transaction, then acknowledge it. */
export const pollInboundJob: JobDefinition<object, PollResult> = {
  name: 'poll-inbound',
  jobId: () => 'poll-inbound',
  concurrency: 1,
  handler: (_payload, ctx) => pollStream('inbound', ctx),
  again: (result) => result.more,
  summarize: summarizePoll,
};
