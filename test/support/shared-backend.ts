/**
 * What several daemon processes of one test share, as several machines of an office would: a
 * throw-away PostgreSQL with the test's database, a redis-server and the HQ mock (its clock at the
 * suite's instant, test/support/clock.ts). One start and one stop for the multi-process
 * PostgreSQL tests, so each test sets up only its daemons.
 */
import { startHqMock, type HqMock } from '../../src/hq-mock/server';
import { suiteOffset } from './clock';
import { startPostgres, type PostgresOptions, type TestPostgres } from './postgres';
import { killAllTracked, killGroup, type Spawned } from './processes';
import { startTestRedis, type TestRedis } from './redis';

export interface SharedBackend {
  pg: TestPostgres;
  /** The test's own database on `pg`. */
  databaseUrl: string;
  redis: TestRedis;
  mock: HqMock;
}

export interface SharedBackendOptions extends PostgresOptions {
  /** The database to create (its name shows in a failing test's server log). */
  database: string;
  /** The folder the test owns (Redis's socket and data go in it). */
  dir: string;
  /** The mock's lease and seed. */
  leaseMs: number;
  seed: number;
}

/** Starts PostgreSQL (and the database), Redis and the mock; stops what it started if a later step fails. */
export async function startSharedBackend(opts: SharedBackendOptions): Promise<SharedBackend> {
  const started: Partial<SharedBackend> = {};
  try {
    started.pg = await startPostgres({ crashSafe: opts.crashSafe });
    started.databaseUrl = await started.pg.createDatabase(opts.database);
    started.redis = await startTestRedis(opts.dir);
    started.mock = await startHqMock({ port: 0, leaseMs: opts.leaseMs, seed: opts.seed, clockOffsetMs: suiteOffset() });
    return started as SharedBackend;
  } catch (err) {
    await stopSharedBackend(started, [], undefined);
    throw err;
  }
}

/**
 * Ends the daemons still running (SIGTERM to each group, as pm2 stops them), then whatever of
 * `owner`'s processes is left, then the mock, Redis and PostgreSQL. Returns the processes that had
 * to be killed at the end: a test expects none.
 */
export async function stopSharedBackend(backend: Partial<SharedBackend> | undefined, daemons: readonly Spawned[], owner: object | undefined): Promise<string[]> {
  for (const d of daemons) if (d.running()) await killGroup(d, 'SIGTERM');
  const leftovers = owner === undefined ? [] : await killAllTracked(owner);
  await backend?.mock?.close();
  await backend?.redis?.stop();
  await backend?.pg?.stop();
  return leftovers;
}
