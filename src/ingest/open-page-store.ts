/** Chooses the page store (page-store.ts) of the database's engine, once, at start-up. */
import type { DatabaseTarget } from '../config';
import type { Database } from '../db/orm';
import type { MonthBucketer } from '../usage/month';
import type { PageStore } from './page-store';
import { PostgresPageStore } from './page-store-postgres';
import { SqlitePageStore } from './page-store-sqlite';

export function openPageStore(db: Database, target: DatabaseTarget, months: MonthBucketer, officeTz: string): PageStore {
  return target.driver === 'sqlite'
    ? new SqlitePageStore(db.knex, months, { path: target.path, officeTz })
    : new PostgresPageStore(db.knex, months);
}
