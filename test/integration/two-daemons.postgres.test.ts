/**
 * Beyond one machine: two whole daemons (separate processes, each with its own DATA_DIR and
 * status server, as on two machines) share one Redis, one PostgreSQL and one HQ. The schedule
 * runs in both, workers in both; job ids collapse duplicate work, and page transactions run side
 * by side while the rest take the write lock exclusive (src/db/pg-serialized.ts). Totals must be
 * exact and nothing stored twice.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { HqMock } from '../../src/hq-mock/server';
import { spawnDaemon, type LogLine } from '../support/daemon-spawn';
import type { Spawned } from '../support/processes';
import { ackedButMissing } from '../support/acked';
import { Deadline, waitFor, waitForTruth } from '../support/stack';
import { tempDir } from '../support/tmp';
import { simClient } from '../support/hq-sim';
import type { TestRedis } from '../support/redis';
import { startSharedBackend, stopSharedBackend, type SharedBackend } from '../support/shared-backend';
import type { StatusDocument } from '../support/status-client';

const TZ = 'America/New_York';
const DAY = 86_400_000;

describe('two daemons sharing one Redis and one PostgreSQL', () => {
  const owner = {};
  const dir = tempDir();
  let backend: SharedBackend | undefined;
  let redis: TestRedis;
  let mock: HqMock;
  let databaseUrl: string;
  const daemons: Array<{ proc: Spawned; statusUrl: string; logs: LogLine[] }> = [];

  const sim = simClient(() => mock);

  beforeAll(async () => {
    // The mock and both daemons' calendars at the suite's instant (test/support/clock.ts).
    backend = await startSharedBackend({ database: 'two_daemons', dir: dir.path, leaseMs: 2000, seed: 5 });
    ({ databaseUrl, redis, mock } = backend);
    const prefix = `two-${randomUUID().slice(0, 8)}`;
    for (const name of ['a', 'b']) {
      // STATUS_PORT=0: the kernel picks a free port when the server binds, read back from the start line.
      const d = await spawnDaemon(`daemon ${name}`, {
        ...(process.env as Record<string, string>),
        NODE_ENV: 'test',
        HQ_URL: mock.url,
        HQ_API_KEY: mock.apiKey,
        REDIS_URL: redis.url,
        DATABASE_URL: databaseUrl,
        DATA_DIR: join(dir.path, name),
        OFFICE_TZ: TZ,
        STATUS_PORT: '0',
        LOG_LEVEL: 'info',
        ECONNECTOR_CONFIG: JSON.stringify({
          queue: { prefix },
          schedule: { pollEverySeconds: 1, aggregatesEverySeconds: 1 },
          hq: { pageSize: 200, timeoutMs: 3000, backoff: { baseMs: 100, maxMs: 2000 } },
          testClock: { offsetMs: mock.clock.offset },
        }),
      }, { timeoutMs: 60_000, owner });
      daemons.push({ proc: d, statusUrl: d.statusUrl, logs: d.logs });
    }
  }, 120_000);

  afterAll(async () => {
    const leftovers = await stopSharedBackend(backend, daemons.map((d) => d.proc), owner);
    dir.remove();
    expect(leftovers).toEqual([]);
  });

  it('records a backlog with redeliveries exactly once between them, and both report the truth', async () => {
    const deadline = new Deadline(170_000);
    const now = mock.clock.now();
    await sim('POST', '/sim/faults', { rates: { lostAck: 0.1 }, seed: 9 });
    // The daemons answer the STOP/HELP/START replies of the traffic: a second receipt of such an
    // answer comes 1 s after its first, not the mock's 30 s (see 'nothing more' below).
    await sim('POST', '/sim/config', { secondReceiptDelayMs: 1_000 });
    await sim('POST', '/sim/traffic', {
      messages: 5000, inbound: 1500, malformed: 6, seed: 21,
      from: new Date(now - 50 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(),
    });
    await waitFor('HQ to be drained', async () => {
      const s = await sim<{ receipts: { available: number; leased: number }; inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, deadline, 500);

    for (const d of daemons) {
      const view = {
        sim,
        status: async <T>(path = '/status') => {
          const res = await fetch(`${d.statusUrl}${path}`);
          if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
          return (await res.json()) as T;
        },
      };
      await waitForTruth(view, TZ, deadline);
      const current = await view.status<StatusDocument>();
      expect(current.timezone).toBe(TZ);
    }

    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      // Nothing more to come: the daemons' answers accepted by HQ (the outbox read first, so their
      // receipts exist at HQ when its stats are read), and every receipt of them due and
      // acknowledged. The mock's clock runs with real time: a second receipt of an answer, due
      // after the truth was met, acknowledged between ackedButMissing's snapshot of HQ's acks and
      // the stats read after it, failed their comparison.
      await waitFor('nothing more to come from HQ', async () => {
        const { rows } = await client.query('SELECT COUNT(*)::int AS n FROM outbox');
        if (rows[0].n > 0) return false;
        const s = await sim<{ receipts: { pending: number; available: number; leased: number }; inbound: { pending: number; available: number; leased: number } }>('GET', '/sim/stats');
        return s.receipts.pending + s.inbound.pending === 0 && s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
      }, deadline, 250);
      for (const [table, id] of [['receipts', 'receipt_id'], ['inbound_messages', 'inbound_id'], ['outbound_messages', 'guid']] as const) {
        const { rows } = await client.query(`SELECT COUNT(*)::int AS n, COUNT(DISTINCT ${id})::int AS d FROM ${table}`);
        expect(rows[0].n).toBe(rows[0].d);
        expect(rows[0].n).toBeGreaterThan(0);
      }
      // Every id HQ recorded as acknowledged is in PostgreSQL (stored or quarantined).
      // HQ's counts are read in the same tick as ackedButMissing's snapshot of its acked ids (taken
      // before its first await): the wait above still lets one item be leased, and its ack landing
      // between two readings awaits apart made them differ by one (a CI run failed on it).
      const acked = mock.hq.stats();
      const missing = await ackedButMissing(async (sql) => (await client.query(sql)).rows as Array<{ id: unknown }>, mock.hq);
      expect(missing.acked).toEqual({ receipts: acked.receipts.acked, inbound: acked.inbound.acked });
      expect(missing.acked.receipts).toBeGreaterThan(5000);
      expect(missing.acked.inbound).toBeGreaterThan(1000);
      expect({ receipts: missing.receipts, inbound: missing.inbound }).toEqual({ receipts: [], inbound: [] });
    } finally {
      await client.end();
    }
    // Work happened in both processes (the schedule and the workers run everywhere).
    for (const d of daemons) expect(d.logs.some((l) => l.message === 'job done')).toBe(true);
  }, 180_000);
});
