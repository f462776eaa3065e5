/** Development helper: the daemon's receipts-page SQL replayed through better-sqlite3, timed per statement, vs the per-row baseline. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HqState } from '../../src/hq-mock/hq';
import { splitPage } from '../../src/ingest/validate';
import type { ValidReceipt } from '../../src/hq/schemas';
import { openDatabase } from '../../src/db/orm';

const io = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 300_000);
  const mode = process.argv[3] ?? 'daemon';
  const dir = mkdtempSync('/var/tmp/ecperf-replay-');
  const path = join(dir, 'x.sqlite');
  const orm = await openDatabase({ driver: 'sqlite', path } as never);
  await orm.close();
  const hq = new HqState({ seed: 1 });
  const to = Date.now() - 7 * 3_600_000;
  hq.generate({ messages: Math.floor(n / 1.09), from: to - 30 * 86_400_000, to });
  const pages: ValidReceipt[][] = [];
  for (;;) {
    const p = hq.pageReceipts(1000);
    if (p.count === 0) break;
    pages.push(splitPage('receipt', (JSON.parse(p.json) as { receipts: unknown[] }).receipts).valid);
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  for (const p of (process.env.PRAGMAS ?? '').split(';').filter(Boolean)) db.pragma(p);
  const t: Record<string, number> = {};
  const time = <T>(k: string, f: () => T): T => { const s = performance.now(); const r = f(); t[k] = (t[k] ?? 0) + performance.now() - s; return r; };
  const RC = ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'];
  const MC = ['guid', 'clinic_id', 'sent_at', 'status', 'charge_micros', 'segments', 'final_receipt_id', 'final_status_at', 'origin', 'created_at'];
  const pick = (cols: string[]) => cols.map((_, i) => `value ->> ${i}`).join(', ');
  // OR=FAIL: other constraints fail the statement without undoing its earlier rows, so SQLite keeps no statement journal.
  const or = process.env.OR ? `OR ${process.env.OR} ` : '';
  const insR = db.prepare(`INSERT ${or}INTO receipts (${RC}) SELECT ${pick(RC)} FROM json_each(?) WHERE true ON CONFLICT (receipt_id) DO NOTHING RETURNING receipt_id`);
  const selM = db.prepare('SELECT guid, clinic_id, sent_at, status, charge_micros, final_receipt_id, final_status_at FROM outbound_messages WHERE guid IN (SELECT value FROM json_each(?))');
  const insM = db.prepare(`INSERT ${or}INTO outbound_messages (${MC}) SELECT ${pick(MC)} FROM json_each(?) WHERE true ON CONFLICT (guid) DO UPDATE SET clinic_id = excluded.clinic_id, sent_at = excluded.sent_at, status = excluded.status, charge_micros = excluded.charge_micros, segments = excluded.segments, final_receipt_id = excluded.final_receipt_id, final_status_at = excluded.final_status_at`);
  const rowR = db.prepare(`INSERT OR REPLACE INTO receipts (${RC}) VALUES (${RC.map(() => '?')})`);
  const rowM = db.prepare(`INSERT OR REPLACE INTO outbound_messages (${MC}) VALUES (${MC.map(() => '?')})`);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const vcache = new Map<string, Database.Statement>();
  const commit = db.prepare('COMMIT');
  const io0 = io();
  const started = performance.now();
  const now = Date.now();
  for (const page of pages) {
    time('begin', () => begin.run());
    const rrows = page.map((r) => [r.receiptId, r.guid, r.clinicId, r.status, r.chargeMicros, r.segments, r.countryCode, r.sentAtMs, r.statusAtMs, now]);
    const mrows = page.map((r) => [r.guid, r.clinicId, r.sentAtMs, r.status, r.chargeMicros, r.segments, r.receiptId, r.statusAtMs, 'hq', now]);
    if (mode === 'daemon') {
      time('insR', () => insR.all(JSON.stringify(rrows)));
      time('selM', () => selM.all(JSON.stringify([...new Set(page.map((r) => r.guid))])));
      time('insM', () => insM.run(JSON.stringify(mrows)));
    } else if (mode === 'values') {
      const vr = (k: number) => { let st = vcache.get('r' + k); if (!st) { st = db.prepare(`INSERT INTO receipts (${RC}) VALUES ${Array(k).fill(`(${RC.map(() => '?')})`).join(', ')} ON CONFLICT (receipt_id) DO NOTHING RETURNING receipt_id`); vcache.set('r' + k, st); } return st; };
      const vm = (k: number) => { let st = vcache.get('m' + k); if (!st) { st = db.prepare(`INSERT INTO outbound_messages (${MC}) VALUES ${Array(k).fill(`(${MC.map(() => '?')})`).join(', ')} ON CONFLICT (guid) DO UPDATE SET clinic_id = excluded.clinic_id, sent_at = excluded.sent_at, status = excluded.status, charge_micros = excluded.charge_micros, segments = excluded.segments, final_receipt_id = excluded.final_receipt_id, final_status_at = excluded.final_status_at`); vcache.set('m' + k, st); } return st; };
      time('insR', () => vr(rrows.length).all(rrows.flat()));
      time('selM', () => selM.all(JSON.stringify([...new Set(page.map((r) => r.guid))])));
      time('insM', () => vm(mrows.length).run(mrows.flat()));
    } else if (mode === 'daemon-nosel') {
      time('insR', () => insR.all(JSON.stringify(rrows)));
      time('insM', () => insM.run(JSON.stringify(mrows)));
    } else {
      time('rowR', () => { for (const r of rrows) rowR.run(r); });
      time('rowM', () => { for (const m of mrows) rowM.run(m); });
    }
    time('commit', () => commit.run());
  }
  const ms = performance.now() - started;
  console.log(mode, process.env.OR ?? '', process.env.PRAGMAS ?? '', Math.round(n / (ms / 1000)), 'receipts/s', Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])), 'MB written', Math.round((io() - io0) / 1e6));
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });
