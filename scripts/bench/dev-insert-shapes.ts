/** Development helper: multi-row VALUES with 10k bindings vs one JSON parameter expanded by json_each. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/orm';
import { insertRows } from '../../src/db/bulk-sql';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'econnector-dev-'));
  const db = await openDatabase({ driver: 'sqlite', path: join(dir, 'x.sqlite') } as never);
  const knex = db.knex;
  const cols = ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'];
  let seq = 0;
  const page = () => Array.from({ length: 1000 }, () => [`r-abc-${String(++seq).padStart(9, '0')}`, randomUUID(), 1 + (seq % 5), 'delivered', 7900, 1, 'US', 1.7e12 + seq, 1.7e12 + seq + 5000, Date.now()]);
  const mode = process.argv[2] ?? 'values';
  const started = performance.now();
  let main = 0;
  for (let p = 0; p < 200; p++) {
    const rows = page();
    const t0 = performance.now();
    await knex.transaction(async (trx) => {
      if (mode === 'values') await insertRows(trx, 'receipts', cols, rows, 'ON CONFLICT (receipt_id) DO NOTHING');
      else if (mode === 'json') {
        const sel = cols.map((c, i) => `value ->> ${i}`).join(', ');
        await trx.raw(`INSERT INTO receipts (${cols.join(', ')}) SELECT ${sel} FROM json_each(?) WHERE true ON CONFLICT (receipt_id) DO NOTHING`, [JSON.stringify(rows)]);
      } else if (mode === 'noop') {
        await trx.raw('SELECT 1');
      }
    });
    main += performance.now() - t0;
  }
  const ms = performance.now() - started;
  const n = (await knex.raw('SELECT COUNT(*) AS n, COUNT(DISTINCT guid) AS g, SUM(charge_micros) AS c FROM receipts')) as unknown;
  console.log(mode, Math.round(ms), 'ms', Math.round(200000 / (ms / 1000)), 'rows/s', JSON.stringify(n));
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
