/**
 * Producers: one BullMQ Queue per job, sharing one Redis connection that fails fast when Redis is
 * away (a tick that cannot enqueue is simply skipped; the next tick tries again), rather than
 * piling commands up in memory.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'winston';
import { DEFAULT_JOB_OPTIONS, type AnyJobDefinition } from './job';

export class JobQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly registry: ReadonlyMap<string, AnyJobDefinition>,
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

  /**
   * Queues the job unless one with the same business id is already waiting or running. The
   * payload is checked here too, so a bad one fails its producer rather than a worker later.
   */
  async enqueue(name: string, payload: object = {}): Promise<void> {
    const def = this.registry.get(name);
    const queue = this.queues.get(name);
    if (!def || !queue) throw new Error(`unknown job '${name}'`);
    const parsed = def.payload.safeParse(payload);
    if (!parsed.success) throw new Error(`job '${name}': the payload does not match its schema`);
    await queue.add(name, parsed.data, { ...DEFAULT_JOB_OPTIONS, ...def.options, jobId: def.jobId(parsed.data) });
  }

  /** Like enqueue, for fire-and-forget callers: a failure is logged once at debug, not thrown. */
  kick(name: string, payload: object = {}): void {
    this.enqueue(name, payload).catch((err: Error) => this.logger.debug('could not enqueue job', { queue: name, error: err.message }));
  }

  queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`unknown queue '${name}'`);
    return queue;
  }

  names(): string[] {
    return [...this.queues.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
