/** Every job of the daemon. The registry (src/queues/registry.ts) checks at start-up that each queue has exactly one. */
import type { AnyJobDefinition } from '../src/queues/job';
import { pollInboundJob } from './poll-inbound';
import { pollReceiptsJob } from './poll-receipts';
import { recomputeUsageJob } from './recompute-usage';
import { sendMessageJob } from './send-message';
import { sweepOutboxJob } from './sweep-outbox';
import { syncAccountJob } from './sync-account';

export const ALL_JOBS: readonly AnyJobDefinition[] = [pollReceiptsJob, pollInboundJob, syncAccountJob, recomputeUsageJob, sendMessageJob, sweepOutboxJob];
