/**
 * Producers: one BullMQ Queue per job kind, sharing one Redis connection that fails fast when
 * Redis is away (a tick that cannot enqueue is simply skipped; the next tick tries again),
 * rather than piling commands up in memory.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { DEFAULT_JOB_OPTIONS, type AnyJobDefinition } from './job';
import type { QueueName } from './names';

export class JobQueues {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly registry: ReadonlyMap<QueueName, AnyJobDefinition>,
    connection: Redis,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    for (const name of registry.keys()) {
      const queue = new Queue(name, { connection, prefix });
      // Without a listener, one Redis error event would crash the process.
      queue.on('error', (err) => this.logger.debug('queue error', { queue: name, error: err.message }));
      this.queues.set(name, queue);
    }
  }

  /** Queues the job unless one with the same business id is already waiting or running. */
  async enqueue(name: QueueName, payload: object = {}): Promise<void> {
    const def = this.registry.get(name);
    const queue = this.queues.get(name);
    if (!def || !queue) throw new Error(`unknown job '${name}'`);
    await queue.add(name, payload, { ...DEFAULT_JOB_OPTIONS, ...def.options, jobId: def.jobId(payload) });
  }

  /** Like enqueue, for fire-and-forget callers: a failure is logged once at debug, not thrown. */
  kick(name: QueueName, payload: object = {}): void {
    this.enqueue(name, payload).catch((err: Error) => this.logger.debug('could not enqueue job', { queue: name, error: err.message }));
  }

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`unknown queue '${name}'`);
    return queue;
  }

  names(): QueueName[] {
    return [...this.queues.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
