/**
 * The two engines a store test runs on, each database fresh and migrated: a SQLite file in a
 * temporary folder, or a new database on one throw-away PostgreSQL server per test file (started
 * on first use, stopped by `stop()` in the file's afterAll). The office's store tests run every
 * case on both, with `describe.each(engines.each)`.
 */
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/orm';
import { startPostgres, type TestPostgres } from './postgres';
import { tempDir } from './tmp';

export interface OpenedDatabase {
  db: Database;
  /** Closes the database and removes its file (SQLite); the PostgreSQL server goes with stop(). */
  close(): Promise<void>;
}

export type OpenDatabase = () => Promise<OpenedDatabase>;

export interface DatabaseEngines {
  /** [name, open] for SQLite and PostgreSQL, as describe.each takes them. */
  each: ReadonlyArray<readonly [name: string, open: OpenDatabase]>;
  /** Stops the PostgreSQL server, if one was started. */
  stop(): Promise<void>;
}

/** `name` names the PostgreSQL databases (`<name>_1`, `<name>_2`, …). */
export function databaseEngines(name: string): DatabaseEngines {
  let pg: TestPostgres | undefined;
  let databases = 0;
  const sqlite: OpenDatabase = async () => {
    const dir = tempDir();
    const db = await openDatabase({ driver: 'sqlite', path: join(dir.path, 'office.sqlite') });
    return { db, close: async () => { await db.close(); dir.remove(); } };
  };
  const postgres: OpenDatabase = async () => {
    pg ??= await startPostgres();
    databases += 1;
    const db = await openDatabase({ driver: 'postgresql', url: await pg.createDatabase(`${name}_${databases}`) });
    return { db, close: () => db.close() };
  };
  return {
    each: [['SQLite', sqlite], ['PostgreSQL', postgres]],
    stop: async () => {
      await pg?.stop();
      pg = undefined;
    },
  };
}
