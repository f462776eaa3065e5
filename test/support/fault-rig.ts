/**
 * The rig of the fault tests (test/faults): a real redis-server owned by the test, the HQ mock in
 * the test process (so a test can read its exact state and hook its requests), and the REAL daemon
 * as a separate process, `node dist/src/daemon/main.js`, that tests kill -9, SIGTERM and restart.
 *
 * Checks that make a test able to fail:
 * - truthDiff(): /status against the mock's /sim/truth, every clinic and month, to the micro-dollar;
 * - duplicates(): rows of the SQLite file against distinct ids (must be equal);
 * - ackedButNotStored(): every id HQ has recorded as acknowledged must be committed in the SQLite
 *   file (the contract's one rule: ack only after commit). Sampled during faults too.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { startHqMock, type HqMock, type HqMockOptions } from '../../src/hq-mock/server';
import { ACKED } from '../../src/hq-mock/store';
import type { HqStream } from '../../src/texting/streams';
import { DAEMON_MAIN, spawnDaemon, type DaemonProcess } from './daemon-spawn';
import { killAllTracked, killGroup, untrack, waitGroupGone, type Exit } from './processes';
import { suiteOffset } from './clock';
import { Deadline, diffAgainstTruth, waitFor } from './stack';
import { simClient, type SimRequest, type SimStats } from './hq-sim';
import { startTestRedis, type TestRedis } from './redis';
import { tempDir } from './tmp';
import { statusClient, type StatusGet } from './status-client';

export { ROOT, type LogLine } from './daemon-spawn';

export interface RigOptions {
  tz?: string;
  mock?: HqMockOptions;
  /** Deep-merged over the rig's daemon settings (ECONNECTOR_CONFIG). */
  config?: Record<string, unknown>;
  /** DATABASE_URL for the daemon; default DATA_DIR/econnector.sqlite. */
  databasePath?: string;
  /** A postgres:// DATABASE_URL instead of the SQLite file (the SQLite-only helpers below then refuse). */
  databaseUrl?: string;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

export class FaultRig {
  readonly tz: string;
  readonly prefix = `fault-${randomUUID().slice(0, 8)}`;
  daemon: DaemonProcess | undefined;
  /** Every daemon process this rig started, in order. */
  readonly daemons: DaemonProcess[] = [];
  private config: Record<string, unknown>;
  private readonly databaseUrl: string | undefined;

  private constructor(
    readonly dir: string,
    private readonly removeDir: () => void,
    public redis: TestRedis,
    readonly mock: HqMock,
    readonly dbPath: string,
    opts: RigOptions,
  ) {
    this.tz = opts.tz ?? 'America/Chicago';
    this.sim = simClient(mock);
    this.databaseUrl = opts.databaseUrl;
    this.config = deepMerge({
      schedule: { pollEverySeconds: 1, aggregatesEverySeconds: 1 },
      queue: { prefix: this.prefix },
      // The daemon's calendar at the mock's clock (test/support/clock.ts), when that is moved.
      ...(mock.clock.offset !== 0 ? { testClock: { offsetMs: mock.clock.offset } } : {}),
      hq: { pageSize: 25, backoff: { baseMs: 100, maxMs: 2000 }, timeoutMs: 3000 },
      shutdown: { deadlineMs: 10_000 },
    }, opts.config ?? {});
  }

  static async start(opts: RigOptions = {}): Promise<FaultRig> {
    if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run npm run build first (npm test does)`);
    const tmp = tempDir('econnector-fault-');
    let redis: TestRedis | undefined;
    try {
      redis = await startTestRedis(tmp.path);
      const mock = await startHqMock({ port: 0, leaseMs: 1500, receiptDelayMs: 200, clockOffsetMs: suiteOffset(), ...opts.mock });
      // Texts the daemon sends itself (automatic replies) get their second receipt in 1 s, not 30 s.
      mock.hq.configure({ secondReceiptDelayMs: 1000 });
      return new FaultRig(tmp.path, tmp.remove, redis, mock, opts.databasePath ?? join(tmp.path, 'econnector.sqlite'), opts);
    } catch (err) {
      await redis?.stop();
      tmp.remove();
      throw err;
    }
  }

  /** Changes settings for the daemons started from now on. */
  configure(over: Record<string, unknown>): void {
    this.config = deepMerge(this.config, over);
  }

  env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? this.dir,
      NODE_ENV: 'test',
      HQ_URL: this.mock.url,
      HQ_API_KEY: this.mock.apiKey,
      REDIS_URL: this.redis.url,
      DATA_DIR: this.dir,
      DATABASE_URL: this.databaseUrl ?? `sqlite:${this.dbPath}`,
      OFFICE_TZ: this.tz,
      STATUS_PORT: '0',
      LOG_LEVEL: 'info',
      ECONNECTOR_CONFIG: JSON.stringify(this.config),
    };
  }

  /** Spawns `node dist/src/daemon/main.js` and resolves once it has started (its status server is listening). */
  async startDaemon(timeoutMs = 30_000, extraEnv: Record<string, string> = {}): Promise<DaemonProcess> {
    if (this.daemon?.running()) throw new Error('a daemon is already running');
    const daemon = await spawnDaemon(`daemon #${this.daemons.length + 1}`, { ...this.env(), ...extraEnv }, { timeoutMs, owner: this });
    this.daemon = daemon;
    this.daemons.push(daemon);
    return daemon;
  }

  /** kill -9 of the daemon's whole process group; fails when anything of it survives. */
  async kill9(): Promise<Exit> {
    const d = this.requireDaemon();
    const exit = await killGroup(d, 'SIGKILL');
    const live = await waitGroupGone(d.pid);
    if (live.length > 0) throw new Error(`processes left behind by the killed daemon: ${live.join(', ')}`);
    return exit;
  }

  /** Sends a signal and waits for the daemon to exit by itself; fails when it leaves processes behind. */
  async signalAndWait(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<Exit & { ms: number }> {
    const d = this.requireDaemon();
    const started = Date.now();
    process.kill(d.pid, signal);
    const exit = await Promise.race([
      d.exited,
      new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref()),
    ]);
    if (exit === null) {
      await killGroup(d);
      throw new Error(`daemon did not exit within ${timeoutMs} ms of ${signal}`);
    }
    const live = await waitGroupGone(d.pid);
    if (live.length > 0) throw new Error(`processes left behind by the daemon: ${live.join(', ')}`);
    untrack(d.pid);
    return { ...exit, ms: Date.now() - started };
  }

  /** kill -9 of the redis-server; with `wipe`, its data directory goes too (all queue state lost). */
  async killRedis(wipe: boolean): Promise<void> {
    const pid = this.redis.pid();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await waitFor('redis-server to die', async () => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 5000, 20);
    }
    await this.redis.stop(); // reaps it; nothing else to do
    if (wipe) rmSync(join(this.dir, 'redis'), { recursive: true, force: true });
  }

  /** Starts a redis-server again on the same socket (empty, if its data was wiped). */
  async restartRedis(): Promise<void> {
    this.redis = await startTestRedis(this.dir);
  }

  requireDaemon(): DaemonProcess {
    if (!this.daemon) throw new Error('no daemon started');
    return this.daemon;
  }

  /** The mock's /sim API (hq-sim.ts). */
  readonly sim: SimRequest;

  stats(): Promise<SimStats> {
    return this.sim<SimStats>('GET', '/sim/stats');
  }

  /** Where the status server is, when the daemon runs under another supervisor (pm2). */
  statusBase: string | undefined;

  private statusUrl(): string {
    return this.statusBase ?? this.requireDaemon().statusUrl;
  }

  /** GET a path of the running daemon's status server (status-client.ts). */
  readonly status: StatusGet = statusClient(() => this.statusUrl());

  async readyz(): Promise<{ code: number; doc: { status: string; checks: Record<string, Array<{ status: string; output?: string }>> } }> {
    const res = await fetch(`${this.statusUrl()}/readyz`, { signal: AbortSignal.timeout(10_000) });
    return { code: res.status, doc: (await res.json()) as never };
  }

  /** /status against the ground truth, for every month and clinic; [] when equal. */
  truthDiff(): Promise<string[]> {
    return diffAgainstTruth({ sim: (m, p, b) => this.sim(m, p, b), status: (p) => this.status(p) }, this.tz);
  }

  /** Items the mock can never get acknowledged: id-less malformed ones, still live at HQ. */
  unackable(): number {
    const { hq } = this.mock;
    let n = 0;
    for (const stream of [hq.receipts, hq.inbound]) {
      for (const [i, raw] of stream.malformed) {
        const id = raw.receiptId ?? raw.inboundId;
        if (typeof id !== 'string' && stream.queue.stateOf(i) !== 4 /* EXPIRED */) n++;
      }
    }
    return n;
  }

  /**
   * HQ has nothing left to hand out but the items that can never be acknowledged, and nothing more
   * is coming: no message of the office waits in its outbox (an automatic reply recorded with a
   * page, not yet accepted by HQ, would bring receipts after this said drained; /status counts it
   * only after a debounced recompute, so the truth may match without it meanwhile). The outbox is
   * read first: whatever HQ accepted by then has its receipts at HQ when its stats are read.
   */
  async drained(): Promise<boolean> {
    if ((await this.owedToHq()) > 0) return false;
    const s = await this.stats();
    return s.receipts.pending === 0 && s.inbound.pending === 0 &&
      s.receipts.available + s.receipts.leased + s.inbound.available + s.inbound.leased <= this.unackable();
  }

  /**
   * Waits until HQ is drained and /status equals the truth, both within ONE deadline (ms, or the
   * test's Deadline); returns the last diff (empty). A timeout names the differences left.
   */
  async waitConverged(timeout: number | Deadline = 120_000): Promise<string[]> {
    const deadline = typeof timeout === 'number' ? new Deadline(timeout, 'convergence') : timeout;
    await waitFor('HQ to be drained', async () => (await this.drained()) || undefined, deadline, 250);
    return waitFor('status to equal the truth', async () => {
      const d = await this.truthDiff();
      if (d.length > 0) throw new Error(`${d.length} differences, e.g. ${d.slice(0, 3).join('; ')}`);
      return d;
    }, deadline, 500);
  }

  /** Office messages not yet accepted by HQ (the outbox), on SQLite or PostgreSQL. */
  private async owedToHq(): Promise<number> {
    // The daemon's own DATABASE_URL: a test may point env() elsewhere (hostile-hq.test.ts does).
    const url = this.env().DATABASE_URL!;
    if (url.startsWith('sqlite:')) return this.withDb((db) => Number((db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n));
    // A fresh connection per look: the server may have been restarted since the last one.
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query('SELECT COUNT(*) AS n FROM outbox')).rows[0].n);
    } finally {
      await client.end();
    }
  }

  /** Read-only look at the office database (opened afresh, closed at once). */
  withDb<T>(read: (db: Database.Database) => T): T {
    if (this.databaseUrl) throw new Error('withDb reads the SQLite file; this rig runs on PostgreSQL');
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 10000');
      return read(db);
    } finally {
      db.close();
    }
  }

  /** Stored rows against distinct ids: every value must be 0. */
  duplicates(): { receipts: number; inbound: number; quarantine: number } {
    return this.withDb((db) => {
      const one = (sql: string): number => Number((db.prepare(sql).get() as { d: number }).d);
      return {
        receipts: one('SELECT COUNT(*) - COUNT(DISTINCT receipt_id) AS d FROM receipts'),
        inbound: one('SELECT COUNT(*) - COUNT(DISTINCT inbound_id) AS d FROM inbound_messages'),
        quarantine: one("SELECT COUNT(*) - COUNT(DISTINCT kind || '|' || item_key) AS d FROM quarantine"),
      };
    });
  }

  counts(): { receipts: number; inbound: number; quarantine: number; messages: number } {
    return this.withDb((db) => {
      const one = (sql: string): number => Number((db.prepare(sql).get() as { n: number }).n);
      return {
        receipts: one('SELECT COUNT(*) AS n FROM receipts'),
        inbound: one('SELECT COUNT(*) AS n FROM inbound_messages'),
        quarantine: one('SELECT COUNT(*) AS n FROM quarantine'),
        messages: one('SELECT COUNT(*) AS n FROM outbound_messages'),
      };
    });
  }

  /**
   * Ids that HQ has recorded as acknowledged but the office database does not hold: must be empty
   * at every moment. HQ's state is read FIRST, then the database: a commit always precedes its ack,
   * so anything acked by the time HQ is read is committed by the time the database is read.
   */
  ackedButNotStored(): string[] {
    const { hq } = this.mock;
    const acked = (stream: typeof hq.receipts | typeof hq.inbound): string[] => {
      const out: string[] = [];
      for (let i = 0; i < stream.queue.size; i++) if (stream.queue.stateOf(i) === ACKED) out.push(stream.ids.format(i));
      return out;
    };
    const receipts = acked(hq.receipts);
    const inbound = acked(hq.inbound);
    return this.withDb((db) => {
      const stored = (sql: string): Set<string> => new Set((db.prepare(sql).pluck().all() as string[]));
      const r = stored("SELECT receipt_id FROM receipts UNION SELECT ack_id FROM quarantine WHERE kind = 'receipt' AND ack_id IS NOT NULL");
      const i = stored("SELECT inbound_id FROM inbound_messages UNION SELECT ack_id FROM quarantine WHERE kind = 'inbound' AND ack_id IS NOT NULL");
      return [...receipts.filter((id) => !r.has(id)), ...inbound.filter((id) => !i.has(id))];
    });
  }

  /** Stops everything; returns what was still running and had to be killed (a test fails on it). */
  async stop(): Promise<string[]> {
    const d = this.daemon;
    if (d?.running()) {
      try {
        await this.signalAndWait('SIGTERM', 15_000);
      } catch (err) {
        // killAllTracked below takes it, and the test fails on the leftover.
        console.warn(`stopping the daemon: ${(err as Error).message}`);
      }
    }
    const leftovers = await killAllTracked(this);
    await this.mock.close();
    await this.redis.stop();
    this.removeDir();
    return leftovers;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Writes a test's figures as JSON to $FAULT_REPORT_DIR/<name>.json when that variable is set
 * (scripts/fault-report.js turns them into the Reliability section of the docs).
 */
export function reportFigures(name: string, figures: Record<string, unknown>): void {
  const dir = process.env.FAULT_REPORT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}


/**
 * Hooks the in-process mock's page and ack methods (the HTTP routes call these), for tests that
 * must act at an exact point of the daemon's loop. Returns a function that removes the hooks.
 */
export function hookHq(mock: HqMock, hooks: {
  page?: (stream: HqStream, page: { json: string; count: number }) => void;
  /** Return false to drop the ack as if it never reached HQ. */
  beforeAck?: (stream: HqStream, ids: readonly string[]) => boolean;
}): () => void {
  const hq = mock.hq;
  const orig = { pageReceipts: hq.pageReceipts, pageInbound: hq.pageInbound, ackReceipts: hq.ackReceipts, ackInbound: hq.ackInbound };
  const page = (stream: HqStream, fn: (limit: number) => { json: string; count: number }) => (limit: number) => {
    const out = fn.call(hq, limit);
    hooks.page?.(stream, out);
    return out;
  };
  const ack = (stream: HqStream, fn: (ids: readonly string[], record?: boolean) => number) => (ids: readonly string[], record?: boolean) =>
    hooks.beforeAck && !hooks.beforeAck(stream, ids) ? 0 : fn.call(hq, ids, record);
  hq.pageReceipts = page('receipts', orig.pageReceipts);
  hq.pageInbound = page('inbound', orig.pageInbound);
  hq.ackReceipts = ack('receipts', orig.ackReceipts);
  hq.ackInbound = ack('inbound', orig.ackInbound);
  return () => Object.assign(hq, orig);
}
