/**
 * Benchmark 1 (and the peak-memory half of 2): a backlog of receipts and inbound messages waits at
 * the HQ mock (its own process, no faults); the daemon starts fresh with its default settings and
 * drains it. The clock runs from spawning the daemon until the mock's /sim/stats shows every item
 * acknowledged. Afterwards /status is compared with the mock's ground truth, month by month, and
 * the database's row counts with the backlog: a fast drain that counts wrong is a failure.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readCpuSeconds, RssSampler, spawnBenchDaemon, startMockProcess, waitHttp } from './procs';
import { startTestRedis } from '../../test/support/redis';
import { round, sleep } from './util';
import { simClient, type SimStats as Stats, type Truth } from '../../test/support/hq-sim';

export interface DrainOptions {
  receipts: number;
  inbound: number;
  dir: string;
  /** Give up after this long (a broken daemon must not hang the benchmark). */
  timeoutMs: number;
  seed: number;
  nodeArgs?: string[];
  daemonRoot?: string;
  log: (line: string) => void;
}

export interface DrainResult {
  receipts: number;
  inbound: number;
  items: number;
  seconds: number;
  itemsPerSecond: number;
  /** From the first acknowledged item to the last: the steady drain without start-up. */
  steadyItemsPerSecond: number;
  startupToFirstAckMs: number;
  generateMs: number;
  peakRssMb: number;
  peakHwmMb: number;
  daemonCpuSeconds: number | null;
  mockCpuSeconds: number | null;
  /** Seconds after the last ack until /status equalled the mock's ground truth (null: never). */
  statusMatchedAfterSeconds: number | null;
  statusDiffs: string[];
  dbCounts: { receipts: number; inbound: number; messages: number; quarantine: number };
  dbPath: string;
  dbBytes: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ALL_DELIVERED = { delivered: 1, unconfirmedThenDelivered: 0, tie: 0, failedWithCharge: 0, failedNoCharge: 0 };

/**
 * Fills the mock with exactly `receipts` receipts and `inbound` inbound messages over 30 days that
 * ended 7 hours ago (so every receipt, including second receipts up to 6 h late, is already due).
 * The default outcome mix gives ~1.09 receipts per message; the last few are topped up with
 * single-receipt messages to hit the exact count.
 */
export async function fillBacklog(mock: { url: string; apiKey: string }, receipts: number, inbound: number): Promise<{ ms: number; messages: number }> {
  const started = performance.now();
  const to = Date.now() - 7 * HOUR;
  const from = to - 30 * DAY;
  const span = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  const sim = simClient(mock);
  let messages = 0;
  if (receipts > 0) {
    const first = await sim<{ messages: number; receipts: number }>('POST', '/sim/traffic', { messages: Math.floor(receipts / 1.1), ...span });
    const got = first.receipts;
    messages += first.messages;
    if (got < receipts) {
      const before = await sim<{ outcomes: object }>('GET', '/sim/config');
      await sim('POST', '/sim/config', { outcomes: ALL_DELIVERED });
      const top = await sim<{ messages: number; receipts: number }>('POST', '/sim/traffic', { messages: receipts - got, ...span });
      messages += top.messages;
      await sim('POST', '/sim/config', { outcomes: before.outcomes });
    }
  }
  if (inbound > 0) await sim('POST', '/sim/traffic', { inbound, ...span });
  const stats = await sim<Stats>('GET', '/sim/stats');
  if (stats.receipts.available !== receipts || stats.inbound.available !== inbound) {
    throw new Error(`backlog not as asked: ${stats.receipts.available} receipts, ${stats.inbound.available} inbound available`);
  }
  return { ms: performance.now() - started, messages };
}

export async function runDrain(opts: DrainOptions): Promise<DrainResult> {
  mkdirSync(opts.dir, { recursive: true });
  const redis = await startTestRedis(join(opts.dir, 'redis'));
  const mock = await startMockProcess({ seed: opts.seed, logFile: join(opts.dir, 'hq-mock.log') });
  const sim = simClient(mock);
  let daemon: Awaited<ReturnType<typeof spawnBenchDaemon>> | undefined;
  try {
    const filled = await fillBacklog(mock, opts.receipts, opts.inbound);
    opts.log(`  backlog ready at the mock: ${opts.receipts} receipts (${filled.messages} messages), ${opts.inbound} inbound, generated in ${Math.round(filled.ms)} ms`);
    const mockCpuBefore = readCpuSeconds(mock.pid);
    const dataDir = join(opts.dir, 'data');
    daemon = await spawnBenchDaemon({
      hqUrl: mock.url,
      apiKey: mock.apiKey,
      redisUrl: redis.url,
      dataDir,
      logFile: join(opts.dir, 'daemon.log'),
      nodeArgs: opts.nodeArgs,
      root: opts.daemonRoot,
    });
    const spawnedAt = daemon.spawnedAt;
    const sampler = new RssSampler(daemon.pid, 50);
    const total = opts.receipts + opts.inbound;
    let firstAckAt: number | null = null;
    let doneAt: number | null = null;
    let doneWall: number | null = null;
    let lastReport = performance.now();
    let cpu: number | null = null;
    let exited = false;
    void daemon.exited.then(() => (exited = true));
    for (;;) {
      const s = await sim<Stats>('GET', '/sim/stats');
      const now = performance.now();
      const acked = s.receipts.acked + s.inbound.acked;
      if (firstAckAt === null && acked > 0) firstAckAt = now;
      if (acked >= total) {
        doneAt = now;
        doneWall = Date.now();
        cpu = readCpuSeconds(daemon.pid);
        break;
      }
      if (exited) throw new Error(`the daemon exited during the drain (see ${join(opts.dir, 'daemon.log')})`);
      if (now - daemon.spawnedAt > opts.timeoutMs) throw new Error(`drain did not finish within ${opts.timeoutMs / 1000} s (${acked} of ${total} acked)`);
      if (now - lastReport > 10_000) {
        lastReport = now;
        opts.log(`    ${Math.round((now - daemon.spawnedAt) / 1000)} s: ${acked} of ${total} acked, rss ${Math.round(sampler.peakRssKb / 1024)} MB peak`);
      }
      await sleep(50);
    }
    const seconds = (doneAt - spawnedAt) / 1000;
    const steadySeconds = firstAckAt !== null ? (doneAt - firstAckAt) / 1000 : seconds;
    const mockCpuAfter = readCpuSeconds(mock.pid);

    // Correctness: /status must equal the mock's ground truth for every month, to the micro-dollar.
    const tz = (await (await fetch(`${daemon.statusUrl}/status`)).json() as { timezone: string }).timezone;
    let diffs: string[] = [];
    let matchedAfter: number | null = null;
    const deadline = performance.now() + 60_000;
    for (;;) {
      // The daemon answers some replies itself (STOP and START confirmations, HELP): /status counts
      // such a text at once, HQ's truth once its receipt exists (3 s to 6 h after the send, on HQ's
      // clock). So HQ's clock moves on 7 hours whenever receipts are still due, the daemon takes
      // them in, and the truth is read again each time (as the scale benchmark does).
      if ((await sim<Stats>('GET', '/sim/stats')).receipts.pending > 0) await sim('POST', '/sim/clock/advance', { ms: 7 * HOUR });
      const truth = await sim<Truth>('GET', `/sim/truth?tz=${encodeURIComponent(tz)}`);
      diffs = await diffStatus(daemon.statusUrl, truth);
      if (diffs.length === 0) {
        matchedAfter = (performance.now() - doneAt) / 1000;
        break;
      }
      if (performance.now() > deadline) break;
      await sleep(200);
    }
    sampler.stop();
    await waitHttp(`${daemon.statusUrl}/healthz`, 200, 5000);
    const { code } = await daemon.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    daemon = undefined;
    if (code !== 0) opts.log(`  warning: the daemon exited with code ${code} on SIGINT`);

    const dbPath = join(dataDir, 'econnector.sqlite');
    const db = new Database(dbPath, { readonly: true });
    const count = (table: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const dbCounts = { receipts: count('receipts'), inbound: count('inbound_messages'), messages: count('outbound_messages'), quarantine: count('quarantine') };
    const pageSize = (db.pragma('page_size', { simple: true }) as number) * (db.pragma('page_count', { simple: true }) as number);
    // The daemon's own texts (STOP/START/HELP answers) are what /status and the truth wait on
    // after the last ack: what became of them, and when the last one was answered (accepted, or
    // its refusal recorded), against the last ack, on the daemon's clock.
    const office = db.prepare(`SELECT COUNT(*) AS n, COUNT(accepted_at) AS accepted, (SELECT COUNT(*) FROM outbox) AS owed,
        MIN(created_at) AS first, MAX(created_at) AS last, MAX(accepted_at) AS lastAccepted,
        (SELECT MAX(at) FROM commlog WHERE kind = 'text_failed') AS lastFailed
      FROM outbound_messages WHERE origin = 'office'`).get() as Record<'n' | 'accepted' | 'owed', number> & Record<'first' | 'last' | 'lastAccepted' | 'lastFailed', number | null>;
    const reasons = db.prepare(`SELECT failure_reason AS reason, COUNT(*) AS n FROM outbound_messages
      WHERE origin = 'office' AND failure_reason IS NOT NULL GROUP BY failure_reason ORDER BY n DESC`).all() as Array<{ reason: string; n: number }>;
    db.close();
    if (office.n > 0) {
      const answered = Math.max(office.lastAccepted ?? 0, office.lastFailed ?? 0) || null;
      opts.log(`  the daemon's own texts: ${office.n} recorded ${clockOf(office.first)}–${clockOf(office.last)} UTC; accepted by HQ ${office.accepted}; `
        + `failed ${reasons.map((r) => `${r.n} ${r.reason}`).join(', ') || 0}; still owed at the end ${office.owed}; `
        + `the last answered at ${clockOf(answered)}, the last ack at ${clockOf(doneWall)}`);
    }
    // Every item HQ counts as acknowledged is stored once: the backlog, plus the receipts of the
    // daemon's own automatic replies that arrived before it stopped.
    const final = await sim<Stats>('GET', '/sim/stats');
    if (dbCounts.receipts !== final.receipts.acked || dbCounts.inbound !== final.inbound.acked || final.receipts.acked < opts.receipts || final.inbound.acked < opts.inbound) {
      diffs.push(`database holds ${dbCounts.receipts} receipts and ${dbCounts.inbound} inbound; HQ acknowledged ${final.receipts.acked} and ${final.inbound.acked} of a backlog of ${opts.receipts} and ${opts.inbound}`);
    }
    return {
      receipts: opts.receipts,
      inbound: opts.inbound,
      items: total,
      seconds: round(seconds, 2),
      itemsPerSecond: Math.round(total / seconds),
      steadyItemsPerSecond: Math.round(total / steadySeconds),
      startupToFirstAckMs: firstAckAt !== null ? Math.round(firstAckAt - spawnedAt) : 0,
      generateMs: Math.round(filled.ms),
      peakRssMb: round(sampler.peakRssKb / 1024, 1),
      peakHwmMb: round(sampler.peakHwmKb / 1024, 1),
      daemonCpuSeconds: cpu === null ? null : round(cpu, 1),
      mockCpuSeconds: mockCpuAfter !== null && mockCpuBefore !== null ? round(mockCpuAfter - mockCpuBefore, 1) : null,
      statusMatchedAfterSeconds: matchedAfter === null ? null : round(matchedAfter, 1),
      statusDiffs: diffs.slice(0, 10),
      dbCounts,
      dbPath,
      dbBytes: pageSize,
    };
  } finally {
    if (daemon) await daemon.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
    await mock.stop();
    await redis.stop();
  }
}

/** A wall-clock time as the daemon stamps it (epoch ms), as HH:MM:SS.mmm UTC. */
function clockOf(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toISOString().slice(11, 23);
}

/** Differences between /status and the mock's truth, month by month (empty: equal to the micro-dollar). */
export async function diffStatus(statusUrl: string, truth: Truth): Promise<string[]> {
  const diffs: string[] = [];
  const norm = (u: { sentCount: number; sentChargesUsd: string; receivedCount: number; receivedChargesUsd: string } | undefined): string =>
    u ? `${u.sentCount}/${Number(u.sentChargesUsd).toFixed(6)}/${u.receivedCount}/${Number(u.receivedChargesUsd).toFixed(6)}` : 'absent';
  let quarantined = 0;
  for (const [month, t] of Object.entries(truth.months)) {
    const res = await fetch(`${statusUrl}/status?month=${month}`);
    const status = (await res.json()) as { clinics: Array<{ clinicId: number; sentCount: number; sentChargesUsd: string; receivedCount: number; receivedChargesUsd: string }>; econnector: { quarantined: number } };
    quarantined = status.econnector.quarantined;
    const byId = new Map(status.clinics.map((c) => [String(c.clinicId), c]));
    for (const [clinicId, want] of Object.entries(t.clinics)) {
      if (norm(byId.get(clinicId)) !== norm(want)) diffs.push(`${month} clinic ${clinicId}: status ${norm(byId.get(clinicId))}, truth ${norm(want)}`);
    }
  }
  if (quarantined !== truth.quarantinable) diffs.push(`quarantined ${quarantined}, truth ${truth.quarantinable}`);
  return diffs;
}
