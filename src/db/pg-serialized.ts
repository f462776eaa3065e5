/**
 * How transactions of several daemons sharing one PostgreSQL database stay exact without running
 * one at a time.
 *
 * Page transactions (a page of receipts or replies: src/ingest/page-store-postgres.ts, src/ingest/record-inbound.ts) run side by side:
 * they take this module's write lock SHARED, and each is exact against the others by itself: every
 * usage change is an atomic additive upsert, a message's stored final receipt is read under a row
 * lock (SELECT … FOR UPDATE) before it is compared and replaced, a reply is acted on only by the
 * transaction whose insert stored it, and rows are locked in one order (ids sorted) so two pages
 * rarely deadlock; when they do, or PostgreSQL reports a serialization failure, the page's
 * transaction is run again (pageTransaction below), which is safe because it only commits whole.
 *
 * Every other transaction (office sends and edits, consent changes, settings, the usage recompute,
 * migrations) takes the lock EXCLUSIVE, as all transactions did before: those read rows, decide in
 * JavaScript and write, and a recompute overwrites usage rows with sums that a page committed
 * meanwhile would miss. They are rare and short next to a backlog's pages, and they simply wait
 * for the pages under way (and new pages wait for them). On SQLite the file has one writer anyway
 * (BEGIN IMMEDIATE, sqlite-immediate.ts) and none of this applies.
 *
 * The lock is transaction-scoped (pg_advisory_xact_lock): released at COMMIT or ROLLBACK, never
 * left behind by a process killed mid-transaction (the server ends its session). Reads outside
 * transactions (/status) take no lock.
 */
import type { Knex } from '@mikro-orm/knex';
import { isSqlite } from './bulk-sql';

interface KnexTransactionLike {
  begin(conn: unknown): Promise<unknown>;
  query(conn: unknown, sql: string): Promise<unknown>;
}
type TransactionClass = new (client: unknown, container: unknown, config?: Record<string, unknown>, outerTx?: unknown) => KnexTransactionLike;

// knex's own PostgreSQL transaction class (knex ships no types for its internals).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PgTransaction = require('knex/lib/dialects/postgres/execution/pg-transaction') as TransactionClass;

/** The advisory lock key: "econ" in ASCII, any constant shared by every daemon would do. */
export const WRITE_LOCK_KEY = 0x65636f6e;

/** The transaction option (knex passes unknown options through to the transaction) that asks for the shared lock. */
const SHARED_OPTION = 'econnectorSharedWriteLock';

class LockingTransaction extends PgTransaction {
  private readonly shared: boolean;

  constructor(client: unknown, container: unknown, config?: Record<string, unknown>, outerTx?: unknown) {
    super(client, container, config, outerTx);
    this.shared = config?.[SHARED_OPTION] === true;
  }

  override async begin(conn: unknown): Promise<unknown> {
    const result = await super.begin(conn);
    await this.query(conn, `SELECT ${this.shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(${WRITE_LOCK_KEY});`);
    return result;
  }
}

/** Makes every top-level transaction of this knex instance's client take the write lock (exclusive unless a page transaction). */
export function serializeTransactions(knex: Knex): void {
  const client = (knex as unknown as { client: { transaction: (container: unknown, config?: Record<string, unknown>, outerTx?: unknown) => unknown } }).client;
  client.transaction = function transaction(this: unknown, container: unknown, config?: Record<string, unknown>, outerTx?: unknown) {
    return new LockingTransaction(this, container, config, outerTx);
  };
}

/** SQLSTATEs after which a page's transaction is simply run again: 40001 serialization_failure, 40P01 deadlock_detected. */
const RETRY_CODES = new Set(['40001', '40P01']);
export const PAGE_TRANSACTION_ATTEMPTS = 5;

/** True when `err` is a PostgreSQL deadlock or serialization failure (the transaction was rolled back; running it again is safe). */
export function isTransientConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRY_CODES.has(code);
}

/**
 * Runs one page's transaction beside other pages' (the shared lock on PostgreSQL; on SQLite a plain
 * transaction, which begins IMMEDIATE). `work` must build everything it writes inside itself: after
 * a deadlock or a serialization failure it runs again from the start, up to
 * PAGE_TRANSACTION_ATTEMPTS times, after a short random pause that lets the other side commit.
 */
export async function pageTransaction<T>(knex: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const options = { [SHARED_OPTION]: true } as Knex.TransactionConfig;
  for (let attempt = 1; ; attempt++) {
    try {
      return await knex.transaction(work, options);
    } catch (err) {
      if (!isTransientConflict(err) || attempt >= PAGE_TRANSACTION_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}

/** Lock spaces of lockKeys (the two-key form of the advisory locks, apart from WRITE_LOCK_KEY's one-key form). */
export const LOCK_SPACE = {
  /** A phone number's consent state (opt-outs, its patients' Text OK, its HELP answers): key = phone match key. */
  consent: 1,
  /** The commlog's id order (src/db/commlog.ts): one key. */
  commlog: 2,
} as const;

/**
 * Inside a transaction on PostgreSQL, takes a transaction-scoped lock on each key of `space`, in
 * sorted order (two transactions asking for overlapping keys then wait, never deadlock). Used where
 * a page transaction reads, decides and writes state that no single row lock covers (a row that
 * may not exist yet). Keys are hashed to 32 bits: two keys that collide merely wait for each other.
 * On SQLite it does nothing: the transaction holds the file's one write lock already.
 */
export async function lockKeys(trx: Knex.Transaction, space: number, keys: Iterable<string>): Promise<void> {
  if (isSqlite(trx)) return;
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return;
  // A VALUES list is scanned in its order: the locks are taken one by one, in the sorted order.
  await trx.raw(`SELECT pg_advisory_xact_lock(?::int, hashtext(k)) FROM (VALUES ${sorted.map(() => '(?)').join(', ')}) AS keys (k)`, [space, ...sorted]);
}
