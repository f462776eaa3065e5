/**
 * Benchmarks 4 and 5, and the steady-traffic half of 2, all against the real daemon process on a
 * copy of the month database, with the HQ mock (its account set to the same 100 clinics) and a
 * redis-server of our own:
 *
 * - start-up: from spawning `node dist/src/daemon/main.js` to the first 200 from GET /readyz;
 * - GET /status (the current month): 2,000 sequential requests on one keep-alive connection
 *   (latency percentiles), then 20 concurrent keep-alive clients (requests per second);
 * - soak: a steady trickle of new traffic at the mock for a set time; RSS sampled every second.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyMonthDb, type MonthDb } from './month-db';
import { readMemory, RssSampler, spawnBenchDaemon, startMockProcess, waitHttp, type MockProcess } from './procs';
import type { DaemonProcess } from '../../test/support/daemon-spawn';
import { startTestRedis } from '../../test/support/redis';
import { KeepAliveClient, percentile, round, sleep } from './util';
import { simClient } from '../../test/support/hq-sim';
import type { TestRedis } from '../../test/support/redis';

interface Env {
  dir: string;
  redis: TestRedis;
  mock: MockProcess;
  daemonRoot?: string;
}

async function startEnv(dir: string, clinics: number, daemonRoot?: string): Promise<Env> {
  mkdirSync(dir, { recursive: true });
  const redis = await startTestRedis(join(dir, 'redis'));
  const mock = await startMockProcess({ logFile: join(dir, 'hq-mock.log') });
  const list = Array.from({ length: clinics }, (_, i) => ({
    clinicId: i + 1, name: `Clinic ${i + 1}`, subscribed: true, primaryPhone: `+1503555${String(i + 1).padStart(4, '0')}`, countryCode: 'US',
  }));
  await simClient(mock)('POST', '/sim/config', { clinics: list, monthlyLimitUsd: '50000.00' });
  return { dir, redis, mock, daemonRoot };
}

async function stopEnv(env: Env): Promise<void> {
  await env.mock.stop();
  await env.redis.stop();
}

function daemonOn(env: Env, dataDir: string, name: string, nodeArgs: string[] = []): Promise<DaemonProcess> {
  return spawnBenchDaemon({ hqUrl: env.mock.url, apiKey: env.mock.apiKey, redisUrl: env.redis.url, dataDir, logFile: join(env.dir, `${name}.log`), root: env.daemonRoot, nodeArgs });
}

/** The heap left after each full (mark-compact) collection, from the daemon's --trace-gc lines: what a leak would raise. */
function liveHeapAfterFullGcs(logFile: string, fromMs: number): Array<{ atMs: number; mb: number }> {
  const out: Array<{ atMs: number; mb: number }> = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const m = /\s(\d+) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line);
    if (m && Number(m[1]) >= fromMs) out.push({ atMs: Number(m[1]), mb: Number(m[2]) });
  }
  return out;
}

export interface StartupResult {
  readyMs: number[];
}

/** Start-up to the first 200 from /readyz, `runs` times on the same (already migrated) database. */
export async function runStartup(db: MonthDb, dir: string, runs: number, log: (l: string) => void, daemonRoot?: string): Promise<StartupResult> {
  const env = await startEnv(dir, db.clinics, daemonRoot);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  copyMonthDb(db, join(dataDir, 'econnector.sqlite'));
  const readyMs: number[] = [];
  try {
    // One start first (not counted): it applies any migration the copy lacks, as an upgrade would.
    for (let run = -1; run < runs; run++) {
      const daemon = await daemonOn(env, dataDir, `startup-${run + 1}`);
      try {
        for (;;) {
          const ms = performance.now() - daemon.spawnedAt;
          if (ms > 30_000) throw new Error('the daemon was not ready within 30 s');
          try {
            const res = await fetch(`${daemon.statusUrl}/readyz`);
            await res.arrayBuffer();
            if (res.status === 200) break;
          } catch {
            /* not listening yet */
          }
          await sleep(5);
        }
        const ms = round(performance.now() - daemon.spawnedAt, 0);
        if (run >= 0) {
          readyMs.push(ms);
          log(`    start-up ${run + 1}: ready after ${ms} ms`);
        }
      } finally {
        await daemon.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
      }
    }
  } finally {
    await stopEnv(env);
  }
  return { readyMs };
}

export interface StatusResult {
  sequential: Array<{ p50: number; p99: number; max: number; requests: number }>;
  concurrent: Array<{ rps: number; p99: number; requests: number; errors: number }>;
  bytes: number;
  clinicsInDocument: number;
}

async function sequential(url: string, n: number): Promise<{ p50: number; p99: number; max: number; requests: number }> {
  const client = new KeepAliveClient(url, 1);
  const lat: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const res = await client.get('/status');
      lat.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`GET /status answered ${res.status}`);
    }
  } finally {
    client.close();
  }
  return { p50: round(percentile(lat, 50), 2), p99: round(percentile(lat, 99), 2), max: round(Math.max(...lat), 2), requests: n };
}

async function concurrent(url: string, clients: number, n: number): Promise<{ rps: number; p99: number; requests: number; errors: number }> {
  const client = new KeepAliveClient(url, clients);
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < n) {
        next++;
        const t = performance.now();
        const res = await client.get('/status');
        lat.push(performance.now() - t);
        if (res.status !== 200) errors++;
      }
    }));
  } finally {
    client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { rps: Math.round(n / seconds), p99: round(percentile(lat, 99), 2), requests: n, errors };
}

export async function runStatus(db: MonthDb, dir: string, opts: { runs: number; sequential: number; concurrentClients: number; concurrentRequests: number; daemonRoot?: string },
  log: (l: string) => void): Promise<StatusResult> {
  const env = await startEnv(dir, db.clinics, opts.daemonRoot);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  copyMonthDb(db, join(dataDir, 'econnector.sqlite'));
  const daemon = await daemonOn(env, dataDir, 'status');
  const result: StatusResult = { sequential: [], concurrent: [], bytes: 0, clinicsInDocument: 0 };
  try {
    await waitHttp(`${daemon.statusUrl}/readyz`, 200, 30_000);
    const doc = await (await fetch(`${daemon.statusUrl}/status`)).text();
    result.bytes = doc.length;
    result.clinicsInDocument = (JSON.parse(doc) as { clinics: unknown[] }).clinics.length;
    await sequential(daemon.statusUrl, 200); // warm-up
    for (let run = 0; run < opts.runs; run++) {
      const s = await sequential(daemon.statusUrl, opts.sequential);
      result.sequential.push(s);
      const c = await concurrent(daemon.statusUrl, opts.concurrentClients, opts.concurrentRequests);
      result.concurrent.push(c);
      log(`    round ${run + 1}: sequential p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms; ${opts.concurrentClients} clients ${c.rps} req/s (p99 ${c.p99} ms, ${c.errors} errors)`);
    }
  } finally {
    await daemon.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await stopEnv(env);
  }
  return result;
}

export interface SoakResult {
  seconds: number;
  warmupSeconds: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMinMb: number;
  rssMaxMb: number;
  /** Lowest RSS in the first and the last fifth of the soak: the floors a leak would raise. */
  floorFirstMb: number;
  floorLastMb: number;
  slopeMbPerHour: number;
  /** V8's live heap after each full collection during the soak (first, last, count): flat means no leak. */
  liveHeapAfterGc: { count: number; firstMb: number | null; lastMb: number | null; maxMb: number | null };
  itemsAdded: number;
  itemsAcked: number;
}

/** A steady trickle of new messages and replies for `seconds`, with the daemon's RSS sampled every second. */
export async function runSoak(db: MonthDb, dir: string, opts: { seconds: number; warmupSeconds: number; perSecond: number; daemonRoot?: string },
  log: (l: string) => void): Promise<SoakResult> {
  const env = await startEnv(dir, db.clinics, opts.daemonRoot);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  copyMonthDb(db, join(dataDir, 'econnector.sqlite'));
  // --trace-gc only logs each collection (to the daemon's log): the live heap after full GCs is the leak check.
  const daemon = await daemonOn(env, dataDir, 'soak', ['--trace-gc']);
  const sampler = new RssSampler(daemon.pid, 1000);
  const sim = simClient(env.mock);
  let added = 0;
  let stop = false;
  const trickle = (async () => {
    while (!stop) {
      const now = Date.now();
      const t = await sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
        messages: Math.max(1, Math.round(opts.perSecond * 0.8)), inbound: Math.max(1, Math.round(opts.perSecond * 0.2)),
        from: new Date(now - 1000).toISOString(), to: new Date(now).toISOString(),
      });
      added += t.receipts + t.inbound;
      await sleep(1000);
    }
  })();
  try {
    await waitHttp(`${daemon.statusUrl}/readyz`, 200, 30_000);
    await sleep(opts.warmupSeconds * 1000);
    const from = sampler.samples.length;
    const soakFromMs = performance.now() - daemon.spawnedAt;
    const startMem = readMemory(daemon.pid)!;
    const started = performance.now();
    let lastLog = started;
    while (performance.now() - started < opts.seconds * 1000) {
      await sleep(1000);
      if (performance.now() - lastLog > 60_000) {
        lastLog = performance.now();
        log(`    ${Math.round((lastLog - started) / 1000)} s: rss ${Math.round(readMemory(daemon.pid)!.rssKb / 1024)} MB`);
      }
    }
    const endMem = readMemory(daemon.pid)!;
    stop = true;
    await trickle;
    const samples = sampler.samples.slice(from);
    sampler.stop();
    const mb = samples.map((s) => s.rssKb / 1024);
    const fifth = Math.max(1, Math.floor(mb.length / 5));
    // Least-squares slope of RSS over time.
    const xs = samples.map((s) => s.atMs / 3_600_000);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = mb.reduce((a, b) => a + b, 0) / mb.length;
    let num = 0;
    let den = 0;
    for (let i = 0; i < xs.length; i++) {
      num += (xs[i]! - mx) * (mb[i]! - my);
      den += (xs[i]! - mx) ** 2;
    }
    const stats = await sim<{ receipts: { acked: number }; inbound: { acked: number } }>('GET', '/sim/stats');
    const gcs = liveHeapAfterFullGcs(join(env.dir, 'soak.log'), soakFromMs);
    return {
      seconds: opts.seconds,
      warmupSeconds: opts.warmupSeconds,
      rssStartMb: round(startMem.rssKb / 1024, 1),
      rssEndMb: round(endMem.rssKb / 1024, 1),
      rssMinMb: round(Math.min(...mb), 1),
      rssMaxMb: round(Math.max(...mb), 1),
      floorFirstMb: round(Math.min(...mb.slice(0, fifth)), 1),
      floorLastMb: round(Math.min(...mb.slice(-fifth)), 1),
      slopeMbPerHour: den > 0 ? round(num / den, 1) : 0,
      liveHeapAfterGc: { count: gcs.length, firstMb: gcs[0]?.mb ?? null, lastMb: gcs.at(-1)?.mb ?? null, maxMb: gcs.length ? Math.max(...gcs.map((g) => g.mb)) : null },
      itemsAdded: added,
      itemsAcked: stats.receipts.acked + stats.inbound.acked,
    };
  } finally {
    stop = true;
    await trickle.catch(() => undefined);
    sampler.stop();
    await daemon.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await stopEnv(env);
  }
}
