/** Development helper: the better-sqlite3 baseline under schema and pragma variants. */
import { readFileSync, rmSync } from 'node:fs';
const io = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
import Database from 'better-sqlite3';
import { loadRows } from './baseline';

const src = process.argv[2]!;
const dst = process.argv[3]!;
const rows = loadRows(src);
const variants = (process.argv[4] ?? 'as-is').split(',');
for (const variant of variants) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(dst + suffix, { force: true });
  const db = new Database(dst);
  if (variant.includes('page1k')) db.pragma('page_size = 1024');
  if (variant.includes('page2k')) db.pragma('page_size = 2048');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (variant.includes('cache64')) db.pragma('cache_size = -65536');
  if (variant.includes('ckpt10k')) db.pragma('wal_autocheckpoint = 10000');
  for (const sql of rows.schema) {
    if (variant.includes('noguid') && sql.includes('receipts_guid')) continue;
    db.exec(sql);
  }
  const cols = (t: string) => (db.prepare(`SELECT name FROM pragma_table_info('${t}')`).all() as Array<{ name: string }>).map((r) => r.name);
  void cols;
  const R = ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'];
  const M = ['guid', 'clinic_id', 'sent_at', 'status', 'charge_micros', 'segments', 'final_receipt_id', 'final_status_at', 'origin', 'created_at'];
  const I = ['inbound_id', 'clinic_id', 'from_phone', 'to_phone', 'body', 'received_at', 'charge_micros', 'segments', 'recorded_at'];
  const marks = (n: number) => Array(n).fill('?').join(', ');
  const pr = db.prepare(`INSERT OR REPLACE INTO receipts (${R}) VALUES (${marks(R.length)})`);
  const pm = db.prepare(`INSERT OR REPLACE INTO outbound_messages (${M}) VALUES (${marks(M.length)})`);
  const pi = db.prepare(`INSERT OR REPLACE INTO inbound_messages (${I}) VALUES (${marks(I.length)})`);
  const rc = db.transaction((chunk: unknown[][]) => {
    for (const r of chunk) {
      pr.run(r);
      const m = rows.messages.get(r[1] as string);
      if (m) pm.run(m);
    }
  });
  const ic = db.transaction((chunk: unknown[][]) => {
    for (const r of chunk) pi.run(r);
  });
  const t = performance.now();
  const io0 = io(); const cpu0 = cpu();
  for (let i = 0; i < rows.receipts.length; i += 1000) rc(rows.receipts.slice(i, i + 1000));
  const tr = performance.now() - t;
  for (let i = 0; i < rows.inbound.length; i += 1000) ic(rows.inbound.slice(i, i + 1000));
  const ms = performance.now() - t;
  const n = rows.receipts.length + rows.inbound.length;
  console.log(variant.padEnd(24), Math.round(n / (ms / 1000)), 'items/s', 'receipts part', Math.round(tr), 'ms', 'inbound part', Math.round(ms - tr), 'ms', 'written MB', Math.round((io() - io0) / 1e6), 'cpu s', (cpu() - cpu0).toFixed(1));
  db.close();
}
for (const suffix of ['', '-wal', '-shm']) rmSync(dst + suffix, { force: true });
