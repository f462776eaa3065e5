/**
 * How a query picks the replies of one number, or of several, through the thread index
 * `inbound_thread` (Migration20261202140000_thread_index_by_number). On SQLite that index is on
 * the number's digits as an integer, and SQLite uses an index on an expression only for a query
 * that names the same expression: so every query by number takes its condition from here. The
 * phone text is compared as well, so a reply matches its own number only. On PostgreSQL the index
 * is on from_phone itself.
 */
import type { Knex } from '@mikro-orm/knex';
import { isSqlite } from '../db/bulk-sql';

/** The thread index's key on SQLite; keep it the migration's expression, character for character. */
const NUMBER_KEY = 'CAST(substr(from_phone, 2) AS INTEGER)';

/** A condition on inbound_messages for the replies from `phone`, and its bindings. */
export function fromNumber(db: Knex | Knex.Transaction, phone: string): { sql: string; bindings: string[] } {
  return isSqlite(db)
    ? { sql: `${NUMBER_KEY} = CAST(substr(?, 2) AS INTEGER) AND from_phone = ?`, bindings: [phone, phone] }
    : { sql: 'from_phone = ?', bindings: [phone] };
}

/**
 * A condition on inbound_messages for the replies from any of a list of numbers, with `{in}`
 * standing for the list (selectIn, src/db/bulk-sql.ts, fills it with the phones themselves). On
 * SQLite it matches by the index's key: the caller keeps the rows whose from_phone is one it asked for.
 */
export function fromAnyNumber(db: Knex | Knex.Transaction): string {
  return isSqlite(db) ? `${NUMBER_KEY} IN (SELECT CAST(substr(value, 2) AS INTEGER) FROM {in} AS wanted)` : 'from_phone IN {in}';
}
