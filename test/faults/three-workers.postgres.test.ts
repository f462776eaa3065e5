/**
 * Scale-out on PostgreSQL, proven exact: three worker processes (`ECONNECTOR_ROLES=workers`, as
 * pm2 runs them) and one scheduler+status process share one PostgreSQL, one Redis and the HQ mock,
 * and drain one backlog together while the mock loses acknowledgements both ways. Their page
 * transactions run side by side (src/db/pg-serialized.ts); several pollers per stream make the
 * processes write pages of the same stream at the same moment. One worker is killed with
 * kill -9 in the middle of the drain and started again, as pm2 would.
 *
 * Afterwards /status equals the mock's truth to the micro-dollar, every id HQ recorded as
 * acknowledged is in PostgreSQL, no item, message, commlog fact or conversation is stored twice,
 * and more than one process recorded pages of each stream.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { HqMock } from '../../src/hq-mock/server';
import { ackedButMissing } from '../support/acked';
import { spawnDaemon, type LogLine } from '../support/daemon-spawn';
import { waitGroupGone, untrack, type Spawned } from '../support/processes';
import { Deadline, diffAgainstTruth, waitFor } from '../support/stack';
import { simClient } from '../support/hq-sim';
import type { TestRedis } from '../support/redis';
import { startSharedBackend, stopSharedBackend, type SharedBackend } from '../support/shared-backend';
import { tempDir } from '../support/tmp';

const TZ = 'America/Denver';
const DAY = 86_400_000;
/** Pollers per stream, across all processes (ingest.pollers). */
const POLLERS = 3;

interface Proc {
  label: string;
  spawned: Spawned;
  logs: LogLine[];
  statusUrl: string;
}

describe('three worker processes on one PostgreSQL, with lost acks and a kill -9', () => {
  const owner = {};
  const dir = tempDir('econnector-3w-');
  let backend: SharedBackend | undefined;
  let redis: TestRedis;
  let mock: HqMock;
  let databaseUrl: string;
  const procs: Proc[] = [];
  let prefix = '';

  const sim = simClient(() => mock);

  const spawn = async (label: string, roles: string, extra: Record<string, string> = {}): Promise<Proc> => {
    const d = await spawnDaemon(label, {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'test',
      HQ_URL: mock.url,
      HQ_API_KEY: mock.apiKey,
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dir.path,
      OFFICE_TZ: TZ,
      LOG_LEVEL: 'info',
      ECONNECTOR_ROLES: roles,
      ECONNECTOR_CONFIG: JSON.stringify({
        queue: { prefix },
        schedule: { pollEverySeconds: 1, aggregatesEverySeconds: 1 },
        hq: { pageSize: 100, timeoutMs: 3000, backoff: { baseMs: 100, maxMs: 2000 } },
        // Short jobs hand the streams from process to process; several pollers per stream write
        // pages of one stream side by side.
        ingest: { maxPagesPerJob: 5, pollers: { receipts: POLLERS, inbound: POLLERS } },
        testClock: { offsetMs: mock.clock.offset },
      }),
      ...extra,
    }, { timeoutMs: 60_000, owner });
    const p = { label, spawned: d, logs: d.logs, statusUrl: d.statusUrl };
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    // The mock and every process's calendar at the suite's instant (test/support/clock.ts).
    backend = await startSharedBackend({ crashSafe: true, database: 'three_workers', dir: dir.path, leaseMs: 1500, seed: 31 });
    ({ databaseUrl, redis, mock } = backend);
    prefix = `three-${randomUUID().slice(0, 8)}`;
  }, 60_000);

  afterAll(async () => {
    const leftovers = await stopSharedBackend(backend, procs.map((p) => p.spawned), owner);
    dir.remove();
    expect(leftovers).toEqual([]);
  });

  it('drains a backlog exactly once between them: /status equals the truth, nothing stored twice', async () => {
    const deadline = new Deadline(200_000);
    // All four start at once, as pm2 starts them: migrations of a fresh database must not race.
    const [main, ...workers] = await Promise.all([
      spawn('scheduler+status', 'scheduler,status', { STATUS_PORT: '0' }),
      ...[0, 1, 2].map((i) => spawn(`workers #${i}`, 'workers', { NODE_APP_INSTANCE: String(i) })),
    ]);

    await sim('POST', '/sim/faults', { rates: { lostAck: 0.15, ackResponseLost: 0.1 }, seed: 32 });
    const now = mock.clock.now();
    const traffic = await sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
      messages: 6000, inbound: 1500, malformed: 8, seed: 33,
      from: new Date(now - 55 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(),
    });
    const acked = () => mock.hq.stats().receipts.acked + mock.hq.stats().inbound.acked;

    // kill -9 of one worker once a good part of the backlog is in: its page under way (fetched,
    // being written, or committed and not yet acknowledged) is handed out again by HQ.
    await waitFor('a third of the backlog acknowledged', async () => acked() >= (traffic.receipts + traffic.inbound) / 3, deadline, 50);
    const victim = workers[1]!;
    process.kill(-victim.spawned.pid, 'SIGKILL');
    await victim.spawned.exited;
    await waitGroupGone(victim.spawned.pid);
    untrack(victim.spawned.pid);
    const ackedAtKill = acked();
    // pm2 starts it again.
    const again = await spawn('workers #1 (restarted)', 'workers', { NODE_APP_INSTANCE: '1' });

    let lastStats: unknown;
    await waitFor('HQ to be drained', async () => {
      const s = await sim<{ receipts: { available: number; leased: number }; inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      lastStats = s;
      return s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, deadline, 250).catch((err: Error) => {
      throw new Error(`${err.message}; last HQ stats: ${JSON.stringify(lastStats)}`);
    });
    expect(acked()).toBeGreaterThan(ackedAtKill);

    const view = {
      sim,
      status: async <T>(path = '/status') => {
        const res = await fetch(`${main.statusUrl}${path}`);
        if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
        return (await res.json()) as T;
      },
    };
    let lastDiff: string[] = [];
    await waitFor('/status to equal the truth to the micro-dollar', async () => {
      lastDiff = await diffAgainstTruth(view, TZ);
      return lastDiff.length === 0;
    }, deadline, 500).catch((err: Error) => {
      throw new Error(`${err.message}; last differences: ${lastDiff.slice(0, 10).join('; ')}`);
    });

    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const one = async (sql: string): Promise<number> => Number((await client.query(sql)).rows[0].n);
      // No item, message, commlog fact or conversation stored twice.
      for (const [table, id] of [['receipts', 'receipt_id'], ['inbound_messages', 'inbound_id'], ['outbound_messages', 'guid'], ['commlog', 'event_key'],
        ['conversations', 'phone']] as const) {
        expect({ table, twice: await one(`SELECT COUNT(*) - COUNT(DISTINCT ${id}) AS n FROM ${table}`) }).toEqual({ table, twice: 0 });
      }
      // Every reply has its one commlog row: a reply two pages held at once was acted on once.
      expect(await one(`SELECT COUNT(*) AS n FROM commlog WHERE kind = 'reply_received'`)).toBe(await one('SELECT COUNT(*) AS n FROM inbound_messages'));
      // The unread counters equal the replies they count (each added once).
      expect(await one('SELECT COALESCE(SUM(unread), 0) AS n FROM unread_counts'))
        .toBe(await one('SELECT COUNT(*) AS n FROM inbound_messages WHERE NOT is_read AND NOT hidden'));
      // Each message's stored final receipt is the greatest of its stored receipts by the contract's rule.
      const wrongFinal = await one(`SELECT COUNT(*) AS n FROM outbound_messages m WHERE m.final_receipt_id IS DISTINCT FROM
        (SELECT r.receipt_id FROM receipts r WHERE r.guid = m.guid ORDER BY r.status_at DESC, r.receipt_id COLLATE "C" DESC LIMIT 1)
        AND EXISTS (SELECT 1 FROM receipts r WHERE r.guid = m.guid)`);
      expect(wrongFinal).toBe(0);

      // Every id HQ recorded as acknowledged is in PostgreSQL (stored or quarantined).
      const missing = await ackedButMissing(async (sql) => (await client.query(sql)).rows as Array<{ id: unknown }>, mock.hq);
      expect({ receipts: missing.receipts, inbound: missing.inbound }).toEqual({ receipts: [], inbound: [] });
      expect(missing.acked.receipts).toBeGreaterThanOrEqual(traffic.receipts);
    } finally {
      await client.end();
    }

    // The work was spread: pages of each stream were recorded by more than one process.
    for (const queue of ['poll-receipts', 'poll-inbound']) {
      const busy = [...workers, again].filter((w) => w.logs.some((l) => l.message === 'job done' && l.queue === queue && Number(l.recorded ?? 0) > 0));
      expect({ queue, processes: busy.length >= 2 }).toEqual({ queue, processes: true });
    }
    // No job failed but for HQ's own transient faults (on a loaded machine a call can time out; the
    // client retries it by design, its message says "next try in" or "backoff"), and no page write
    // failed (a deadlock is retried inside the page, never surfaced).
    const live = [...workers, again].filter((w) => w !== victim);
    const problems = live.flatMap((w) => w.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${w.label}: ${l.message} ${String(l.error ?? '')}`));
    const hqTransient = /: (.*; next try in \d+ ms|waiting \d+ ms before calling again \(backoff\))$/;
    expect(problems.filter((p) => /could not record|deadlock/i.test(p) || (/job failed/.test(p) && !hqTransient.test(p)))).toEqual([]);
    process.stdout.write(`[3 workers, PostgreSQL] ${traffic.receipts} receipts + ${traffic.inbound} replies; kill -9 at ${ackedAtKill} acknowledged; ` +
      `HQ acknowledged ${acked()} (redeliveries included)\n`);
  }, 220_000);
});
