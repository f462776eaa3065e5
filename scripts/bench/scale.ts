/**
 * `npm run bench -- --scale`: does adding processes (and pollers) make a backlog drain faster?
 *
 * Each run drains the same backlog (fillBacklog: by default 1,000,000 receipts + 200,000 replies)
 * from a fresh HQ mock process (no faults) into a fresh database, laid out as pm2 runs the daemon
 * (ecosystem.config.js): one `scheduler,status` process and N `workers` processes sharing one
 * redis-server. On PostgreSQL (a throw-away server with durable defaults, postgres.ts) N is 1, 2,
 * 3 and 4 with N pollers per stream (`ingest.pollers`); on SQLite one worker process with 1 and
 * 2 pollers. The clock runs from the first acknowledged item to the last (start-up is left out:
 * it does not scale and is measured elsewhere); afterwards /status must equal the mock's truth
 * and the database must hold every item once, or the run is a failure whatever its speed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import Database from 'better-sqlite3';
import { simClient, type SimStats, type Truth } from '../../test/support/hq-sim';
import { startTestRedis } from '../../test/support/redis';
import { diffStatus, fillBacklog } from './drain';
import { startBenchPostgres, type BenchPostgres } from './postgres';
import { readCpuSeconds, RssSampler, spawnBenchDaemon, startMockProcess, waitHttp } from './procs';
import type { DaemonProcess } from '../../test/support/daemon-spawn';
import { load1, round, sleep } from './util';

export interface ScaleOptions {
  receipts: number;
  inbound: number;
  dir: string;
  /** Worker process counts to run on PostgreSQL (each with as many pollers per stream). */
  postgresProcesses: readonly number[];
  /** Pollers per stream to run on SQLite, in one worker process. */
  sqlitePollers: readonly number[];
  timeoutMs: number;
  seed: number;
  /** Keep each run's folder (logs, the SQLite file). */
  keep?: boolean;
  daemonRoot?: string;
  log: (line: string) => void;
}

export interface ScaleRun {
  engine: 'postgresql' | 'sqlite';
  workerProcesses: number;
  pollersPerStream: number;
  loadAtStart: number;
  loadAtEnd: number;
  /** First acknowledged item to the last. */
  seconds: number;
  itemsPerSecond: number;
  /** Spawn of the processes to the last acknowledged item. */
  wallSeconds: number;
  /** Over the run of the same engine with one worker process and one poller (null: none ran). */
  speedup: number | null;
  /** Peak RSS of each worker process, MB. */
  workerPeakRssMb: number[];
  statusPeakRssMb: number;
  workerCpuSeconds: number[];
  /** PostgreSQL's processes together (null on SQLite). */
  postgresCpuSeconds: number | null;
  mockCpuSeconds: number | null;
  /** Empty when /status equalled the mock's truth and the database held every item once. */
  problems: string[];
}

export interface ScaleResult {
  receipts: number;
  inbound: number;
  postgresVersion: string | null;
  runs: ScaleRun[];
}

const HOUR = 3_600_000;

interface Layout {
  engine: 'postgresql' | 'sqlite';
  workers: number;
  pollers: number;
}

async function runOne(opts: ScaleOptions, layout: Layout, dir: string, databaseUrl: string | null, pg: BenchPostgres | null): Promise<ScaleRun> {
  mkdirSync(dir, { recursive: true });
  const redis = await startTestRedis(join(dir, 'redis'));
  const mock = await startMockProcess({ seed: opts.seed, logFile: join(dir, 'hq-mock.log') });
  const sim = simClient(mock);
  const procs: DaemonProcess[] = [];
  const samplers: RssSampler[] = [];
  try {
    const filled = await fillBacklog(mock, opts.receipts, opts.inbound);
    opts.log(`    backlog ready: ${opts.receipts} receipts (${filled.messages} messages), ${opts.inbound} inbound, in ${Math.round(filled.ms)} ms`);
    const dataDir = join(dir, 'data');
    const env = (roles: string, instance: number | null): Record<string, string> => ({
      ECONNECTOR_ROLES: roles,
      ...(instance === null ? {} : { NODE_APP_INSTANCE: String(instance) }),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ECONNECTOR_CONFIG: JSON.stringify({ ingest: { pollers: { receipts: layout.pollers, inbound: layout.pollers } } }),
    });
    const loadAtStart = load1();
    const pgCpuBefore = pg?.cpuSeconds() ?? null;
    const mockCpuBefore = readCpuSeconds(mock.pid);
    const spawnedAt = performance.now();
    const common = { hqUrl: mock.url, apiKey: mock.apiKey, redisUrl: redis.url, dataDir, root: opts.daemonRoot };
    // The status process first: it migrates a fresh database; the workers retry a migration race anyway.
    const status = await spawnBenchDaemon({ ...common, logFile: join(dir, 'status.log'), env: env('scheduler,status', null) });
    procs.push(status);
    await waitHttp(`${status.statusUrl}/healthz`, 200, 60_000);
    for (let i = 0; i < layout.workers; i++) {
      procs.push(await spawnBenchDaemon({ ...common, logFile: join(dir, `workers-${i}.log`), env: env('workers', i) }));
    }
    for (const p of procs) samplers.push(new RssSampler(p.pid, 100));
    let exited: number | null = null;
    procs.forEach((p, i) => void p.exited.then(() => (exited ??= i)));
    const total = opts.receipts + opts.inbound;
    let firstAckAt: number | null = null;
    let doneAt = 0;
    const cpu: number[] = [];
    let lastReport = performance.now();
    for (;;) {
      const s = await sim<SimStats>('GET', '/sim/stats');
      const now = performance.now();
      const acked = s.receipts.acked + s.inbound.acked;
      if (firstAckAt === null && acked > 0) firstAckAt = now;
      if (acked >= total) {
        doneAt = now;
        for (const p of procs.slice(1)) cpu.push(round(readCpuSeconds(p.pid) ?? NaN, 1));
        break;
      }
      if (exited !== null) throw new Error(`process ${exited === 0 ? 'scheduler,status' : `workers #${exited - 1}`} exited during the drain (logs in ${dir})`);
      if (now - spawnedAt > opts.timeoutMs) throw new Error(`drain did not finish within ${opts.timeoutMs / 1000} s (${acked} of ${total} acked)`);
      if (now - lastReport > 10_000) {
        lastReport = now;
        opts.log(`      ${Math.round((now - spawnedAt) / 1000)} s: ${acked} of ${total} acked`);
      }
      await sleep(50);
    }
    const pgCpu = pg && pgCpuBefore !== null ? round(pg.cpuSeconds() - pgCpuBefore, 1) : null;
    const mockCpuAfter = readCpuSeconds(mock.pid);
    const loadAtEnd = load1();
    for (const s of samplers) s.stop();
    const seconds = (doneAt - (firstAckAt ?? spawnedAt)) / 1000;

    // Correctness. The daemon answers some replies itself (STOP and START confirmations, HELP):
    // /status counts such a text at once, HQ's truth once its receipt exists (3 s to 6 h after the
    // send, on HQ's clock). So HQ's clock moves on 7 hours whenever receipts are still due, the
    // workers take them in, and /status must then equal the truth, and the database hold every
    // receipt HQ saw acknowledged and every reply, each once.
    const tz = ((await (await fetch(`${status.statusUrl}/status`)).json()) as { timezone: string }).timezone;
    let problems: string[] = [];
    let hq: SimStats;
    const deadline = performance.now() + 120_000;
    for (;;) {
      hq = await sim<SimStats>('GET', '/sim/stats');
      if (hq.receipts.pending > 0) await sim('POST', '/sim/clock/advance', { ms: 7 * HOUR });
      const waiting = hq.receipts.available + hq.receipts.leased + hq.receipts.pending + hq.inbound.available + hq.inbound.leased;
      if (waiting === 0) {
        problems = await diffStatus(status.statusUrl, await sim<Truth>('GET', `/sim/truth?tz=${encodeURIComponent(tz)}`));
        if (problems.length === 0) break;
      } else {
        problems = [`HQ still has ${waiting} items waiting, leased or due`];
      }
      if (performance.now() > deadline) break;
      await sleep(250);
    }
    const counts = await storedCounts(databaseUrl, join(dataDir, 'econnector.sqlite'));
    if (counts.receipts !== hq.receipts.acked || counts.inbound !== opts.inbound || counts.twice !== 0) {
      problems.push(`database holds ${counts.receipts} receipts and ${counts.inbound} replies (${counts.twice} ids twice); HQ acknowledged ${hq.receipts.acked} receipts, ${opts.inbound} replies were waiting`);
    }
    return {
      engine: layout.engine,
      workerProcesses: layout.workers,
      pollersPerStream: layout.pollers,
      loadAtStart,
      loadAtEnd,
      seconds: round(seconds, 2),
      itemsPerSecond: Math.round(total / seconds),
      wallSeconds: round((doneAt - spawnedAt) / 1000, 2),
      speedup: null,
      workerPeakRssMb: samplers.slice(1).map((s) => round(s.peakRssKb / 1024, 0)),
      statusPeakRssMb: round(samplers[0]!.peakRssKb / 1024, 0),
      workerCpuSeconds: cpu,
      postgresCpuSeconds: pgCpu,
      mockCpuSeconds: mockCpuAfter !== null && mockCpuBefore !== null ? round(mockCpuAfter - mockCpuBefore, 1) : null,
      problems: problems.slice(0, 5),
    };
  } finally {
    for (const s of samplers) s.stop();
    // Workers first, then the status process (as pm2 stops them).
    for (const p of procs.slice(1)) await p.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await procs[0]?.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await mock.stop();
    await redis.stop();
  }
}

async function storedCounts(databaseUrl: string | null, sqlitePath: string): Promise<{ receipts: number; inbound: number; twice: number }> {
  const sql = {
    receipts: 'SELECT COUNT(*) AS n FROM receipts',
    inbound: 'SELECT COUNT(*) AS n FROM inbound_messages',
    twice: 'SELECT (SELECT COUNT(*) - COUNT(DISTINCT receipt_id) FROM receipts) + (SELECT COUNT(*) - COUNT(DISTINCT inbound_id) FROM inbound_messages) AS n',
  };
  if (databaseUrl === null) {
    const db = new Database(sqlitePath, { readonly: true });
    try {
      const one = (q: string): number => Number((db.prepare(q).get() as { n: number }).n);
      return { receipts: one(sql.receipts), inbound: one(sql.inbound), twice: one(sql.twice) };
    } finally {
      db.close();
    }
  }
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const one = async (q: string): Promise<number> => Number((await c.query(q)).rows[0].n);
    return { receipts: await one(sql.receipts), inbound: await one(sql.inbound), twice: await one(sql.twice) };
  } finally {
    await c.end();
  }
}

export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const runs: ScaleRun[] = [];
  let pg: BenchPostgres | null = null;
  try {
    if (opts.postgresProcesses.length > 0) {
      pg = await startBenchPostgres(join(opts.dir, 'postgres'));
      for (const n of opts.postgresProcesses) {
        const name = `scale_${n}`;
        opts.log(`  PostgreSQL ${pg.version}, ${n} worker process(es), ${n} poller(s) per stream (load ${load1()})`);
        const url = await pg.createDatabase(name);
        const run = await runOne(opts, { engine: 'postgresql', workers: n, pollers: n }, join(opts.dir, `pg-${n}`), url, pg);
        await pg.dropDatabase(name);
        if (!opts.keep) rmSync(join(opts.dir, `pg-${n}`), { recursive: true, force: true });
        report(opts, run);
        runs.push(run);
      }
    }
  } finally {
    await pg?.stop();
  }
  for (const k of opts.sqlitePollers) {
    opts.log(`  SQLite, 1 worker process, ${k} poller(s) per stream (load ${load1()})`);
    const run = await runOne(opts, { engine: 'sqlite', workers: 1, pollers: k }, join(opts.dir, `sqlite-${k}`), null, null);
    if (!opts.keep) rmSync(join(opts.dir, `sqlite-${k}`), { recursive: true, force: true });
    report(opts, run);
    runs.push(run);
  }
  for (const engine of ['postgresql', 'sqlite'] as const) {
    const one = runs.find((r) => r.engine === engine && r.workerProcesses === 1 && r.pollersPerStream === 1);
    for (const r of runs) if (r.engine === engine && one) r.speedup = round(r.itemsPerSecond / one.itemsPerSecond, 2);
  }
  return { receipts: opts.receipts, inbound: opts.inbound, postgresVersion: pg?.version ?? null, runs };
}

function report(opts: ScaleOptions, r: ScaleRun): void {
  opts.log(`    ${r.itemsPerSecond}/s over ${r.seconds} s (wall ${r.wallSeconds} s); worker RSS ${r.workerPeakRssMb.join('/')} MB; worker CPU ${r.workerCpuSeconds.join('/')} s; `
    + `PostgreSQL CPU ${r.postgresCpuSeconds ?? '–'} s; mock CPU ${r.mockCpuSeconds ?? '–'} s; load ${r.loadAtStart} → ${r.loadAtEnd}; ${r.problems.length === 0 ? '/status = truth' : r.problems.join('; ')}`);
}

/** The BENCHMARKS.md table of a scale result. */
export function scaleTable(s: ScaleResult): string[] {
  const lines = [
    '| engine | worker processes | pollers per stream | items/s | speed-up over 1 process | seconds (first ack → last) | peak RSS per worker, MB | worker CPU s | PostgreSQL CPU s | HQ mock CPU s | load at start → end | /status = truth |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of s.runs) {
    lines.push(`| ${r.engine === 'postgresql' ? `PostgreSQL ${s.postgresVersion ?? ''}`.trim() : 'SQLite'} | ${r.workerProcesses} | ${r.pollersPerStream} | ${r.itemsPerSecond.toLocaleString('en-US')} | `
      + `${r.speedup === null ? '–' : `${r.speedup.toFixed(2)}×`} | ${r.seconds} | ${r.workerPeakRssMb.join(' / ')} | ${r.workerCpuSeconds.join(' / ')} | ${r.postgresCpuSeconds ?? '–'} | ${r.mockCpuSeconds ?? '–'} | `
      + `${r.loadAtStart} → ${r.loadAtEnd} | ${r.problems.length === 0 ? 'yes' : `**no**: ${r.problems[0]}`} |`);
  }
  return lines;
}
