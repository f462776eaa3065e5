/**
 * Prometheus metrics of one daemon process, through prom-client, on a registry of its own (not
 * prom-client's global one: tests run several daemons in one process).
 *
 * Event metrics (counted where things happen, so they are PER PROCESS): job durations, items
 * recorded / duplicated / quarantined / acknowledged per kind, HQ requests per endpoint and
 * outcome with their latency. Under pm2 each process serves its own /metrics and Prometheus
 * scrapes each as its own target; sum() over instances gives the totals (counters restart at 0
 * with a process, which rate()/increase() handle).
 *
 * Shared-state metrics (read at scrape time from Redis and the database: queue job counts, age of
 * the last poll per stream) describe the whole daemon, so only the process with the status role
 * registers them (see shared-state.ts): summing them over instances would count them N times.
 *
 * Labels only ever carry queue names, kinds, endpoint paths, stream names and outcomes: never
 * patient data (phones, bodies, guids, ids).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Role } from '../config/types';
import type { HqStream } from '../texting/streams';

export const METRICS_PREFIX = 'econnector_';

/** Jobs last from a few ms (an idle poll) to tens of seconds (a page budget, a big recompute). */
export const JOB_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
/** HQ requests: loopback ms to the client's timeout (10 s by default). */
export const HQ_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];


export interface PageCounts {
  recorded: number;
  duplicates: number;
  quarantined: number;
  acked: number;
}

export interface HqRequestEvent {
  /** 'GET /v1/receipts': method and path, never a query or id. */
  endpoint: string;
  outcome: string;
  durationMs: number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  jobFinished(queue: string, ok: boolean, durationMs: number): void;
  pageRecorded(kind: HqStream, counts: PageCounts): void;
  hqRequest(event: HqRequestEvent): void;
  /** The text exposition of every metric (collecting the scrape-time ones). */
  render(): Promise<string>;
}

/** Outcomes the HQ client reports (src/hq/client.ts); anything else is folded into 'other'. */
const HQ_OUTCOMES: ReadonlySet<string> = new Set(['ok', 'rate_limited', 'server_error', 'rejected', 'bad_body', 'timeout', 'network_error']);
/** Endpoint labels are method + a path of letters, digits, / and -: nothing an id could hide in. */
const ENDPOINT_LABEL = /^(GET|POST|PUT|PATCH|DELETE) \/[a-z0-9/_-]{0,64}$/;

export function createMetrics(opts: { roles: readonly Role[]; version?: string; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: `${METRICS_PREFIX}info`,
    help: 'Always 1; labels tell which roles this process runs.',
    labelNames: ['roles', 'version'],
    registers,
  }).set({ roles: opts.roles.join(','), version: opts.version ?? 'unknown' }, 1);

  const jobDuration = new Histogram({
    name: `${METRICS_PREFIX}job_duration_seconds`,
    help: 'Duration of finished jobs run by this process, by queue and outcome (completed, failed).',
    labelNames: ['queue', 'outcome'],
    buckets: JOB_DURATION_BUCKETS,
    registers,
  });
  const items = {
    recorded: new Counter({ name: `${METRICS_PREFIX}items_recorded_total`, help: 'Items newly committed to the database by this process, by kind.', labelNames: ['kind'], registers }),
    duplicates: new Counter({ name: `${METRICS_PREFIX}items_duplicate_total`, help: 'Redelivered items that were already stored (nothing changed), by kind.', labelNames: ['kind'], registers }),
    quarantined: new Counter({ name: `${METRICS_PREFIX}items_quarantined_total`, help: 'Malformed items stored in quarantine (then acknowledged), by kind.', labelNames: ['kind'], registers }),
    acked: new Counter({ name: `${METRICS_PREFIX}items_acked_total`, help: 'Items HQ newly acknowledged after their page committed, by kind.', labelNames: ['kind'], registers }),
  };
  const pages = new Counter({ name: `${METRICS_PREFIX}pages_total`, help: 'HQ pages fetched and committed by this process, by kind.', labelNames: ['kind'], registers });
  const hqRequests = new Counter({
    name: `${METRICS_PREFIX}hq_requests_total`,
    help: 'Requests to HQ by endpoint (method and path) and outcome (ok, rate_limited, server_error, rejected, bad_body, timeout, network_error).',
    labelNames: ['endpoint', 'outcome'],
    registers,
  });
  const hqLatency = new Histogram({
    name: `${METRICS_PREFIX}hq_request_duration_seconds`,
    help: 'Latency of requests to HQ by endpoint and outcome.',
    labelNames: ['endpoint', 'outcome'],
    buckets: HQ_LATENCY_BUCKETS,
    registers,
  });

  // Zero series for the kinds, so rate() has a start and dashboards show 0 rather than nothing.
  for (const kind of ['receipts', 'inbound'] as const) {
    for (const c of [...Object.values(items), pages]) c.inc({ kind }, 0);
  }

  return {
    registry,
    contentType: registry.contentType,
    jobFinished(queue, ok, durationMs) {
      jobDuration.observe({ queue, outcome: ok ? 'completed' : 'failed' }, durationMs / 1000);
    },
    pageRecorded(kind, counts) {
      pages.inc({ kind });
      if (counts.recorded > 0) items.recorded.inc({ kind }, counts.recorded);
      if (counts.duplicates > 0) items.duplicates.inc({ kind }, counts.duplicates);
      if (counts.quarantined > 0) items.quarantined.inc({ kind }, counts.quarantined);
      if (counts.acked > 0) items.acked.inc({ kind }, counts.acked);
    },
    hqRequest(event) {
      const labels = {
        endpoint: ENDPOINT_LABEL.test(event.endpoint) ? event.endpoint : 'other',
        outcome: HQ_OUTCOMES.has(event.outcome) ? event.outcome : 'other',
      };
      hqRequests.inc(labels);
      hqLatency.observe(labels, event.durationMs / 1000);
    },
    render: () => registry.metrics(),
  };
}

/** The version in the project's package.json (found from src/ or dist/src/), for econnector_info. */
export function packageVersion(): string {
  let dir = __dirname;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
      } catch {
        return 'unknown';
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
