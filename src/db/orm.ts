/**
 * Opens the office database through MikroORM, applies pending migrations, and tunes SQLite for a
 * single always-on writer that must never lose a committed page:
 * - WAL, so /status reads never wait for a page being written;
 * - synchronous=FULL, because a page is acknowledged to HQ right after commit: with NORMAL a power
 *   cut could drop a commit HQ was already told about, and HQ would never send those items again;
 * - busy_timeout, so a second writer (a backup, another worker process) makes us wait, not fail;
 * - temp_store=MEMORY: a page is recorded by multi-row statements, and SQLite keeps a statement
 *   journal of every page such a statement changes (to undo that statement alone); past 64 KiB it
 *   goes to a temp FILE, which for a 1,000-receipt page meant ~4 MB of extra file writes per page
 *   (nearly half of all bytes a backlog drain wrote). In memory it is a few MB, freed at once;
 * - wal_autocheckpoint=10000 pages (~40 MB of WAL) instead of 1000: a page of receipts dirties
 *   ~1,000 pages of the guid index, so the default checkpointed after nearly every commit, writing
 *   each of those pages to the database file (and syncing it) once per commit; a larger WAL writes
 *   a page dirtied by several commits back once. Durability is unchanged: every commit still
 *   syncs the WAL (synchronous=FULL). Figures in BENCHMARKS.md;
 * - cache_size, the same on every connection (SQLite's own default, 2 MB): the page writer's
 *   better-sqlite3 is built with a 16 MB default, and during a drain its cache of the random-key
 *   indexes filled most of that, held in its thread's malloc arena. Pages that fall out of the
 *   cache are still in the OS's file cache, which is not the daemon's memory.
 */
import { MikroORM } from '@mikro-orm/core';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { Migrator } from '@mikro-orm/migrations';
import type { Knex, SqlEntityManager } from '@mikro-orm/knex';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseTarget } from '../config';
import { ALL_ENTITIES } from './entities';
import { SQLITE_CONNECTION_PRAGMAS } from './sqlite-pragmas';
import { MIGRATIONS } from './migrations';
import { beginTransactionsImmediately } from './sqlite-immediate';
import { serializeTransactions } from './pg-serialized';


export interface Database {
  orm: MikroORM;
  /** A fresh, request-scoped entity manager. */
  em(): SqlEntityManager;
  /** The knex instance behind the ORM, for the bulk statements of the hot paths. */
  knex: Knex;
  /**
   * For reads that must not queue behind writes (GET /status): on SQLite a second connection
   * (WAL lets it read while the writer's connection holds a page's transaction, fsync included);
   * on PostgreSQL the same pool as `knex`.
   */
  reader: Knex;
  driver: DatabaseTarget['driver'];
  close(): Promise<void>;
}

export class DatabaseConfigError extends Error {
  override name = 'DatabaseConfigError';
}

export async function openDatabase(target: DatabaseTarget, opts: { migrate?: boolean; debug?: boolean } = {}): Promise<Database> {
  const orm = target.driver === 'postgresql' ? await initPostgres(target.url, opts) : await initSqlite(target.path, opts);
  // Several processes write one SQLite file: no transaction may fail on a stale read snapshot.
  if (target.driver === 'sqlite') beginTransactionsImmediately((orm.em as unknown as SqlEntityManager).getKnex());
  else serializeTransactions((orm.em as unknown as SqlEntityManager).getKnex());
  if (opts.migrate !== false) await applyMigrations(orm);
  const em = orm.em as unknown as SqlEntityManager;
  return {
    orm,
    em: () => em.fork(),
    knex: em.getKnex(),
    reader: target.driver === 'sqlite' ? em.getKnex('read') : em.getKnex(),
    driver: target.driver,
    close: () => orm.close(true),
  };
}

const MIGRATE_ATTEMPTS = 6;

/**
 * Applies pending migrations. Several processes may open a fresh database at the same moment
 * (under pm2: the status process and N worker processes): each looks for, then creates, the
 * migrations table and runs what is pending in one transaction, so the loser of that race fails
 * ('table already exists', a busy lock) and rolls back. The winner's commit makes the next look
 * find nothing to do, so a failed run is tried again a few times, after a jittered pause.
 */
export async function applyMigrations(orm: MikroORM): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await orm.getMigrator().up();
      return;
    } catch (err) {
      if (attempt >= MIGRATE_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt + Math.random() * 300));
    }
  }
}

const COMMON_OPTIONS = {
  entities: ALL_ENTITIES,
  extensions: [Migrator],
  migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false, silent: true },
  allowGlobalContext: false,
  // knex otherwise writes every bound value into a failed query's error message (a message body,
  // a phone number), and those messages reach logs, stream_state.last_error and /readyz.
  driverOptions: { compileSqlOnError: false },
};

/** PostgreSQL: for several daemons sharing one database (a group of offices, a central deployment). */
async function initPostgres(url: string, opts: { debug?: boolean }): Promise<MikroORM> {
  // Loaded only when used: the SQLite default must not need the pg driver.
  const { PostgreSqlDriver } = await import('@mikro-orm/postgresql');
  try {
    return await MikroORM.init({
      ...COMMON_OPTIONS,
      driver: PostgreSqlDriver,
      clientUrl: url,
      debug: opts.debug ?? false,
      pool: { min: 1, max: 10 },
    });
  } catch (err) {
    // The URL may hold a password: name the setting, not its value.
    throw new DatabaseConfigError(`DATABASE_URL: cannot connect to PostgreSQL (${(err as Error).message.split('\n')[0]})`);
  }
}

async function initSqlite(path: string, opts: { debug?: boolean }): Promise<MikroORM> {
  mkdirSync(dirname(path), { recursive: true });
  return MikroORM.init({
    ...COMMON_OPTIONS,
    driver: SqliteDriver,
    dbName: path,
    debug: opts.debug ?? false,
    // The status server's reader (Database.reader): a "replica" on the same file, used only when
    // asked for by name; the ORM's own queries all stay on the writer.
    replicas: [{ name: 'reader' }],
    preferReadReplicas: false,
    pool: {
      min: 1,
      max: 1,
      // Pragmas are per connection: set them whenever the pool (re)creates one.
      afterCreate: (conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) => {
        const pragmas = SQLITE_CONNECTION_PRAGMAS;
        const next = (i: number): void => {
          if (i === pragmas.length) return done(null, conn);
          conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
        };
        next(0);
      },
    },
  });
}
