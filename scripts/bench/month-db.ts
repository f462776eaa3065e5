/**
 * The database of benchmarks 3-5 (and the soak of 2): one calendar month (the current one, in the
 * office's zone) of 1,000,000 outbound messages across 100 clinics, each with its receipt, plus
 * 200,000 patient replies, in a file whose schema the project's own migrations created. Rows are
 * written straight with better-sqlite3 (deterministic, seeded), then monthly_usage is left EMPTY:
 * filling it is benchmark 3's full recompute.
 */
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/db/orm';
import { formatGuid, seededGuidWords } from '../../src/hq-mock/ids';
import { mulberry32, randInt } from '../../src/hq-mock/prng';
import { MonthBucketer } from '../../src/usage/month';

export interface MonthDbSpec {
  path: string;
  tz: string;
  messages: number;
  inbound: number;
  clinics: number;
  seed?: number;
}

export interface MonthDb {
  path: string;
  month: string;
  startMs: number;
  endMs: number;
  clinics: number;
  messages: number;
  inbound: number;
  buildMs: number;
  bytes: number;
}

export const PRICE_MICROS = 7_900;

export async function buildMonthDb(spec: MonthDbSpec): Promise<MonthDb> {
  const started = performance.now();
  for (const suffix of ['', '-wal', '-shm']) rmSync(spec.path + suffix, { force: true });
  // The schema: exactly what the daemon's migrations make.
  const orm = await openDatabase({ driver: 'sqlite', path: spec.path } as Parameters<typeof openDatabase>[0]);
  await orm.close();

  const months = new MonthBucketer(spec.tz);
  const month = months.current();
  const { startMs, endMs } = months.range(month);
  const rng = mulberry32(spec.seed ?? 6);
  const db = new Database(spec.path);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('outbound_messages', 'receipts', 'inbound_messages')`).all() as Array<{ name: string; sql: string }>;
  for (const i of indexes) db.exec(`DROP INDEX ${i.name}`);

  const now = Date.now();
  db.transaction(() => {
    const clinic = db.prepare(`INSERT INTO clinics (clinic_id, name, subscribed, primary_phone, country_code, in_account, seen_in_traffic, updated_at)
      VALUES (?, ?, 1, ?, 'US', 1, 1, ?)`);
    for (let c = 1; c <= spec.clinics; c++) clinic.run(c, `Clinic ${c}`, `+1503555${String(c).padStart(4, '0')}`, now);
    const setting = db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    setting.run('monthly_limit_micros', String(50_000_000_000), now);
    setting.run('default_clinic_id', '1', now);
    setting.run('usage_tz', spec.tz, now);
  })();

  const message = db.prepare(`INSERT INTO outbound_messages (guid, clinic_id, sent_at, status, charge_micros, segments, final_receipt_id, final_status_at, origin, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'hq', ?)`);
  const receipt = db.prepare(`INSERT INTO receipts (receipt_id, guid, clinic_id, status, charge_micros, segments, country_code, sent_at, status_at, recorded_at)
    VALUES (?, ?, ?, ?, ?, ?, 'US', ?, ?, ?)`);
  const span = endMs - startMs;
  const batch = 100_000;
  for (let done = 0; done < spec.messages; done += batch) {
    db.transaction(() => {
      for (let k = done; k < Math.min(spec.messages, done + batch); k++) {
        const w = seededGuidWords(rng);
        const guid = formatGuid(w[0], w[1], w[2], w[3]);
        const clinicId = randInt(rng, 1, spec.clinics);
        const sentAt = startMs + Math.floor((k / spec.messages) * span);
        const x = rng();
        const status = x < 0.9 ? 'delivered' : x < 0.95 ? 'failed_with_charge' : 'failed_no_charge';
        const segments = rng() < 0.85 ? 1 : 2;
        const charge = status === 'failed_no_charge' ? 0 : PRICE_MICROS * segments;
        const receiptId = `r-bench-${String(k + 1).padStart(9, '0')}`;
        message.run(guid, clinicId, sentAt, status, charge, segments, receiptId, sentAt + 5000, now);
        receipt.run(receiptId, guid, clinicId, status, charge, segments, sentAt, sentAt + 5000, now);
      }
    })();
  }
  const reply = db.prepare(`INSERT INTO inbound_messages (inbound_id, clinic_id, from_phone, to_phone, body, received_at, charge_micros, segments, recorded_at)
    VALUES (?, ?, ?, ?, 'Yes, see you then', ?, ?, 1, ?)`);
  for (let done = 0; done < spec.inbound; done += batch) {
    db.transaction(() => {
      for (let k = done; k < Math.min(spec.inbound, done + batch); k++) {
        const clinicId = randInt(rng, 1, spec.clinics);
        reply.run(`i-bench-${String(k + 1).padStart(9, '0')}`, clinicId, `+1503555${String(randInt(rng, 0, 9999)).padStart(4, '0')}`,
          `+1503555${String(clinicId).padStart(4, '0')}`, startMs + Math.floor((k / spec.inbound) * span), PRICE_MICROS, now);
      }
    })();
  }
  for (const i of indexes) db.exec(i.sql);
  db.pragma('journal_mode = WAL');
  const bytes = (db.pragma('page_size', { simple: true }) as number) * (db.pragma('page_count', { simple: true }) as number);
  db.close();
  return { path: spec.path, month, startMs, endMs, clinics: spec.clinics, messages: spec.messages, inbound: spec.inbound, buildMs: Math.round(performance.now() - started), bytes };
}

/** A private copy of the month database (a daemon run writes to it). */
export function copyMonthDb(db: MonthDb, path: string): MonthDb {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  copyFileSync(db.path, path);
  for (const suffix of ['-wal']) if (existsSync(db.path + suffix)) copyFileSync(db.path + suffix, path + suffix);
  return { ...db, path };
}
