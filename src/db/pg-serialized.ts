/**
 * PostgreSQL gets the same one-writer discipline as SQLite. Page transactions read a message's
 * stored final state and then write usage DELTAS computed from it (src/ingest/record-page.ts);
 * under READ COMMITTED two daemons recording receipts of the same message at once would both
 * read the same "before" and count the change twice. So every top-level transaction first takes
 * one transaction-scoped advisory lock, released at COMMIT or ROLLBACK: transactions of all
 * daemons sharing the database run one at a time, exactly as on SQLite (BEGIN IMMEDIATE, see
 * sqlite-immediate.ts). Reads outside transactions (/status) are not affected. A page transaction
 * lasts tens of milliseconds, so this caps ingestion near the single-writer rate, which is what
 * one SQLite file gives too.
 */
import type { Knex } from '@mikro-orm/knex';

interface KnexTransactionLike {
  begin(conn: unknown): Promise<unknown>;
  query(conn: unknown, sql: string): Promise<unknown>;
}
type TransactionClass = new (...args: unknown[]) => KnexTransactionLike;

// knex's own PostgreSQL transaction class (knex ships no types for its internals).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PgTransaction = require('knex/lib/dialects/postgres/execution/pg-transaction') as TransactionClass;

/** The advisory lock key: "econ" in ASCII, any constant shared by every daemon would do. */
export const WRITE_LOCK_KEY = 0x65636f6e;

class SerializedTransaction extends PgTransaction {
  override async begin(conn: unknown): Promise<unknown> {
    const result = await super.begin(conn);
    await this.query(conn, `SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY});`);
    return result;
  }
}

/** Makes every top-level transaction of this knex instance's client take the shared write lock. */
export function serializeTransactions(knex: Knex): void {
  const client = (knex as unknown as { client: { transaction: (...args: unknown[]) => unknown } }).client;
  client.transaction = function transaction(this: unknown, ...args: unknown[]) {
    return new SerializedTransaction(this, ...args);
  };
}
