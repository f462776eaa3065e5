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
 * (measured in BENCHMARKS.md).
 *
 * On PostgreSQL a batch travels as one array parameter per column, typed with the column's own
 * type and zipped back into rows by `unnest` (`INSERT … SELECT * FROM unnest(?::text[],
 * ?::bigint[], …)`): the statement text is the same for every batch, and a column's values are one
 * JSON.stringify turned into an array literal. Against `VALUES (?, …)` with a bound value each
 * (which knex rewrites and the pg driver and the server then handle one by one) and against one
 * json parameter expanded by json_populate_recordset (object keys built, sent and matched for every
 * row), this costs about half the client's CPU and a quarter less of the server's per row
 * (docs/scaling.md). The column types are read once from PostgreSQL's catalog.
 *
 * Both store what bound values would: on SQLite numbers, strings, booleans (as 1/0) and null come
 * out of `->>` with the types a bound parameter has; strings with lone UTF-16 surrogates are made well
 * formed first (U+FFFD), exactly as node-sqlite3 converts a bound string to UTF-8.
 */
import type { Knex } from '@mikro-orm/knex';

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

/**
 * A PostgreSQL array literal of one column's values: `{"a","b"}`, `{1,NULL}`. JSON quotes a string
 * exactly as an array literal does as long as its only escapes are \" and \\ (a control character,
 * a lone surrogate or U+2028 gives another); then the JSON text is the literal. Otherwise each
 * string is quoted by hand, and the driver makes a lone surrogate U+FFFD on the way, as it does for
 * a bound string.
 */
export function pgArrayLiteral(values: readonly SqlValue[]): string {
  const json = JSON.stringify(values);
  if (!/\\[^"\\]/.test(json)) return `{${json.slice(1, -1)}}`;
  return `{${values.map((v) => (typeof v === 'string' ? `"${v.replace(/[\\"]/g, '\\$&')}"` : JSON.stringify(v))).join(',')}}`;
}

/** The key of a knex client's database: a transaction's client shares its parent's settings. */
function databaseKey(db: Db): unknown {
  const client = (db as unknown as { client?: { connectionSettings?: unknown; config?: { connection?: unknown } } }).client;
  return client?.connectionSettings ?? client?.config?.connection ?? db;
}

/** Column types (format_type without the modifier: the column applies its own on insert), by database and table. */
const pgColumnTypes = new Map<unknown, Map<string, Map<string, string>>>();

/**
 * The PostgreSQL type of each of `columns`, read from the catalog on the first insert into `table`
 * (through `db`, so inside a transaction it reads what the transaction sees) and kept; read again
 * when a column is not among those kept (a migration added it since).
 */
async function pgTypesOf(db: Db, table: string, columns: readonly string[]): Promise<string[]> {
  const key = databaseKey(db);
  let byTable = pgColumnTypes.get(key);
  if (!byTable) pgColumnTypes.set(key, (byTable = new Map()));
  let types = byTable.get(table);
  if (!types || columns.some((c) => !types!.has(c))) {
    const rows = rowsOf<{ attname: string; type: string }>(await db.raw(
      'SELECT attname, format_type(atttypid, NULL) AS type FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped', [table]));
    types = new Map(rows.map((r) => [r.attname, r.type]));
    byTable.set(table, types);
  }
  return columns.map((c) => {
    const t = types!.get(c);
    if (t === undefined) throw new Error(`insertRows(${table}): no column ${c}`);
    return t;
  });
}

/** `INSERT INTO table (cols) SELECT * FROM unnest(?::type[], …)`: one array parameter per column, zipped into rows in their order. */
async function unnestInsert(db: Db, batch: PreparedRows, arrays: readonly string[], onConflict: string, returning?: string): Promise<unknown[]> {
  const types = await pgTypesOf(db, batch.table, batch.columns);
  const sql = `INSERT INTO ${batch.table} (${batch.columns.join(', ')}) SELECT * FROM unnest(${types.map((t) => `?::${t}[]`).join(', ')}) ${onConflict}${returning ? ` RETURNING ${returning}` : ''}`;
  const result = await db.raw(sql, [...arrays]);
  return returning ? rowsOf(result) : [];
}

/** `INSERT INTO table (cols) SELECT value ->> 0, … FROM json_each(?) WHERE true` (the WHERE lets ON CONFLICT parse). */
function jsonInsertSql(table: string, columns: readonly string[], onConflict: string, returning?: string): string {
  const picks = columns.map((_, i) => `value ->> ${i}`).join(', ');
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${picks} FROM json_each(?) WHERE true ${onConflict}${returning ? ` RETURNING ${returning}` : ''}`;
}

/**
 * Rows for one multi-row insert, checked and (on SQLite) serialized when made. Made before a
 * transaction begins, that work overlaps another transaction's instead of holding the one
 * database connection while JavaScript runs.
 */
export class PreparedRows {
  /** The batch's JSON parameter on SQLite; null elsewhere. */
  readonly json: string | null;
  /** The batch's column arrays on PostgreSQL (array literals); null elsewhere. */
  readonly arrays: string[] | null;

  constructor(db: Db, readonly table: string, readonly columns: readonly string[], readonly rows: readonly (readonly SqlValue[])[]) {
    checkRows(table, columns, rows);
    const sqlite = isSqlite(db);
    this.json = rows.length > 0 && sqlite ? batchJson(rows) : null;
    this.arrays = rows.length > 0 && !sqlite ? columns.map((_, i) => pgArrayLiteral(rows.map((row) => row[i]!))) : null;
  }
}

async function runInsert(db: Db, batch: PreparedRows, onConflict: string, returning?: string): Promise<unknown[]> {
  if (batch.rows.length === 0) return [];
  if (isSqlite(db)) {
    const json = batch.json ?? batchJson(batch.rows);
    const result = await db.raw(jsonInsertSql(batch.table, batch.columns, onConflict, returning), [json]);
    return returning ? rowsOf(result) : [];
  }
  return unnestInsert(db, batch, batch.arrays ?? batch.columns.map((_, i) => pgArrayLiteral(batch.rows.map((row) => row[i]!))), onConflict, returning);
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
