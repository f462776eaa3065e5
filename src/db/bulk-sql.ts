/**
 * Multi-row INSERT statements built by hand. knex's own batch insert compiles to
 * `insert … select … union all …` on SQLite, several times slower than one `VALUES (…), (…)` list;
 * this form is valid on both SQLite (3.24+) and PostgreSQL, including `ON CONFLICT`.
 */
import type { Knex } from '@mikro-orm/knex';

/** SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535: stay well under both. */
const MAX_PARAMS_PER_STATEMENT = 30_000;

export type SqlValue = string | number | boolean | null;

export async function insertRows(
  db: Knex | Knex.Transaction,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly SqlValue[])[],
  onConflict: string,
): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS_PER_STATEMENT / columns.length));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const bindings: SqlValue[] = [];
    for (const row of chunk) {
      if (row.length !== columns.length) throw new Error(`insertRows(${table}): a row has ${row.length} values for ${columns.length} columns`);
      bindings.push(...row);
    }
    const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(chunk.length).fill(tuple).join(', ')} ${onConflict}`;
    await db.raw(sql, bindings);
  }
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
