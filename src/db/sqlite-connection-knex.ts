/**
 * knex on one better-sqlite3 connection that its owner opened and closes: the SQLite page store's
 * writer thread (src/ingest/sqlite-page-writer.ts) runs the code written against knex for both
 * engines (recordInboundPage, src/ingest/record-inbound.ts, with the office upkeep it calls) there,
 * unchanged, on the same connection as its own prepared statements for receipts.
 *
 * Configured like the ORM's knex (src/db/orm.ts): every top-level transaction begins IMMEDIATE
 * (sqlite-immediate.ts), and a failed statement's error message carries the statement, never its
 * bound values (message bodies, phone numbers). Errors keep better-sqlite3's SQLite code
 * (`SQLITE_CONSTRAINT_…`), which is what src/db/errors.ts reads.
 *
 * Why a client of our own: knex's better-sqlite3 client opens its connections itself, and the
 * thread must run its receipts statements and knex's on ONE connection (two would wait for each
 * other's write lock, on one thread that cannot wait), with the pragmas the owner set. It also
 * keeps each statement prepared: knex's client compiles every statement again, and a page's
 * statements are the same few texts on every page (batches travel as one JSON parameter,
 * src/db/bulk-sql.ts).
 */
import type Database from 'better-sqlite3';
import type { Knex } from '@mikro-orm/knex';
import { knex } from 'knex';
import { beginTransactionsImmediately } from './sqlite-immediate';

interface QueryObject {
  sql: string;
  bindings?: unknown[];
  response?: unknown;
  context?: { lastID: number | bigint; changes: number };
}

interface BetterSqlite3ClientLike {
  acquireRawConnection(): Promise<unknown>;
  destroyRawConnection(connection: unknown): Promise<void>;
  _query(connection: unknown, obj: QueryObject): Promise<QueryObject>;
  _formatBindings(bindings: unknown[] | undefined): unknown[];
}
type ClientClass = new (config: Knex.Config) => BetterSqlite3ClientLike;

// knex's own better-sqlite3 client (knex ships no types for its internals).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BetterSqlite3Client = require('knex/lib/dialects/better-sqlite3') as ClientClass;

/**
 * Distinct statements kept prepared. A reply page runs about fifteen, the same texts on every page
 * (each batch one JSON parameter), and a few whose text follows the page: an IN list of one `?`
 * per value (the patients of the page's numbers). Those are compiled for each use, as knex does:
 * each is seldom seen twice, and a prepared statement of a thousand parameters holds tens of KB.
 */
const MAX_PREPARED = 64;
const MAX_PREPARED_BINDINGS = 16;

/** A knex instance whose one connection is `connection` (the caller has set its pragmas). `path` names the file in knex's settings only. */
export function knexOnConnection(connection: Database.Database, path: string): Knex {
  // Least recently used first (a Map keeps insertion order; a hit moves its statement to the end).
  const prepared = new Map<string, Database.Statement>();
  const statementFor = (sql: string, bindings: number): Database.Statement => {
    if (bindings > MAX_PREPARED_BINDINGS) return connection.prepare(sql);
    let statement = prepared.get(sql);
    if (statement !== undefined) prepared.delete(sql);
    else {
      statement = connection.prepare(sql);
      if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value!);
    }
    prepared.set(sql, statement);
    return statement;
  };

  class OneConnectionClient extends BetterSqlite3Client {
    override async acquireRawConnection(): Promise<unknown> {
      return connection;
    }

    /** The owner closes the connection (after knex.destroy()). */
    override async destroyRawConnection(): Promise<void> {}

    /** knex's better-sqlite3 _query, on a statement prepared once. */
    override async _query(_connection: unknown, obj: QueryObject): Promise<QueryObject> {
      if (!obj.sql) throw new Error('The query is empty');
      const bindings = this._formatBindings(obj.bindings);
      const statement = statementFor(obj.sql, bindings.length);
      if (statement.reader) {
        obj.response = statement.all(bindings);
        return obj;
      }
      const result = statement.run(bindings);
      obj.response = result;
      obj.context = { lastID: result.lastInsertRowid, changes: result.changes };
      return obj;
    }
  }

  const instance = knex({
    client: OneConnectionClient as unknown as Knex.Config['client'],
    connection: { filename: path },
    useNullAsDefault: true,
    compileSqlOnError: false,
    pool: { min: 1, max: 1 },
  }) as unknown as Knex;
  beginTransactionsImmediately(instance);
  return instance;
}
