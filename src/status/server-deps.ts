/** What the status server and each of its route groups (./routes) are given: no route imports the server. */
import type { AppContext } from '../daemon/context';
import type { QueueSnapshot } from '../queues/progress';

export interface StatusServerDeps {
  app: AppContext;
  /** Pings Redis (the queues' connection). */
  pingRedis: () => Promise<unknown>;
  /** Counts, oldest waiting job and last completion per queue, from Redis (readiness: queue progress). */
  queueSnapshot?: () => Promise<QueueSnapshot[]>;
}
