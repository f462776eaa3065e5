/**
 * A whole connector stack for integration tests: a real redis-server on a unix socket, the HQ mock,
 * and the daemon in this process, each test with its own temporary DATA_DIR and queue prefix.
 */
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config';
import { startDaemon, type Daemon } from '../../src/daemon/daemon';
import { startHqMock, type HqMock, type HqMockOptions } from '../../src/hq-mock/server';
import { createLogger } from '../../src/log';
import { offsetTo, suiteOffset } from './clock';
import { simClient, type SimRequest, type Truth } from './hq-sim';
import { statusClient, type StatusDocument, type StatusGet } from './status-client';
import { startTestRedis, type TestRedis } from './redis';
import { tempDir } from './tmp';

export interface TestStack {
  dir: string;
  redis: TestRedis;
  mock: HqMock;
  daemon: Daemon;
  /** Every log line the daemon wrote, as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  /** Offset of the stack's clocks (the mock's and the daemon's calendar) from real time, in ms. */
  clockOffsetMs: number;
  /** The stack's now: the mock's clock, which the daemon's calendar follows. */
  now(): number;
  sim: SimRequest;
  /** GET a path of the daemon's status server (status-client.ts). */
  status: StatusGet;
  stop(): Promise<void>;
}

export interface StackOptions {
  tz?: string;
  /**
   * The instant the stack's clocks show when it starts (default: the suite's now, see clock.ts):
   * the HQ mock and the daemon's calendar run at the same offset from real time.
   */
  clockAt?: number;
  mock?: HqMockOptions;
  config?: object;
  env?: Record<string, string>;
}

export async function startStack(opts: StackOptions = {}): Promise<TestStack> {
  const tmp = tempDir();
  const redis = await startTestRedis(tmp.path);
  const clockOffsetMs = opts.clockAt === undefined ? suiteOffset() : offsetTo(opts.clockAt);
  const mock = await startHqMock({ port: 0, clockOffsetMs, ...opts.mock });
  const logs: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const env = {
    NODE_ENV: 'test',
    HQ_URL: mock.url,
    HQ_API_KEY: mock.apiKey,
    REDIS_URL: redis.url,
    DATA_DIR: tmp.path,
    OFFICE_TZ: opts.tz ?? 'America/Chicago',
    STATUS_PORT: '0',
    LOG_LEVEL: 'info',
    ECONNECTOR_CONFIG: JSON.stringify({
      schedule: { pollEverySeconds: 1, aggregatesEverySeconds: 1 },
      queue: { prefix: `test-${randomUUID().slice(0, 8)}` },
      hq: { backoff: { baseMs: 100, maxMs: 2000 }, timeoutMs: 3000 },
      testClock: { offsetMs: mock.clock.offset },
      ...opts.config,
    }),
    ...opts.env,
  };
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, stream });
  let daemon: Daemon;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    await mock.close();
    await redis.stop();
    tmp.remove();
    throw err;
  }
  const sim = simClient(mock);
  return {
    dir: tmp.path,
    redis,
    mock,
    daemon,
    logs,
    sim,
    clockOffsetMs: mock.clock.offset,
    now: () => mock.clock.now(),
    status: statusClient(daemon.statusUrl),
    stop: async () => {
      await daemon.stop();
      await mock.close();
      await redis.stop();
      tmp.remove();
    },
  };
}

/**
 * One deadline for a whole test: every wait of the test draws on it, so inner waits can never add
 * up to more than the jest limit and a slow run fails with a message naming what it awaited.
 */
export class Deadline {
  readonly at: number;
  constructor(readonly ms: number, readonly label = 'the test') {
    this.at = Date.now() + ms;
  }
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }
}

/**
 * Polls `probe` until it returns something other than undefined/false; a probe that throws counts
 * as "not yet", and the last error is in the timeout's message. `timeout` is ms or a Deadline.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeout: number | Deadline = 60_000, everyMs = 250): Promise<T> {
  const deadline = typeof timeout === 'number' ? Date.now() + timeout : timeout.at;
  const budget = typeof timeout === 'number' ? `${timeout} ms` : `${timeout.label}'s ${Math.round(timeout.ms / 1000)} s deadline`;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out (${budget}) waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(1, deadline - Date.now()))));
  }
}

/**
 * Differences between the daemon's /status and the mock's ground truth, for every month the
 * truth knows; an empty list means they agree to the micro-dollar.
 */
export async function diffAgainstTruth(stack: Pick<TestStack, 'sim' | 'status'>, tz: string): Promise<string[]> {
  const truth = await stack.sim<Truth>('GET', `/sim/truth?tz=${encodeURIComponent(tz)}`);
  const diffs: string[] = [];
  for (const [month, t] of Object.entries(truth.months)) {
    const status = await stack.status<StatusDocument>(`/status?month=${month}`);
    const byId = new Map(status.clinics.map((c) => [String(c.clinicId), c]));
    for (const [clinicId, want] of Object.entries(t.clinics)) {
      const got = byId.get(clinicId);
      const have = got
        ? { sentCount: got.sentCount, sentChargesUsd: got.sentChargesUsd, receivedCount: got.receivedCount, receivedChargesUsd: got.receivedChargesUsd }
        : null;
      const norm = (u: typeof want | null): string => (u ? `${u.sentCount}/${Number(u.sentChargesUsd).toFixed(6)}/${u.receivedCount}/${Number(u.receivedChargesUsd).toFixed(6)}` : 'absent');
      if (norm(have) !== norm(want)) diffs.push(`${month} clinic ${clinicId}: status ${norm(have)} truth ${norm(want)}`);
    }
    for (const c of status.clinics) {
      if (!t.clinics[String(c.clinicId)] && (c.sentCount !== 0 || c.receivedCount !== 0)) diffs.push(`${month} clinic ${c.clinicId}: status has usage the truth does not`);
    }
  }
  const current = await stack.status<StatusDocument>();
  if (current.econnector.quarantined !== truth.quarantinable) diffs.push(`quarantined ${current.econnector.quarantined} truth ${truth.quarantinable}`);
  return diffs;
}

/**
 * Waits until /status equals the mock's truth for every month. Times out with the differences
 * of the last comparison (or the error that stopped it): it never passes without comparing.
 */
export async function waitForTruth(stack: Pick<TestStack, 'sim' | 'status'>, tz: string, timeout: number | Deadline): Promise<void> {
  await waitFor('/status to equal the mock truth', async () => {
    const diffs = await diffAgainstTruth(stack, tz);
    if (diffs.length > 0) throw new Error(`${diffs.length} differences, e.g. ${diffs.slice(0, 3).join('; ')}`);
    return true;
  }, timeout, 500);
}
