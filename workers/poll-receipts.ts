import { pollStream, summarizePoll, type PollResult } from '../src/ingest/poll-job';
import type { JobDefinition } from '../src/queues/job';

/** Drains delivery receipts from HQ: GET a page, record it in one transaction, then acknowledge it. */
export const pollReceiptsJob: JobDefinition<object, PollResult> = {
  name: 'poll-receipts',
  jobId: () => 'poll-receipts',
  concurrency: 1,
  handler: (_payload, ctx) => pollStream('receipts', ctx),
  again: (result) => result.more,
  summarize: summarizePoll,
};
