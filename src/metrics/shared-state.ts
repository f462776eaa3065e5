/**
 * Metrics read at scrape time from the state every process shares (Redis queues, the database's
 * stream_state and quarantine). Registered only in the process with the status role, so that
 * Prometheus sees each of them once, however many worker processes run.
 */
import type { Knex } from '@mikro-orm/knex';
import { Gauge } from 'prom-client';
import type { Redis } from 'ioredis';
import { rowsOf } from '../db/bulk-sql';
import { readStreamStates } from '../ingest/stream-state';
import { snapshotQueues } from '../queues/progress';
import type { JobQueues } from '../queues/queues';
import { METRICS_PREFIX, type Metrics } from './metrics';

export interface SharedStateSources {
  queues: JobQueues;
  /** The producers' connection (fails fast when Redis is away). */
  redis: Redis;
  knex: Knex;
  now?: () => number;
}

export function registerSharedStateMetrics(metrics: Metrics, src: SharedStateSources): void {
  const registers = [metrics.registry];
  const now = src.now ?? Date.now;
  const sourceUp = new Gauge({
    name: `${METRICS_PREFIX}scrape_source_up`,
    help: 'Whether the last scrape could read a shared source (redis, database): 1 yes, 0 no.',
    labelNames: ['source'],
    registers,
  });

  new Gauge({
    name: `${METRICS_PREFIX}queue_jobs`,
    help: 'Jobs per queue and state, from BullMQ at scrape time (finished jobs are removed at once, so completed is not listed).',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      try {
        for (const snap of await snapshotQueues(src.queues, src.redis)) {
          for (const [state, n] of Object.entries(snap.counts)) this.set({ queue: snap.queue, state }, n);
        }
        sourceUp.set({ source: 'redis' }, 1);
      } catch {
        sourceUp.set({ source: 'redis' }, 0);
      }
    },
  });

  new Gauge({
    name: `${METRICS_PREFIX}stream_last_poll_age_seconds`,
    help: 'Seconds since the last good poll of each stream (receipts, inbound, account, aggregates), from the database at scrape time; absent before the first.',
    labelNames: ['stream'],
    registers,
    async collect() {
      this.reset();
      try {
        const states = await readStreamStates(src.knex);
        for (const [stream, s] of states) if (s.lastOkAt !== null) this.set({ stream }, Math.max(0, (now() - s.lastOkAt) / 1000));
        sourceUp.set({ source: 'database' }, 1);
      } catch {
        sourceUp.set({ source: 'database' }, 0);
      }
    },
  });

  new Gauge({
    name: `${METRICS_PREFIX}quarantine_items`,
    help: 'Distinct items in quarantine, all time (the database, all processes).',
    registers,
    async collect() {
      try {
        this.set(Number(rowsOf<{ n: number | string }>(await src.knex.raw('SELECT COUNT(*) AS n FROM quarantine'))[0]?.n ?? 0));
      } catch {
        /* database unreadable: scrape_source_up says so */
      }
    },
  });
}
