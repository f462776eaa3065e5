/**
 * SQLite has one writer. A transaction opened with a plain (deferred) BEGIN takes a read snapshot
 * at its first SELECT; if another process commits before it then writes, that write fails AT ONCE
 * with SQLITE_BUSY — busy_timeout does not apply to a stale snapshot. With the daemon's roles in
 * several processes (pm2: the status server, whose office routes read then write, beside N worker
 * processes recording pages) that happened to almost every read-then-write transaction.
 *
 * So every transaction on SQLite begins IMMEDIATE: it takes the write lock at BEGIN, waiting up to
 * busy_timeout for it, and can never fail later on a snapshot. Transactions here all write, so
 * this costs nothing; nested ones (SAVEPOINTs) are unchanged. It holds for knex.transaction and
 * MikroORM's em.transactional and migrations alike, since they all go through the knex client.
 */
import type { Knex } from '@mikro-orm/knex';

interface KnexTransactionLike {
  query(conn: unknown, sql: string): Promise<unknown>;
}
type TransactionClass = new (...args: unknown[]) => KnexTransactionLike;

// knex's own SQLite transaction class (knex ships no types for its internals).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SqliteTransaction = require('knex/lib/dialects/sqlite3/execution/sqlite-transaction') as TransactionClass;

class ImmediateTransaction extends SqliteTransaction {
  begin(conn: unknown): Promise<unknown> {
    return this.query(conn, 'BEGIN IMMEDIATE;');
  }
}

/** Makes every top-level transaction of this knex instance's client begin IMMEDIATE. */
export function beginTransactionsImmediately(knex: Knex): void {
  const client = (knex as unknown as { client: { transaction: (...args: unknown[]) => unknown } }).client;
  client.transaction = function transaction(this: unknown, ...args: unknown[]) {
    return new ImmediateTransaction(this, ...args);
  };
}
