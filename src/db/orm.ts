/**
 * Opens the office database through MikroORM, applies pending migrations, and tunes SQLite for a
 * single always-on writer that must never lose a committed page:
 * - WAL, so /status reads never wait for a page being written;
 * - synchronous=FULL, because a page is acknowledged to HQ right after commit: with NORMAL a power
 *   cut could drop a commit HQ was already told about, and HQ would never send those items again;
 * - busy_timeout, so a second writer (a backup, another worker process) makes us wait, not fail.
 */
import { MikroORM } from '@mikro-orm/core';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { Migrator } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseTarget } from '../config';
import { ALL_ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export const SQLITE_BUSY_TIMEOUT_MS = 5000;

export interface Database {
  orm: MikroORM;
  /** A fresh, request-scoped entity manager. */
  em(): SqlEntityManager;
  /** The knex instance behind the ORM, for the bulk statements of the hot paths. */
  knex: Knex;
  driver: DatabaseTarget['driver'];
  close(): Promise<void>;
}

export class DatabaseConfigError extends Error {
  override name = 'DatabaseConfigError';
}

export async function openDatabase(target: DatabaseTarget, opts: { migrate?: boolean; debug?: boolean } = {}): Promise<Database> {
  if (target.driver !== 'sqlite') {
    throw new DatabaseConfigError('DATABASE_URL: PostgreSQL is not supported by this version yet (use a sqlite: URL)');
  }
  mkdirSync(dirname(target.path), { recursive: true });
  const orm = await MikroORM.init({
    driver: SqliteDriver,
    dbName: target.path,
    entities: ALL_ENTITIES,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    debug: opts.debug ?? false,
    allowGlobalContext: false,
    pool: {
      min: 1,
      max: 1,
      // Pragmas are per connection: set them whenever the pool (re)creates one.
      afterCreate: (conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) => {
        const pragmas = [
          'PRAGMA journal_mode = WAL',
          'PRAGMA synchronous = FULL',
          `PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`,
          'PRAGMA foreign_keys = OFF',
        ];
        const next = (i: number): void => {
          if (i === pragmas.length) return done(null, conn);
          conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
        };
        next(0);
      },
    },
  });
  if (opts.migrate !== false) await orm.getMigrator().up();
  const em = orm.em as unknown as SqlEntityManager;
  return {
    orm,
    em: () => em.fork(),
    knex: em.getKnex(),
    driver: target.driver,
    close: () => orm.close(true),
  };
}
