/**
 * Metrics read at scrape time from the state every process shares (Redis queues, the database's
 * stream_state and quarantine). Registered only in the process with the status role, so that
 * Prometheus sees each of them once, however many worker processes run.
 */
import type { Knex } from '@mikro-orm/knex';
import { Gauge } from 'prom-client';
import type { Redis } from 'ioredis';
import { rowsOf } from '../db/bulk-sql';
import { readStreamStates } from '../db/store/stream-state';
import { snapshotQueues } from '../queues/progress';
import type { JobQueues } from '../queues/queues';
import { METRICS_PREFIX, type Metrics } from './metrics';
import { SETTING_MONTHLY_LIMIT_MICROS } from '../db/store/settings';

export interface SharedStateSources {
  queues: JobQueues;
  /** The producers' connection (fails fast when Redis is away). */
  redis: Redis;
  knex: Knex;
  /** This month's key in OFFICE_TZ (the usage gauges). */
  currentMonth: () => string;
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

  // This month's charges against the limit, and replies waiting to be read: what the alerts in
  // deploy/prometheus-alerts.yml watch. Both read a handful of precomputed rows.
  const usageFacts = async (): Promise<{ charges: number; limit: number | null; unread: number }> => {
    const [row] = rowsOf<{ charges: number | string | null; limit_micros: string | null; unread: number | string | null }>(await src.knex.raw(
      `SELECT (SELECT SUM(sent_charge_micros + received_charge_micros) FROM monthly_usage WHERE month = ?) AS charges,
              (SELECT value FROM settings WHERE key = ?) AS limit_micros,
              (SELECT SUM(unread) FROM unread_counts) AS unread`,
      [src.currentMonth(), SETTING_MONTHLY_LIMIT_MICROS],
    ));
    return { charges: Number(row?.charges ?? 0), limit: row?.limit_micros == null ? null : Number(row.limit_micros), unread: Number(row?.unread ?? 0) };
  };
  new Gauge({
    name: `${METRICS_PREFIX}month_charges_usd`,
    help: "This month's charges (sent and received, all clinics, in OFFICE_TZ), in US dollars, from the usage rows.",
    registers,
    async collect() {
      try {
        const f = await usageFacts();
        this.set(f.charges / 1_000_000);
      } catch {
        /* database unreadable: scrape_source_up says so */
      }
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}monthly_limit_usd`,
    help: "The office's monthly limit from HQ's account, in US dollars; absent until the account was read.",
    registers,
    async collect() {
      this.reset();
      try {
        const f = await usageFacts();
        if (f.limit !== null) this.set(f.limit / 1_000_000);
      } catch {
        /* database unreadable: scrape_source_up says so */
      }
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}unread_replies`,
    help: 'Patient replies not read yet (hidden and blocked ones left out), all clinics.',
    registers,
    async collect() {
      try {
        this.set((await usageFacts()).unread);
      } catch {
        /* database unreadable: scrape_source_up says so */
      }
    },
  });
}
