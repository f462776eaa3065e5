/** Development helper: statement overhead of 10k bindings vs one JSON parameter, on an in-memory table. */
import { MikroORM } from '@mikro-orm/core';
import { SqliteDriver } from '@mikro-orm/sqlite';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { insertRows } from '../../src/db/bulk-sql';
import { performance } from 'node:perf_hooks';

async function main(): Promise<void> {
  const orm = await MikroORM.init({ driver: SqliteDriver, dbName: ':memory:', entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 1, max: 1 } } as never);
  const knex = (orm.em as unknown as SqlEntityManager).getKnex();
  const cols = ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'];
  await knex.raw(`CREATE TABLE t (${cols.join(', ')})`);
  let seq = 0;
  const page = () => Array.from({ length: 1000 }, () => [`r-abc-${String(++seq).padStart(9, '0')}`, 'c0a8f3e2-1b4d-4e5f-9a6b-7c8d9e0f1a2b', 1 + (seq % 5), 'delivered', 7900, 1, 'US', 1.7e12 + seq, 1.7e12 + seq + 5000, Date.now()]);
  for (const mode of ['values', 'json', 'values', 'json']) {
    await knex.raw('DELETE FROM t');
    const pages = Array.from({ length: 100 }, page);
    const elu0 = performance.eventLoopUtilization();
    const t = performance.now();
    for (const rows of pages) {
      if (mode === 'values') await insertRows(knex, 't', cols, rows, '');
      else await knex.raw(`INSERT INTO t (${cols.join(', ')}) SELECT ${cols.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(?)`, [JSON.stringify(rows)]);
    }
    const ms = performance.now() - t;
    const elu = performance.eventLoopUtilization(elu0);
    console.log(mode.padEnd(8), (ms / 100).toFixed(2), 'ms/page wall;', ((elu.active) / 100).toFixed(2), 'ms/page main thread');
  }
  await orm.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
