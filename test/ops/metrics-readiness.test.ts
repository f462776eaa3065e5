/**
 * /metrics (Prometheus text through prom-client) and /readyz's queue progress, on real stacks.
 * Readiness is shown judging workers it does not run: a scheduler+status daemon alone reports its
 * queues stuck, and ready again once a workers-only daemon (same Redis and database) runs.
 */
import { startDaemon, type Daemon } from '../../src/daemon/daemon';
import { createMetrics } from '../../src/metrics';
import { queueProgressCheck } from '../../src/status/readiness';
import { startStack, waitFor, type TestStack } from '../support/stack';
import { sumSamples } from './support/daemon-process';

type HealthDoc = { status: string; checks: Record<string, Array<{ status: string; output?: string; componentId?: string; observedValue?: number }>> };

describe('queueProgressCheck (unit)', () => {
  const now = 1_000_000;
  const base = { queue: 'poll-receipts', now, warnSeconds: 30, failSeconds: 120 };
  it('passes an empty queue however long ago its last job ran', () => {
    expect(queueProgressCheck({ ...base, waiting: 0, oldestWaitingAt: null, lastCompletedAt: null })).toMatchObject({ status: 'pass', observedValue: 0, componentId: 'poll-receipts' });
  });
  it('passes a job that waits briefly, warns when it waits long, fails when nothing completes either', () => {
    expect(queueProgressCheck({ ...base, waiting: 1, oldestWaitingAt: now - 5_000, lastCompletedAt: null }).status).toBe('pass');
    expect(queueProgressCheck({ ...base, waiting: 1, oldestWaitingAt: now - 40_000, lastCompletedAt: now - 300_000 }).status).toBe('warn');
    // Waiting long, but jobs of the queue keep completing: busy, not stuck.
    expect(queueProgressCheck({ ...base, waiting: 9, oldestWaitingAt: now - 200_000, lastCompletedAt: now - 1_000 }).status).toBe('warn');
    const stuck = queueProgressCheck({ ...base, waiting: 2, oldestWaitingAt: now - 130_000, lastCompletedAt: now - 125_000 });
    expect(stuck).toMatchObject({ status: 'fail', observedValue: 130, observedUnit: 's' });
    expect(stuck.output).toBe('2 jobs waiting, the oldest for 130 s; last job completed 125 s ago (are the workers running?)');
    expect(queueProgressCheck({ ...base, waiting: 1, oldestWaitingAt: now - 130_000, lastCompletedAt: null }).output).toContain('no job completed yet');
  });
});

describe('createMetrics (unit)', () => {
  it('keeps labels to known endpoints and outcomes', async () => {
    const m = createMetrics({ roles: ['workers'], defaultMetrics: false });
    m.hqRequest({ endpoint: 'GET /v1/receipts', outcome: 'ok', durationMs: 12 });
    m.hqRequest({ endpoint: 'GET /v1/patients/+15035550123', outcome: 'ok', durationMs: 12 });
    m.hqRequest({ endpoint: 'POST /v1/messages', outcome: 'weird +15035550123', durationMs: 12 });
    m.jobFinished('poll-receipts', true, 250);
    m.pageRecorded('inbound', { recorded: 3, duplicates: 1, quarantined: 1, acked: 4 });
    const text = await m.render();
    expect(text).not.toContain('5035550123');
    expect(sumSamples(text, 'econnector_hq_requests_total', { endpoint: 'other' })).toBe(1);
    expect(sumSamples(text, 'econnector_hq_requests_total', { endpoint: 'POST /v1/messages', outcome: 'other' })).toBe(1);
    expect(sumSamples(text, 'econnector_job_duration_seconds_bucket', { queue: 'poll-receipts', outcome: 'completed', le: '0.25' })).toBe(1);
    expect(sumSamples(text, 'econnector_job_duration_seconds_bucket', { queue: 'poll-receipts', outcome: 'completed', le: '0.1' })).toBe(0);
    expect(sumSamples(text, 'econnector_items_acked_total', { kind: 'inbound' })).toBe(4);
    expect(text).toContain('econnector_info{roles="workers",version="unknown"} 1');
  });
});

describe('/metrics on a running stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Nothing may arrive at HQ after the drain below: the test compares a scrape with the rows
    // stored, and the mock's clock runs with real time. So the traffic ends 7 h back (every receipt
    // of it due already; a second receipt comes up to 6 h after the first), and the receipts of the
    // daemon's automatic replies (STOP and HELP among the replies) are due an hour after their POST,
    // not the mock's 2 s, which could have brought one between the scrape and the count.
    stack = await startStack({ mock: { seed: 9, receiptDelayMs: 3_600_000 } });
    const now = stack.now(); // the mock's clock: traffic is placed in its time
    await stack.sim('POST', '/sim/traffic', { messages: 400, inbound: 100, malformed: 4, from: new Date(now - 20 * 86_400_000).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: 2 });
    await waitFor('HQ to be drained', async () => {
      const s = await stack.sim<{ receipts: { available: number; leased: number }; inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.available + s.receipts.leased + s.inbound.available + s.inbound.leased <= 1;
    }, 30_000);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves Prometheus text with job, item, HQ, queue, stream and Node metrics', async () => {
    const timings: number[] = [];
    let text = '';
    let type = '';
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await fetch(`${stack.daemon.statusUrl}/metrics`);
      text = await res.text();
      timings.push(performance.now() - t0);
      type = res.headers.get('content-type') ?? '';
      expect(res.status).toBe(200);
    }
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const stored = (await stack.daemon.app.db.knex.raw('SELECT (SELECT COUNT(*) FROM receipts) AS r, (SELECT COUNT(*) FROM inbound_messages) AS i')) as Array<{ r: number; i: number }>;
    expect(sumSamples(text, 'econnector_items_recorded_total', { kind: 'receipts' })).toBe(Number(stored[0]!.r));
    expect(sumSamples(text, 'econnector_items_recorded_total', { kind: 'inbound' })).toBe(Number(stored[0]!.i));
    expect(sumSamples(text, 'econnector_items_quarantined_total', {})).toBeGreaterThanOrEqual(3);
    expect(sumSamples(text, 'econnector_items_acked_total', { kind: 'receipts' })).toBeGreaterThanOrEqual(Number(stored[0]!.r));
    expect(sumSamples(text, 'econnector_hq_requests_total', { endpoint: 'GET /v1/receipts', outcome: 'ok' })).toBeGreaterThan(0);
    expect(sumSamples(text, 'econnector_hq_request_duration_seconds_count', { endpoint: 'POST /v1/inbound/ack' })).toBeGreaterThan(0);
    expect(sumSamples(text, 'econnector_job_duration_seconds_count', { queue: 'poll-receipts', outcome: 'completed' })).toBeGreaterThan(0);
    // Bucket lines carry le, queue and outcome (recompute-usage runs debounced, so use a poll job).
    expect(text).toMatch(/^econnector_job_duration_seconds_bucket\{le="0\.005",queue="poll-receipts",outcome="completed"\} \d+$/m);
    expect(text).toMatch(/^econnector_queue_jobs\{queue="sync-account",state="active"\} \d+$/m);
    expect(text).toMatch(/^econnector_stream_last_poll_age_seconds\{stream="inbound"\} \d/m);
    expect(text).toMatch(/^econnector_scrape_source_up\{source="redis"\} 1$/m);
    expect(text).toMatch(/^econnector_quarantine_items \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    // Every label value of our metrics is a name, path or outcome: no phone, body or id.
    const values = [...text.matchAll(/^econnector_\w+\{([^}]*)\}/gm)].flatMap((m) => [...m[1]!.matchAll(/\w+="([^"]*)"/g)].map((v) => v[1]!));
    for (const v of new Set(values)) expect(v).toMatch(/^(?:[a-z][a-z:-]*|(?:GET|POST) \/v1\/[a-z/]+|[\d.e+]+|\+Inf|[a-z,]+|\d+\.\d+\.\d+)$/);
    process.stdout.write(`[ops] /metrics scrape (all-in-one, ${text.length} bytes): ${timings.map((t) => t.toFixed(1)).join(' / ')} ms\n`);
  });
});

describe('/readyz judges queue progress from shared state', () => {
  let stack: TestStack;
  let workers: Daemon | undefined;
  beforeAll(async () => {
    stack = await startStack({
      env: { ECONNECTOR_ROLES: 'scheduler,status' },
      config: { readiness: { pollWarnSeconds: 30, pollFailSeconds: 60, queueWarnSeconds: 1, queueFailSeconds: 2 } },
    });
  });
  afterAll(async () => {
    await workers?.stop();
    await stack?.stop();
  });

  const readyz = async (): Promise<{ code: number; doc: HealthDoc }> => {
    const res = await fetch(`${stack.daemon.statusUrl}/readyz`);
    expect(res.headers.get('content-type')).toMatch(/^application\/health\+json/);
    return { code: res.status, doc: (await res.json()) as HealthDoc };
  };

  it('fails while jobs wait and no worker runs anywhere, and passes once workers run in another daemon', async () => {
    expect(stack.daemon.roles).toEqual(['scheduler', 'status']);
    const stuck = await waitFor('readyz to fail on stuck queues', async () => {
      const r = await readyz();
      return r.code === 503 ? r : undefined;
    }, 15_000);
    expect(stuck.doc.status).toBe('fail');
    const check = stuck.doc.checks['queue:poll-receipts']![0]!;
    expect(check).toMatchObject({ status: 'fail', componentId: 'poll-receipts' });
    expect(check.output).toMatch(/^1 job waiting, the oldest for \d+ s; no job completed yet \(are the workers running\?\)$/);
    // The contract's checks are all still there.
    expect(Object.keys(stuck.doc.checks)).toEqual(expect.arrayContaining(['redis', 'database', 'hq:receipts', 'hq:inbound']));

    // A workers-only daemon on the same Redis and database: the status daemon sees the progress.
    const config = stack.daemon.app.config;
    workers = await startDaemon({ ...config, roles: ['workers'], metrics: { port: 0 } }, { logger: stack.daemon.app.logger });
    expect(workers.statusUrl).toBe('');
    expect(workers.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const ready = await waitFor('readyz to pass', async () => {
      const r = await readyz();
      return r.code === 200 && r.doc.status === 'pass' ? r : undefined;
    }, 15_000);
    for (const q of ['poll-receipts', 'poll-inbound', 'recompute-usage', 'sync-account']) expect(ready.doc.checks[`queue:${q}`]![0]!.status).toBe('pass');

    // The worker process serves its own metrics (and liveness), not the shared gauges.
    const text = await (await fetch(workers.metricsUrl!)).text();
    expect(text).toContain('econnector_info{roles="workers"');
    expect(sumSamples(text, 'econnector_job_duration_seconds_count', { queue: 'poll-receipts' })).toBeGreaterThan(0);
    expect(text).not.toContain('econnector_queue_jobs{');
    expect((await fetch(workers.metricsUrl!.replace('/metrics', '/healthz'))).status).toBe(200);
  }, 40_000);
});
