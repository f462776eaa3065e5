/**
 * Beyond one machine: two whole daemons (separate processes, each with its own DATA_DIR and
 * status server, as on two machines) share one Redis, one PostgreSQL and one HQ. The schedule
 * runs in both, workers in both; job ids collapse duplicate work and every database transaction
 * is serialized (src/db/pg-serialized.ts). Totals must be exact and nothing stored twice.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { freePort } from '../../src/daemon/embedded-redis';
import { startHqMock, type HqMock } from '../../src/hq-mock/server';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { killAllTracked, killGroup, spawnTracked, type Spawned } from '../support/processes';
import { diffAgainstTruth, startRedis, waitFor, type StatusJson } from '../support/stack';
import { tempDir } from '../support/tmp';
import type { EmbeddedRedis } from '../../src/daemon/embedded-redis';

const TZ = 'America/New_York';
const DAY = 86_400_000;
const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'daemon', 'main.js');

describe('two daemons sharing one Redis and one PostgreSQL', () => {
  const owner = {};
  const dir = tempDir();
  let pg: TestPostgres;
  let redis: EmbeddedRedis;
  let mock: HqMock;
  let databaseUrl: string;
  const daemons: Array<{ proc: Spawned; statusUrl: string; lines: string[] }> = [];

  const sim = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${mock.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${mock.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    databaseUrl = await pg.createDatabase('two_daemons');
    redis = await startRedis(dir.path);
    mock = await startHqMock({ port: 0, leaseMs: 2000, seed: 5 });
    const prefix = `two-${randomUUID().slice(0, 8)}`;
    for (const name of ['a', 'b']) {
      const port = await freePort();
      const proc = spawnTracked(`daemon ${name}`, process.execPath, [MAIN], {
        env: {
          ...process.env,
          NODE_ENV: 'test',
          HQ_URL: mock.url,
          HQ_API_KEY: mock.apiKey,
          REDIS_URL: redis.url,
          DATABASE_URL: databaseUrl,
          DATA_DIR: join(dir.path, name),
          OFFICE_TZ: TZ,
          STATUS_PORT: String(port),
          LOG_LEVEL: 'info',
          ECONNECTOR_CONFIG: JSON.stringify({
            queue: { prefix },
            schedule: { pollEverySeconds: 1, aggregatesEverySeconds: 1 },
            hq: { pageSize: 200, timeoutMs: 3000, backoff: { baseMs: 100, maxMs: 2000 } },
          }),
        },
      }, owner);
      const lines: string[] = [];
      proc.child.stdout?.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
      proc.child.stderr?.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
      daemons.push({ proc, statusUrl: `http://127.0.0.1:${port}`, lines });
    }
    for (const d of daemons) {
      await waitFor('daemon ready', async () => (await fetch(`${d.statusUrl}/healthz`)).ok, 60_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\n${d.lines.slice(-5).join('\n')}`);
      });
    }
  }, 120_000);

  afterAll(async () => {
    for (const d of daemons) await killGroup(d.proc, 'SIGTERM');
    const leftovers = await killAllTracked(owner);
    await mock?.close();
    await redis?.stop();
    await pg?.stop();
    dir.remove();
    expect(leftovers).toEqual([]);
  });

  it('records a backlog with redeliveries exactly once between them, and both report the truth', async () => {
    const now = Date.now();
    await sim('POST', '/sim/faults', { rates: { lostAck: 0.1 }, seed: 9 });
    await sim('POST', '/sim/traffic', {
      messages: 5000, inbound: 1500, malformed: 6, seed: 21,
      from: new Date(now - 50 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(),
    });
    await waitFor('HQ to be drained', async () => {
      const s = await sim<{ receipts: { available: number; leased: number }; inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, 120_000, 500);

    for (const d of daemons) {
      const view = {
        sim,
        status: async <T>(path = '/status') => (await (await fetch(`${d.statusUrl}${path}`)).json()) as T,
      };
      let diffs: string[] = [];
      await waitFor('status to equal the truth', async () => {
        diffs = await diffAgainstTruth(view, TZ);
        return diffs.length === 0;
      }, 30_000, 1000).catch(() => undefined);
      expect(diffs).toEqual([]);
      const current = await view.status<StatusJson>();
      expect(current.timezone).toBe(TZ);
    }

    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const [table, id] of [['receipts', 'receipt_id'], ['inbound_messages', 'inbound_id'], ['outbound_messages', 'guid']] as const) {
        const { rows } = await client.query(`SELECT COUNT(*)::int AS n, COUNT(DISTINCT ${id})::int AS d FROM ${table}`);
        expect(rows[0].n).toBe(rows[0].d);
        expect(rows[0].n).toBeGreaterThan(0);
      }
    } finally {
      await client.end();
    }
    // Work happened in both processes (the schedule and the workers run everywhere).
    for (const d of daemons) expect(d.lines.some((l) => l.includes('"message":"job done"'))).toBe(true);
  }, 180_000);
});
