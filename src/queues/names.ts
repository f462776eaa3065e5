/** Every queue of the daemon. One queue per job kind, so each has its own concurrency and backlog. */
export const QUEUE_NAMES = ['poll-receipts', 'poll-inbound', 'sync-account', 'recompute-usage', 'send-message', 'sweep-outbox'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
