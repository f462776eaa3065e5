/**
 * Multi-row statements built by hand for the hot paths (a 1,000-item page is a few statements,
 * never a few thousand).
 *
 * On SQLite a batch travels as ONE bound parameter, a JSON array of rows that the statement expands
 * with `json_each` (`INSERT … SELECT value ->> 0, value ->> 1, … FROM json_each(?)`, `… IN (SELECT
 * value FROM json_each(?))`). The obvious form, `VALUES (?, ?, …), (…)` with 10,000 bound values,
 * costs about 7 ms of main-thread time per 1,000 rows in knex's binding pass and node-sqlite3's
 * per-value conversion, and SQLite must parse and plan a 25 KB statement each time; the JSON form
 * costs about 1.5 ms (one JSON.stringify) and its statement text is the same for every page
 * (measured in BENCHMARKS.md). Other databases (PostgreSQL) get the `VALUES` form, which is
 * valid there too, including `ON CONFLICT`.
 *
 * The two forms store the same values: numbers, strings, booleans (as 1/0) and null come out of
 * `->>` with the types a bound parameter has; strings with lone UTF-16 surrogates are made well
 * formed first (U+FFFD), exactly as node-sqlite3 converts a bound string to UTF-8.
 */
import type { Knex } from '@mikro-orm/knex';

/** SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535: stay well under both. */
const MAX_PARAMS_PER_STATEMENT = 30_000;

export type SqlValue = string | number | boolean | null;

type Db = Knex | Knex.Transaction;

/** True when `db` talks to SQLite (where batches go as one JSON parameter). */
export function isSqlite(db: Db): boolean {
  const dialect = (db as unknown as { client?: { dialect?: string } }).client?.dialect;
  return dialect === 'sqlite3' || dialect === 'better-sqlite3';
}

/** A lone surrogate, which JSON.stringify writes as a `\udXXX` escape that SQLite would decode into invalid UTF-8. */
const LONE_SURROGATE = /\p{Cs}/gu;

/** The JSON text of a batch: rows of values (or a flat list of values). Throws on values SQL cannot take. */
export function batchJson(values: readonly unknown[]): string {
  const json = JSON.stringify(values);
  // JSON.stringify escapes a lone surrogate as "\udXXX" (lower case); only then is the slow path needed.
  if (!json.includes('\\ud')) return json;
  const wellFormed = (v: unknown): unknown => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v);
  return JSON.stringify(values.map((v) => (Array.isArray(v) ? v.map(wellFormed) : wellFormed(v))));
}

function checkRows(table: string, columns: readonly string[], rows: readonly (readonly SqlValue[])[]): void {
  for (const row of rows) {
    if (row.length !== columns.length) throw new Error(`insertRows(${table}): a row has ${row.length} values for ${columns.length} columns`);
    for (const v of row) {
      // JSON would silently turn undefined into null and a Date into a string: refuse, like knex does.
      if (v !== null && typeof v === 'object') throw new Error(`insertRows(${table}): a value is an object`);
      if (v === undefined) throw new Error(`insertRows(${table}): a value is undefined`);
    }
  }
}

/** `INSERT INTO table (cols) SELECT value ->> 0, … FROM json_each(?) WHERE true` (the WHERE lets ON CONFLICT parse). */
function jsonInsertSql(table: string, columns: readonly string[], onConflict: string, returning?: string): string {
  const picks = columns.map((_, i) => `value ->> ${i}`).join(', ');
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${picks} FROM json_each(?) WHERE true ${onConflict}${returning ? ` RETURNING ${returning}` : ''}`;
}

async function valuesInsert(db: Db, table: string, columns: readonly string[], rows: readonly (readonly SqlValue[])[], onConflict: string, returning?: string): Promise<unknown[]> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS_PER_STATEMENT / columns.length));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const out: unknown[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const bindings: SqlValue[] = [];
    for (const row of chunk) bindings.push(...row);
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(chunk.length).fill(tuple).join(', ')} ${onConflict}${returning ? ` RETURNING ${returning}` : ''}`;
    const result = await db.raw(sql, bindings);
    if (returning) out.push(...rowsOf(result));
  }
  return out;
}

/**
 * Rows for one multi-row insert, checked and (on SQLite) serialized when made. Made before a
 * transaction begins, that work overlaps another transaction's instead of holding the one
 * database connection while JavaScript runs.
 */
export class PreparedRows {
  /** The batch's JSON parameter on SQLite; null elsewhere (the VALUES form binds each value). */
  readonly json: string | null;

  constructor(db: Db, readonly table: string, readonly columns: readonly string[], readonly rows: readonly (readonly SqlValue[])[]) {
    checkRows(table, columns, rows);
    this.json = rows.length > 0 && isSqlite(db) ? batchJson(rows) : null;
  }
}

async function runInsert(db: Db, batch: PreparedRows, onConflict: string, returning?: string): Promise<unknown[]> {
  if (batch.rows.length === 0) return [];
  if (batch.json !== null && isSqlite(db)) {
    const result = await db.raw(jsonInsertSql(batch.table, batch.columns, onConflict, returning), [batch.json]);
    return returning ? rowsOf(result) : [];
  }
  return valuesInsert(db, batch.table, batch.columns, batch.rows, onConflict, returning);
}

export async function insertRows(
  db: Db,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  onConflict: string,
): Promise<void> {
  if (rows.length === 0) return;
  await runInsert(db, new PreparedRows(db, table, columns, rows), onConflict);
}

/**
 * insertRows with `RETURNING returning`: the rows the statement inserted or updated (with `ON
 * CONFLICT … DO NOTHING`, exactly the rows that were new).
 */
export async function insertRowsReturning<T>(
  db: Db,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  onConflict: string,
  returning: string,
): Promise<T[]> {
  if (rows.length === 0) return [];
  return insertPreparedReturning<T>(db, new PreparedRows(db, table, columns, rows), onConflict, returning);
}

/** insertRowsReturning for rows prepared ahead (PreparedRows). */
export async function insertPreparedReturning<T>(db: Db, batch: PreparedRows, onConflict: string, returning: string): Promise<T[]> {
  return (await runInsert(db, batch, onConflict, returning)) as T[];
}

/**
 * Runs `sql`, in which `{in}` stands for an IN-list of `values`, and returns all rows. On SQLite
 * the list is one JSON parameter (`(SELECT value FROM json_each(?))`, which SQLite answers with
 * index seeks like a literal list); elsewhere `(?, ?, …)`, in chunks under the parameter limit.
 * `sql` must have no other bound parameter.
 */
export async function selectIn<T>(db: Db, sql: string, values: readonly SqlValue[]): Promise<T[]> {
  if (values.length === 0) return [];
  if (!sql.includes('{in}')) throw new Error('selectIn: the statement has no {in}');
  if (isSqlite(db)) return rowsOf<T>(await db.raw(sql.replace('{in}', '(SELECT value FROM json_each(?))'), [batchJson(values)]));
  const out: T[] = [];
  for (const part of chunks(values)) out.push(...rowsOf<T>(await db.raw(sql.replace('{in}', `(${part.map(() => '?').join(', ')})`), part)));
  return out;
}

/** Splits a list for `IN (…)` clauses that stay under the parameter limit. */
export function chunks<T>(items: readonly T[], size = 5_000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Rows of a raw SELECT, whichever driver answered (SQLite gives an array, PostgreSQL `{rows}`). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}
