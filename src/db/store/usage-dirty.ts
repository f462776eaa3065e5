/**
 * Marks on (clinic, month) usage pairs whose monthly_usage row must be recomputed from the
 * message tables (src/usage/aggregates.ts does the recompute). Every mark bumps the pair's
 * version, so a recompute clears a mark only if nothing marked the pair again while it computed.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, rowsOf } from '../bulk-sql';

export interface UsageDirtyMark {
  clinic_id: number;
  month: string;
  version: number;
}

export async function markUsageDirty(trx: Knex | Knex.Transaction, pairs: Iterable<readonly [clinicId: number, month: string]>): Promise<void> {
  const unique = new Map<string, [number, string, number]>();
  for (const [clinicId, month] of pairs) unique.set(`${clinicId}|${month}`, [clinicId, month, 1]);
  // Sorted by the key (clinic, month): writers side by side (PostgreSQL page transactions) lock these rows in one order.
  const rows = [...unique.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  await insertRows(trx, 'usage_dirty', ['clinic_id', 'month', 'version'], rows,
    'ON CONFLICT (clinic_id, month) DO UPDATE SET version = usage_dirty.version + 1');
}

/** The months that have marks, oldest first. */
export async function dirtyMonths(knex: Knex | Knex.Transaction): Promise<string[]> {
  return rowsOf<{ month: string }>(await knex.raw('SELECT DISTINCT month FROM usage_dirty ORDER BY month')).map((r) => r.month);
}

export async function dirtyMarksOf(trx: Knex | Knex.Transaction, month: string, limit: number): Promise<UsageDirtyMark[]> {
  return rowsOf<UsageDirtyMark>(await trx.raw('SELECT clinic_id, month, version FROM usage_dirty WHERE month = ? LIMIT ?', [month, limit]));
}

/** Clears the marks whose version is still the one read. Returns how many went. */
export async function clearUsageDirty(trx: Knex | Knex.Transaction, month: string, marks: readonly UsageDirtyMark[]): Promise<number> {
  if (marks.length === 0) return 0;
  return trx('usage_dirty').where({ month }).whereIn(['clinic_id', 'version'], marks.map((m) => [m.clinic_id, m.version])).del();
}
