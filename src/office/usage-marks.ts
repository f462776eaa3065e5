/** Marking (clinic, month) usage pairs dirty from the office side, like ingestion does (src/ingest/record-page.ts). */
import type { Knex } from '@mikro-orm/knex';
import { insertRows } from '../db/bulk-sql';

export async function markUsageDirty(trx: Knex | Knex.Transaction, pairs: Iterable<readonly [clinicId: number, month: string]>): Promise<void> {
  const unique = new Map<string, [number, string, number]>();
  for (const [clinicId, month] of pairs) unique.set(`${clinicId}|${month}`, [clinicId, month, 1]);
  await insertRows(trx, 'usage_dirty', ['clinic_id', 'month', 'version'], [...unique.values()],
    'ON CONFLICT (clinic_id, month) DO UPDATE SET version = usage_dirty.version + 1');
}
