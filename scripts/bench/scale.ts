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
 *
 * Pinned layouts (`--cores`, cores.ts): the same drain with the whole system under test on k cores
 * and k worker processes (PostgreSQL) or k pollers (SQLite), for k = 1, 2: whether throughput grows
 * when cores and processes double together is what a machine with more cores would give, measured
 * here. Their CPU is counted over the drain itself (first ack to last) for every process of the
 * system, so the table also says how busy the given cores were.
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
import { pinTree, setAffinity, threadsOutside, usableCpus } from './cores';
import { profileMarkdown, summarizeProfiles, type ThreadProfile } from './profile';

export interface ScaleOptions {
  receipts: number;
  inbound: number;
  dir: string;
  /** Worker process counts to run on PostgreSQL (each with as many pollers per stream). */
  postgresProcesses: readonly number[];
  /** Pollers per stream to run on SQLite, in one worker process. */
  sqlitePollers: readonly number[];
  /** Pinned layouts on PostgreSQL: for each k, k worker processes (k pollers each stream) on k cores. */
  postgresCores: readonly number[];
  /** Pinned layouts on SQLite: for each k, one worker process with k pollers per stream on k cores. */
  sqliteCores: readonly number[];
  /** Start the worker processes and the HQ mock with --cpu-prof and summarize the profiles (profile.ts). */
  profile?: boolean;
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
  /** The cores the system under test was pinned to (null: not pinned). */
  cpus: number[] | null;
  /** CPU seconds over the drain itself (first ack to last; a worker started later, from its start), by part of the system. */
  drainCpu: DrainCpu;
  /** With ScaleOptions.profile: where the first worker process and the mock spent their CPU. */
  profile?: { worker: ThreadProfile[]; mock: ThreadProfile[] };
  /** Empty when /status equalled the mock's truth and the database held every item once. */
  problems: string[];
}

export interface DrainCpu {
  workers: number;
  /** The scheduler,status process. */
  status: number;
  postgres: number | null;
  mock: number;
  redis: number;
  total: number;
}

export interface ScaleResult {
  receipts: number;
  inbound: number;
  postgresVersion: string | null;
  runs: ScaleRun[];
  /** The pinned layouts, speed-up over the same engine's run on one core. */
  coreRuns: ScaleRun[];
}

const HOUR = 3_600_000;

interface Layout {
  engine: 'postgresql' | 'sqlite';
  workers: number;
  pollers: number;
  /** Pin the system under test to these CPUs (null: the whole machine). */
  cpus: number[] | null;
}

async function runOne(opts: ScaleOptions, layout: Layout, dir: string, databaseUrl: string | null, pg: BenchPostgres | null): Promise<ScaleRun> {
  mkdirSync(dir, { recursive: true });
  const profileDir = join(dir, 'profile');
  const profileArgs = (name: string): string[] => (opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []);
  // Pinned: every process this run spawns inherits the main thread's affinity; PostgreSQL's server
  // runs already and is pinned (its new backends inherit from the postmaster). Both are given
  // back the whole machine afterwards.
  const allCpus = usableCpus();
  const pin = layout.cpus;
  if (pin) {
    setAffinity(process.pid, pin, false);
    if (pg) pinTree(pg.pid, pin);
  }
  const unpinSelf = (): void => {
    if (pin) setAffinity(process.pid, allCpus, false);
  };
  let redis: Awaited<ReturnType<typeof startTestRedis>> | undefined;
  let mock: Awaited<ReturnType<typeof startMockProcess>> | undefined;
  const procs: DaemonProcess[] = [];
  const samplers: RssSampler[] = [];
  const clock = { firstAckAt: null as number | null, cpuAtFirstAck: null as DrainCpu | null, workersAtFirstAck: new Map<number, number>(), watching: true };
  /** Each worker's CPU seconds once it had started: what it spent starting up is not the drain's. */
  const cpuAtStarted = new Map<number, number>();
  try {
    redis = await startTestRedis(join(dir, 'redis'));
    mock = await startMockProcess({ seed: opts.seed, logFile: join(dir, 'hq-mock.log'), nodeArgs: profileArgs('mock') });
    const sim = simClient(mock);
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
    const redisPid = redis.pid();
    const cpuNow = (): DrainCpu => {
      const of = (pid: number | undefined): number => (pid === undefined ? 0 : readCpuSeconds(pid) ?? 0);
      const workers = procs.slice(1).reduce((a, p) => a + of(p.pid), 0);
      const status = of(procs[0]?.pid);
      const postgres = pg ? pg.cpuSeconds() : null;
      const m = of(mock!.pid);
      const r = of(redisPid);
      return { workers, status, postgres, mock: m, redis: r, total: workers + status + (postgres ?? 0) + m + r };
    };
    // The clock starts at the first acknowledged item, whenever it comes: this watcher polls HQ from
    // before the first worker is spawned, so a worker that drains while the others still start is
    // timed (and its CPU counted) from its first page on. (Polling only once every process was up
    // started the clock late, after a head start of the first worker: a 4-process run on a loaded
    // machine drained most of the backlog before its clock started.)
    const firstAck = (at: number): void => {
      clock.firstAckAt = at;
      clock.cpuAtFirstAck = cpuNow();
      for (const p of procs.slice(1)) clock.workersAtFirstAck.set(p.pid, readCpuSeconds(p.pid) ?? 0);
    };
    const watcher = (async () => {
      while (clock.watching && clock.firstAckAt === null) {
        const s = await sim<SimStats>('GET', '/sim/stats').catch(() => null);
        if (s && s.receipts.acked + s.inbound.acked > 0) firstAck(performance.now());
        await sleep(20);
      }
    })();
    // The status process first: it migrates a fresh database; the workers retry a migration race anyway.
    const status = await spawnBenchDaemon({ ...common, logFile: join(dir, 'status.log'), env: env('scheduler,status', null) });
    procs.push(status);
    samplers.push(new RssSampler(status.pid, 100));
    await waitHttp(`${status.statusUrl}/healthz`, 200, 60_000);
    // The workers start side by side, as pm2 starts them (each is forked at once, so each inherits the pinning).
    const spawned = await Promise.allSettled(Array.from({ length: layout.workers }, (_, i) =>
      spawnBenchDaemon({ ...common, logFile: join(dir, `workers-${i}.log`), env: env('workers', i), nodeArgs: profileArgs(`worker-${i}`) }).then((w) => {
        cpuAtStarted.set(w.pid, readCpuSeconds(w.pid) ?? 0);
        procs.push(w);
        samplers.push(new RssSampler(w.pid, 100));
        return w;
      })));
    const failed = spawned.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // Everything is spawned: the benchmark's own polling below runs anywhere.
    unpinSelf();
    const sutPids = [...procs.map((p) => p.pid), mock.pid, ...(redisPid !== undefined ? [redisPid] : [])];
    let cpuAtDone: DrainCpu | null = null;
    let workersDrainCpu = 0;
    let exited: number | null = null;
    procs.forEach((p, i) => void p.exited.then(() => (exited ??= i)));
    const total = opts.receipts + opts.inbound;
    let doneAt = 0;
    const cpu: number[] = [];
    let lastReport = performance.now();
    for (;;) {
      const s = await sim<SimStats>('GET', '/sim/stats');
      const now = performance.now();
      const acked = s.receipts.acked + s.inbound.acked;
      if (clock.firstAckAt === null && acked > 0) firstAck(now);
      if (acked >= total) {
        doneAt = now;
        cpuAtDone = cpuNow();
        // Each worker from its first ack or, when it started later (they start side by side), from its start.
        workersDrainCpu = procs.slice(1).reduce((a, p) => a + (readCpuSeconds(p.pid) ?? 0) - Math.max(cpuAtStarted.get(p.pid) ?? 0, clock.workersAtFirstAck.get(p.pid) ?? 0), 0);
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
    const outside = pin ? threadsOutside([...sutPids, ...(pg ? [pg.pid] : [])], pin, pg ? [pg.pid] : []) : [];
    const pgCpu = pg && pgCpuBefore !== null ? round(pg.cpuSeconds() - pgCpuBefore, 1) : null;
    const mockCpuAfter = readCpuSeconds(mock.pid);
    const loadAtEnd = load1();
    for (const s of samplers) s.stop();
    clock.watching = false;
    await watcher;
    // A drain so short that one poll saw both its first and its last ack is timed from the spawn.
    const firstAckAt = clock.firstAckAt;
    const from = firstAckAt !== null && firstAckAt < doneAt ? firstAckAt : spawnedAt;
    const seconds = (doneAt - from) / 1000;

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
    if (outside.length > 0) problems.push(`pinning did not hold: ${outside.length} thread(s) may run outside CPUs ${pin!.join(',')} (${outside.slice(0, 3).join(', ')})`);
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
      cpus: pin,
      drainCpu: withWorkers(cpuDelta(clock.cpuAtFirstAck ?? cpuAtDone!, cpuAtDone!), workersDrainCpu),
      problems: problems.slice(0, 5),
    };
  } finally {
    clock.watching = false;
    unpinSelf();
    for (const s of samplers) s.stop();
    // Workers first, then the status process (as pm2 stops them).
    for (const p of procs.slice(1)) await p.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await procs[0]?.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await mock?.stop();
    await redis?.stop();
    if (pin && pg) pinTree(pg.pid, allCpus);
  }
}

/** `c` with the workers' share replaced by `workers` (their CPU over the drain without their start-up). */
function withWorkers(c: DrainCpu, workers: number): DrainCpu {
  const w = round(workers, 2);
  return { ...c, workers: w, total: round(c.total - c.workers + w, 2) };
}

function cpuDelta(a: DrainCpu, b: DrainCpu): DrainCpu {
  const d = (x: number, y: number): number => round(y - x, 2);
  return {
    workers: d(a.workers, b.workers), status: d(a.status, b.status), postgres: a.postgres === null || b.postgres === null ? null : d(a.postgres, b.postgres),
    mock: d(a.mock, b.mock), redis: d(a.redis, b.redis), total: d(a.total, b.total),
  };
}

/** The profiles a run left (ScaleOptions.profile): the first worker process's threads and the mock's. */
function runProfiles(dir: string): { worker: ThreadProfile[]; mock: ThreadProfile[] } {
  const of = (name: string): ThreadProfile[] => {
    try {
      return summarizeProfiles(join(dir, 'profile', name));
    } catch {
      return []; // no profile written (the process was killed)
    }
  };
  return { worker: of('worker-0'), mock: of('mock') };
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
  const coreRuns: ScaleRun[] = [];
  const usable = usableCpus();
  const cpusFor = (k: number): number[] => {
    if (k > usable.length) throw new Error(`--cores ${k}: this benchmark may use ${usable.length} CPU(s) (${usable.join(',')})`);
    return usable.slice(0, k);
  };
  for (const k of [...opts.postgresCores, ...opts.sqliteCores]) cpusFor(k); // fail before the first run, not after an hour
  const one = async (layout: Layout, name: string, url: string | null, pg: BenchPostgres | null): Promise<ScaleRun> => {
    const dir = join(opts.dir, name);
    const run = await runOne(opts, layout, dir, url, pg);
    if (opts.profile) run.profile = runProfiles(dir);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    report(opts, run);
    return run;
  };
  let pg: BenchPostgres | null = null;
  try {
    if (opts.postgresProcesses.length > 0 || opts.postgresCores.length > 0) {
      pg = await startBenchPostgres(join(opts.dir, 'postgres'));
      const layouts: Array<[Layout, string]> = [
        ...opts.postgresProcesses.map((n): [Layout, string] => [{ engine: 'postgresql', workers: n, pollers: n, cpus: null }, `pg-${n}`]),
        ...opts.postgresCores.map((k): [Layout, string] => [{ engine: 'postgresql', workers: k, pollers: k, cpus: cpusFor(k) }, `pg-${k}-on-${k}-cores`]),
      ];
      for (const [layout, name] of layouts) {
        opts.log(`  PostgreSQL ${pg.version}, ${layout.workers} worker process(es), ${layout.pollers} poller(s) per stream${layout.cpus ? `, pinned to CPU ${layout.cpus.join(',')}` : ''} (load ${load1()})`);
        const db = name.replace(/-/g, '_');
        const url = await pg.createDatabase(db);
        const run = await one(layout, name, url, pg);
        await pg.dropDatabase(db);
        (layout.cpus ? coreRuns : runs).push(run);
      }
    }
  } finally {
    await pg?.stop();
  }
  const sqliteLayouts: Array<[Layout, string]> = [
    ...opts.sqlitePollers.map((k): [Layout, string] => [{ engine: 'sqlite', workers: 1, pollers: k, cpus: null }, `sqlite-${k}`]),
    ...opts.sqliteCores.map((k): [Layout, string] => [{ engine: 'sqlite', workers: 1, pollers: k, cpus: cpusFor(k) }, `sqlite-${k}-on-${k}-cores`]),
  ];
  for (const [layout, name] of sqliteLayouts) {
    opts.log(`  SQLite, 1 worker process, ${layout.pollers} poller(s) per stream${layout.cpus ? `, pinned to CPU ${layout.cpus.join(',')}` : ''} (load ${load1()})`);
    (layout.cpus ? coreRuns : runs).push(await one(layout, name, null, null));
  }
  for (const engine of ['postgresql', 'sqlite'] as const) {
    const base = runs.find((r) => r.engine === engine && r.workerProcesses === 1 && r.pollersPerStream === 1);
    for (const r of runs) if (r.engine === engine && base) r.speedup = round(r.itemsPerSecond / base.itemsPerSecond, 2);
    const oneCore = coreRuns.find((r) => r.engine === engine && r.cpus?.length === 1);
    for (const r of coreRuns) if (r.engine === engine && oneCore) r.speedup = round(r.itemsPerSecond / oneCore.itemsPerSecond, 2);
  }
  return { receipts: opts.receipts, inbound: opts.inbound, postgresVersion: pg?.version ?? null, runs, coreRuns };
}

/** Microseconds of CPU per item. */
const perItem = (seconds: number | null, items: number): string => (seconds === null ? '–' : String(round((seconds / items) * 1e6, 1)));

function report(opts: ScaleOptions, r: ScaleRun): void {
  const items = opts.receipts + opts.inbound;
  const c = r.drainCpu;
  opts.log(`    ${r.itemsPerSecond}/s over ${r.seconds} s (wall ${r.wallSeconds} s); worker RSS ${r.workerPeakRssMb.join('/')} MB; worker CPU ${r.workerCpuSeconds.join('/')} s; `
    + `PostgreSQL CPU ${r.postgresCpuSeconds ?? '–'} s; mock CPU ${r.mockCpuSeconds ?? '–'} s; load ${r.loadAtStart} → ${r.loadAtEnd}; ${r.problems.length === 0 ? '/status = truth' : r.problems.join('; ')}`);
  opts.log(`    CPU over the drain, µs per item: workers ${perItem(c.workers, items)}, PostgreSQL ${perItem(c.postgres, items)}, mock ${perItem(c.mock, items)}, status ${perItem(c.status, items)}, redis ${perItem(c.redis, items)}; `
    + `all ${perItem(c.total, items)} (${c.total} s${r.cpus ? `, ${Math.round((c.total / (r.cpus.length * r.seconds)) * 100)}% of CPU ${r.cpus.join(',')}` : ''})`);
  if (r.profile) {
    for (const [who, threads] of [['worker process 1', r.profile.worker], ['HQ mock', r.profile.mock]] as const) {
      opts.log(`    profile of the ${who}:`);
      for (const line of profileMarkdown(threads)) opts.log(`      ${line}`);
    }
  }
}

/**
 * The pinned layouts' table (BENCHMARKS.md, beside the main one), and the profiles when taken.
 * CPU per item counts every process of the system over the drain, so "cores busy" near 100% says
 * the cores, not a wait, set the pace.
 */
export function coresTable(s: ScaleResult): string[] {
  if (s.coreRuns.length === 0 && !s.runs.some((r) => r.profile)) return [];
  const items = s.receipts + s.inbound;
  const lines: string[] = [];
  if (s.coreRuns.length > 0) {
    lines.push('', 'The same drain with the whole system under test (worker processes, the scheduler/status process, PostgreSQL, the HQ mock, redis-server) pinned to k cores with `taskset`, and k worker processes (PostgreSQL) or k pollers (SQLite): the speed-up over one core is what more cores give when processes grow with them. CPU is counted over the drain (first ack → last) for every process of the system.', '');
    lines.push('| engine | cores (CPUs) | worker processes | pollers per stream | items/s | items/s per core | speed-up over 1 core | seconds (first ack → last) | CPU µs per item: workers / PostgreSQL / mock / status + redis | CPU µs per item, all | cores busy | load at start → end | /status = truth |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of s.coreRuns) {
      const k = r.cpus?.length ?? 0;
      const c = r.drainCpu;
      lines.push(`| ${r.engine === 'postgresql' ? `PostgreSQL ${s.postgresVersion ?? ''}`.trim() : 'SQLite'} | ${k} (${r.cpus?.join(',') ?? ''}) | ${r.workerProcesses} | ${r.pollersPerStream} | ${r.itemsPerSecond.toLocaleString('en-US')} | `
        + `${Math.round(r.itemsPerSecond / k).toLocaleString('en-US')} | ${r.speedup === null ? '–' : `${r.speedup.toFixed(2)}×`} | ${r.seconds} | `
        + `${perItem(c.workers, items)} / ${perItem(c.postgres, items)} / ${perItem(c.mock, items)} / ${perItem(c.status + c.redis, items)} | ${perItem(c.total, items)} | ${Math.round((c.total / (k * r.seconds)) * 100)}% | `
        + `${r.loadAtStart} → ${r.loadAtEnd} | ${r.problems.length === 0 ? 'yes' : `**no**: ${r.problems[0]}`} |`);
    }
  }
  for (const r of [...s.runs, ...s.coreRuns]) {
    if (!r.profile) continue;
    const name = `${r.engine === 'postgresql' ? 'PostgreSQL' : 'SQLite'}, ${r.workerProcesses} worker process(es) × ${r.pollersPerStream} poller(s)${r.cpus ? ` on ${r.cpus.length} core(s)` : ''}`;
    lines.push('', `Where the first worker process spent the run "${name}" (\`--profile\`, scripts/bench/profile.ts):`, '', ...profileMarkdown(r.profile.worker));
    lines.push(`Where the HQ mock spent it:`, '', ...profileMarkdown(r.profile.mock));
  }
  return lines;
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
