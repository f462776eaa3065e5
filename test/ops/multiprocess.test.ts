/**
 * The pm2 layout without pm2: one `scheduler,status` process and three `workers` processes
 * (spawned `node dist/src/daemon/main.js`, as ecosystem.config.js runs them), sharing one
 * redis-server and one SQLite file, drain one backlog at the HQ mock with lost acknowledgements.
 * Nothing may be recorded twice, the totals must equal the mock's ground truth, no page write may
 * fail on SQLite's single-writer lock, and each process's /metrics must add up.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestRedis, type TestRedis } from '../support/redis';
import { startHqMock, type HqMock } from '../../src/hq-mock/server';
import { killAllTracked } from '../support/processes';
import { suiteOffset } from '../support/clock';
import { Deadline, diffAgainstTruth, waitFor } from '../support/stack';
import { tempDir } from '../support/tmp';
import { spawnDaemon, type DaemonProcess } from '../support/daemon-spawn';
import { runNode, sumSamples } from './support/daemon-process';
import { simClient, type SimStats } from '../support/hq-sim';
import { statusClient, type StatusDocument } from '../support/status-client';

const TZ = 'America/Chicago';
const DAY = 86_400_000;

describe('scale-out: scheduler+status once, workers x3, one Redis, one SQLite file', () => {
  const tmp = tempDir('econnector-ops-');
  const dbPath = join(tmp.path, 'econnector.sqlite');
  let redis: TestRedis;
  let mock: HqMock;
  let main: DaemonProcess;
  const workers: DaemonProcess[] = [];
  let env: (extra: Record<string, string>) => Record<string, string>;
  const sim = simClient(() => mock);

  beforeAll(async () => {
    redis = await startTestRedis(tmp.path);
    // The mock and every process's calendar at the suite's instant (test/support/clock.ts).
    mock = await startHqMock({ port: 0, leaseMs: 1500, seed: 5, clockOffsetMs: suiteOffset() });
    const config = {
      schedule: { pollEverySeconds: 1, aggregatesEverySeconds: 1 },
      queue: { prefix: `ops-${randomUUID().slice(0, 8)}` },
      hq: { pageSize: 100, backoff: { baseMs: 100, maxMs: 2000 }, timeoutMs: 3000 },
      // Short jobs (3 pages each) hand the streams from process to process many times.
      ingest: { maxPagesPerJob: 3 },
      testClock: { offsetMs: mock.clock.offset },
    };
    env = (extra) => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'test',
      HQ_URL: mock.url,
      HQ_API_KEY: mock.apiKey,
      REDIS_URL: redis.url,
      DATA_DIR: tmp.path,
      DATABASE_URL: `sqlite:${dbPath}`,
      OFFICE_TZ: TZ,
      LOG_LEVEL: 'info',
      ECONNECTOR_CONFIG: JSON.stringify(config),
      ...extra,
    });
  });

  afterAll(async () => {
    await Promise.all([main, ...workers].filter(Boolean).map((p) => p.stop()));
    const leftovers = await killAllTracked();
    await mock?.close();
    await redis?.stop();
    tmp.remove();
    expect(leftovers).toEqual([]);
  });

  it('a worker-only process without REDIS_URL stops at once with one clear line', async () => {
    const { REDIS_URL: _unused, ...noRedis } = env({ ECONNECTOR_ROLES: 'workers' });
    const r = await runNode('dist/src/daemon/main.js', [], noRedis);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^econnector: REDIS_URL: must be set when a process runs only some roles \(ECONNECTOR_ROLES=workers\)/);
  });

  it('drains a backlog with lost acks exactly once across 3 worker processes', async () => {
    // One deadline for every wait of the test, inside jest's 150 s.
    const deadline = new Deadline(140_000);
    // All four start at once, as pm2 starts them: migrations of a fresh file must not race.
    // STATUS_PORT=0: the kernel picks the port as the server binds; the start line says which.
    const started = Date.now();
    // 60 s to start, as two-daemons and three-workers allow theirs: four processes starting at once
    // on two cores took 2.5 s here, so a machine 10x slower came close to spawnDaemon's default 30 s.
    const spawnOpts = { timeoutMs: 60_000 };
    const settled = await Promise.allSettled([
      spawnDaemon('scheduler+status', env({ ECONNECTOR_ROLES: 'scheduler,status', STATUS_PORT: '0' }), spawnOpts),
      ...[0, 1, 2].map((i) => spawnDaemon(`workers #${i}`, env({ ECONNECTOR_ROLES: 'workers', NODE_APP_INSTANCE: String(i), ECONNECTOR_METRICS_PORT: '0' }), spawnOpts)),
    ]);
    const up = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (failed.length > 0) {
      await Promise.all(up.map((p) => p.stop()));
      throw new Error(failed.join('\n'));
    }
    main = up[0]!;
    workers.push(...up.slice(1));
    const startupMs = Date.now() - started;
    expect(main.statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    for (const w of workers) {
      expect(w.statusUrl).toBe('');
      expect(w.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    }
    // The worker processes serve no status routes, the status process runs no workers.
    expect(main.logs.some((l) => l.message === 'job done')).toBe(false);

    await sim('POST', '/sim/faults', { rates: { lostAck: 0.15, ackResponseLost: 0.1 }, seed: 3 });
    // The daemon answers the STOP/HELP/START replies of the traffic: a second receipt of such an
    // answer comes 1 s after its first, not the mock's 30 s (see 'nothing more' below).
    await sim('POST', '/sim/config', { secondReceiptDelayMs: 1_000 });
    const now = mock.clock.now();
    const traffic = await sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
      messages: 3000, inbound: 1000, malformed: 10,
      from: new Date(now - 75 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: 21,
    });
    // On a timeout, say what the processes were doing.
    const explain = (err: unknown, extra: string): Error => {
      const recent = [main, ...workers].flatMap((p) => p.logs.filter((l) => l.level !== 'info' && l.level !== 'debug').slice(-5).map((l) => `${p.label}: ${JSON.stringify(l)}`));
      return new Error(`${(err as Error).message}\n${extra}\n${recent.join('\n')}`);
    };
    const drainStarted = Date.now();
    let lastStats: unknown;
    await waitFor('HQ to be drained', async () => {
      const s = await sim<SimStats>('GET', '/sim/stats');
      lastStats = s;
      return s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, deadline, 250).catch((err) => {
      throw explain(err, `last HQ stats: ${JSON.stringify(lastStats)}`);
    });
    const drainMs = Date.now() - drainStarted;

    const stack = {
      sim,
      status: statusClient(main.statusUrl),
    };
    let lastDiff: string[] = [];
    const diffs = await waitFor('status to equal the truth', async () => {
      const d = await diffAgainstTruth(stack, TZ);
      lastDiff = d;
      return d.length === 0 ? d : undefined;
    }, deadline, 500).catch((err) => {
      throw explain(err, `last differences: ${lastDiff.slice(0, 10).join('; ')}`);
    });
    expect(diffs).toEqual([]);
    // Nothing more to come: the daemon's answers accepted by HQ (the outbox read first, so their
    // receipts exist at HQ when its stats are read), and every receipt of them due and
    // acknowledged. The mock's clock runs with real time: a receipt of an answer recorded after
    // the rows below are counted would make the processes' sums exceed them.
    await waitFor('nothing more to come from HQ', async () => {
      const owed = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        owed.pragma('busy_timeout = 10000');
        if (Number((owed.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n) > 0) return false;
      } finally {
        owed.close();
      }
      const s = await sim<SimStats>('GET', '/sim/stats');
      return s.receipts.pending + s.inbound.pending === 0 && s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, deadline, 250).catch((err) => {
      throw explain(err, 'HQ still had items for the office');
    });

    // Nothing stored twice, and each process's count of newly recorded items adds up exactly:
    // an item counted as new by two processes would make the sum exceed the rows.
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    let rows: { receipts: number; inbound: number; dupReceipts: number; dupInbound: number };
    let phones: string[] = [];
    let bodies: string[];
    try {
      db.pragma('busy_timeout = 10000');
      const one = (sql: string): number => Number((db.prepare(sql).get() as { n: number }).n);
      rows = {
        receipts: one('SELECT COUNT(*) AS n FROM receipts'),
        inbound: one('SELECT COUNT(*) AS n FROM inbound_messages'),
        dupReceipts: one('SELECT COUNT(*) - COUNT(DISTINCT receipt_id) AS n FROM receipts'),
        dupInbound: one('SELECT COUNT(*) - COUNT(DISTINCT inbound_id) AS n FROM inbound_messages'),
      };
      phones = (db.prepare('SELECT DISTINCT from_phone AS p FROM inbound_messages').all() as Array<{ p: string }>).map((r) => r.p);
      // Bodies long enough to be telling (a two-letter 'OK' matches unrelated text).
      bodies = (db.prepare('SELECT DISTINCT body AS b FROM inbound_messages WHERE length(body) >= 8').all() as Array<{ b: string }>).map((r) => r.b);
    } finally {
      db.close();
    }
    expect(rows.dupReceipts).toBe(0);
    expect(rows.dupInbound).toBe(0);

    const scrape = (): Promise<Array<{ text: string; ms: number }>> => Promise.all(workers.map(async (w) => {
      const t0 = performance.now();
      const text = await (await fetch(w.metricsUrl!)).text();
      return { text, ms: performance.now() - t0 };
    }));
    let scrapes = await scrape();
    const sum = (name: string, kind: string): number => scrapes.reduce((n, s) => n + sumSamples(s.text, name, { kind }), 0);
    // The same figures from the logs ('job done' lines of every process).
    const logged = (queue: string): number =>
      workers.reduce((n, w) => n + w.logs.filter((l) => l.message === 'job done' && l.queue === queue).reduce((m, l) => m + Number(l.recorded ?? 0), 0), 0);
    const counted = () => ({
      metrics: { receipts: sum('econnector_items_recorded_total', 'receipts'), inbound: sum('econnector_items_recorded_total', 'inbound') },
      logs: { receipts: logged('poll-receipts'), inbound: logged('poll-inbound') },
    });
    const want = { metrics: { receipts: rows.receipts, inbound: rows.inbound }, logs: { receipts: rows.receipts, inbound: rows.inbound } };
    // A page counts in /metrics and in its job's 'job done' line once its acknowledgement is
    // answered, but HQ records the ack (and so shows the stream drained) before the daemon hears
    // back, and a lost answer (ackResponseLost) is retried after a backoff: the last pages' counts
    // may still be on their way, longer on a loaded machine. So they are waited for. The sums only
    // grow, so one over the rows (an item counted as new by two processes) ends the wait and fails.
    const counts = await waitFor('every process\'s counts to add up to the rows', async () => {
      scrapes = await scrape();
      const c = counted();
      const all = [c.metrics.receipts - rows.receipts, c.metrics.inbound - rows.inbound, c.logs.receipts - rows.receipts, c.logs.inbound - rows.inbound];
      return all.every((d) => d === 0) || all.some((d) => d > 0) ? c : undefined;
    }, deadline, 250).catch((err) => {
      throw explain(err, `last counts: ${JSON.stringify(counted())}, rows: ${JSON.stringify(rows)}`);
    });
    expect(counts).toEqual(want);
    // Redeliveries happened (lost acks), and were recognised as such.
    expect(sum('econnector_items_duplicate_total', 'receipts') + sum('econnector_items_duplicate_total', 'inbound')).toBeGreaterThan(0);

    // The work was spread: more than one process recorded pages.
    const busy = workers.filter((w) => w.logs.some((l) => l.message === 'job done' && Number(l.recorded ?? 0) > 0));
    expect(busy.length).toBeGreaterThanOrEqual(2);

    // SQLite's one writer: no page write failed on the lock (busy_timeout waits; each page's
    // transaction takes the write lock with its first statement), and no job failed at all.
    const problems = workers.flatMap((w) => w.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${w.label}: ${l.message} ${String(l.error ?? '')}`));
    expect(problems.filter((p) => /SQLITE_BUSY|database is locked|could not record/i.test(p))).toEqual([]);
    expect(problems.filter((p) => /job failed/.test(p))).toEqual([]);

    // The spawned processes' own stdout (info level) and stderr hold no patient phone number and no body either.
    expect(phones.length).toBeGreaterThan(100);
    expect(bodies.length).toBeGreaterThan(3);
    const secrets = [...phones, ...bodies];
    const leaked = [main, ...workers].flatMap((p) => [...p.logs.map((l) => JSON.stringify(l)), p.stderr()]
      .flatMap((t) => secrets.filter((x) => t.includes(x)).map((x) => `${p.label}: ${phones.includes(x) ? 'a phone number' : JSON.stringify(x)}`)));
    expect(leaked).toEqual([]);

    // Readiness of the status process judges the workers' progress from Redis and the database.
    const ready = await fetch(`${main.statusUrl}/readyz`);
    const doc = (await ready.json()) as { status: string; checks: Record<string, Array<{ status: string; componentId?: string }>> };
    expect(ready.status).toBe(200);
    expect(Object.keys(doc.checks)).toEqual(expect.arrayContaining(['redis', 'database', 'hq:receipts', 'hq:inbound', 'queue:poll-receipts', 'queue:poll-inbound', 'queue:recompute-usage', 'queue:sync-account']));
    expect(doc.checks['hq:receipts']![0]!.status).toBe('pass');

    // The status process's /metrics holds the shared gauges; the workers' do not.
    const t0 = performance.now();
    const mainMetrics = await (await fetch(`${main.statusUrl}/metrics`)).text();
    const mainScrapeMs = performance.now() - t0;
    expect(mainMetrics).toMatch(/^econnector_queue_jobs\{queue="poll-receipts",state="waiting"\} \d+$/m);
    expect(mainMetrics).toMatch(/^econnector_stream_last_poll_age_seconds\{stream="receipts"\} [\d.e-]+$/m);
    for (const s of scrapes) expect(s.text).not.toContain('econnector_queue_jobs{');

    const status = await stack.status<StatusDocument>();
    process.stdout.write(`[ops] 3 workers: startup ${startupMs} ms (4 processes at once); ${traffic.receipts} receipts + ${traffic.inbound} inbound served, ` +
      `drained in ${drainMs} ms; stored ${rows.receipts} receipts, ${rows.inbound} inbound, quarantined ${status.econnector.quarantined}; ` +
      `processes that recorded: ${busy.length}/3; /metrics scrape: status ${mainScrapeMs.toFixed(1)} ms, workers ${scrapes.map((s) => s.ms.toFixed(1)).join('/')} ms\n`);
  }, 150_000);

  it('stops every process in order on SIGTERM: the workers first while status still answers, then the status process', async () => {
    expect(main).toBeDefined();
    const workerExits = await Promise.all(workers.map((p) => p.stop()));
    expect(workerExits.map((e) => e.code)).toEqual([0, 0, 0]);
    // The workers are gone; the status process still serves (it holds no job of theirs).
    expect(main.running()).toBe(true);
    expect((await fetch(`${main.statusUrl}/status`)).status).toBe(200);
    const mainExit = await main.stop();
    expect(mainExit.code).toBe(0);
    // Each process went through its own shutdown in order: the signal noted, every step done,
    // 'stopped' last, and nothing failed on the way.
    for (const p of [...workers, main]) {
      const messages = p.logs.map((l) => l.message);
      const from = messages.indexOf('shutting down');
      expect(from).toBeGreaterThan(messages.indexOf('econnector started'));
      expect(p.logs[from]).toMatchObject({ signal: 'SIGTERM' });
      expect(messages.lastIndexOf('stopped')).toBeGreaterThan(from);
      expect(p.logs.slice(from).filter((l) => l.level === 'error' || l.level === 'warn').map((l) => `${p.label}: ${l.message}`)).toEqual([]);
    }
  }, 60_000);
});
