/**
 * Receipts pages have one page store per engine, and both must store exactly the same thing: the
 * PostgreSQL one (PostgresPageStore, knex statements, run here on SQLite as the reference) and the
 * SQLite one (SqlitePageStore -> its writer thread, better-sqlite3). The same pages, with redeliveries, receipts of one message
 * out of order, statusAt ties, refused and uncharged messages, office messages awaiting their
 * first receipt and quarantined items, go through both into two real SQLite files; every table
 * they touch must come out equal, and equal to the contract's rule computed here independently.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import type { ValidReceipt, QuarantineEntry } from '../../src/hq/items';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { PageWriterError, SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { MonthBucketer } from '../../src/usage/month';
import { tempDir } from '../support/tmp';

const TZ = 'America/Chicago';
const months = new MonthBucketer(TZ);
const STATUSES: ValidReceipt['status'][] = ['delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge'];

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  pages: Array<{ receipts: ValidReceipt[]; quarantined: QuarantineEntry[]; now: number }>;
  officeGuids: string[];
  all: ValidReceipt[];
}

/** 600 messages around a month boundary in the office zone, 1-3 receipts each, handed out shuffled in pages of 50 with redeliveries. */
function scenario(seed: number): Scenario {
  const random = rng(seed);
  const boundary = Date.parse('2026-11-01T05:00:00.000Z'); // midnight, November 1st, in Chicago
  const all: ValidReceipt[] = [];
  const officeGuids: string[] = [];
  let receiptNo = 0;
  for (let m = 0; m < 600; m++) {
    const guid = `g-${seed}-${m}`;
    if (m % 10 === 0) officeGuids.push(guid);
    const clinicId = 1 + Math.floor(random() * 4);
    const sentAtMs = boundary + Math.floor((random() - 0.5) * 4 * 3_600_000);
    const n = 1 + Math.floor(random() * 3);
    const statusAt = sentAtMs + 3000 + Math.floor(random() * 3) * 1000; // ties on purpose
    for (let k = 0; k < n; k++) {
      receiptNo += 1;
      const status = STATUSES[Math.floor(random() * STATUSES.length)]!;
      all.push({
        receiptId: `r-${String(receiptNo).padStart(7, '0')}`,
        guid, clinicId, status,
        chargeMicros: status === 'failed_no_charge' ? 0 : 7900 * (1 + Math.floor(random() * 3)),
        segments: 1 + Math.floor(random() * 3),
        countryCode: 'US',
        sentAtMs,
        statusAtMs: k === 0 ? statusAt : statusAt + Math.floor(random() * 3) * 1000,
      });
    }
  }
  const shuffled = [...all].sort(() => random() - 0.5);
  const pages: Scenario['pages'] = [];
  let now = Date.parse('2026-11-20T12:00:00.000Z');
  for (let i = 0; i < shuffled.length; i += 50) {
    const receipts = shuffled.slice(i, i + 50);
    if (i % 200 === 0 && receipts.length > 1) receipts.push(receipts[0]!); // the same item twice in a page
    const quarantined: QuarantineEntry[] = i % 150 === 0
      ? [{ kind: 'receipt', itemKey: `sha256:${i % 300}`, ackId: null, raw: '{"bad":true}', reason: 'guid: missing' }]
      : [];
    pages.push({ receipts, quarantined, now: (now += 1000) });
    if (random() < 0.3 && pages.length > 1) pages.push({ ...pages[Math.floor(random() * (pages.length - 1))]!, now: (now += 1000) }); // redelivery
  }
  return { pages, officeGuids, all };
}

async function seedOffice(db: Database, guids: readonly string[], sentAtMs: number): Promise<void> {
  for (const guid of guids) {
    await db.knex.raw(
      "INSERT INTO outbound_messages (guid, clinic_id, sent_at, status, charge_micros, segments, origin, created_at) VALUES (?, 1, ?, 'pending', NULL, 1, 'office', ?)",
      [guid, sentAtMs, sentAtMs],
    );
  }
  // As the office's send path counts them: sent, no charge until a receipt says.
  await db.knex.raw('INSERT INTO monthly_usage (month, clinic_id, sent_count, sent_charge_micros, received_count, received_charge_micros, computed_at) VALUES (?, 1, ?, 0, 0, 0, 0)',
    [months.monthOf(sentAtMs), guids.length]);
}

async function dump(db: Database): Promise<Record<string, unknown[]>> {
  const q = async (sql: string) => rowsOf<Record<string, unknown>>(await db.knex.raw(sql));
  return {
    receipts: await q('SELECT * FROM receipts ORDER BY receipt_id'),
    messages: await q('SELECT guid, clinic_id, sent_at, status, charge_micros, segments, final_receipt_id, final_status_at, origin FROM outbound_messages ORDER BY guid'),
    usage: await q('SELECT month, clinic_id, sent_count, sent_charge_micros, received_count, received_charge_micros FROM monthly_usage ORDER BY month, clinic_id'),
    clinics: await q('SELECT clinic_id, seen_in_traffic FROM clinics ORDER BY clinic_id'),
    quarantine: await q('SELECT kind, item_key, ack_id, raw, reason, first_seen_at, last_seen_at, times_seen FROM quarantine ORDER BY kind, item_key'),
    stream: await q("SELECT stream, last_ok_at, items_recorded FROM stream_state WHERE stream = 'receipts'"),
  };
}

describe('receipts pages: the SQLite page store stores exactly what the PostgreSQL one stores', () => {
  const dir = tempDir();
  const opened: Database[] = [];
  const writers: SqlitePageStore[] = [];
  const open = async (name: string): Promise<Database> => {
    const db = await openDatabase({ driver: 'sqlite', path: join(dir.path, name) });
    opened.push(db);
    return db;
  };
  afterAll(async () => {
    for (const w of writers) await w.close();
    for (const db of opened) await db.close();
    dir.remove();
  });

  it.each([1, 2, 3])('seed %i: same tables, and usage equal to the final receipt of every message', async (seed) => {
    const s = scenario(seed);
    const viaKnex = await open(`knex-${seed}.sqlite`);
    const viaThread = await open(`thread-${seed}.sqlite`);
    const officeSentAt = Date.parse('2026-11-02T15:00:00.000Z');
    await seedOffice(viaKnex, s.officeGuids, officeSentAt);
    await seedOffice(viaThread, s.officeGuids, officeSentAt);
    const writer = new SqlitePageStore(viaThread.knex, months, { path: join(dir.path, `thread-${seed}.sqlite`), officeTz: TZ });
    const reference = new PostgresPageStore(viaKnex.knex, months);
    writers.push(writer);

    let recordedKnex = 0;
    let recordedThread = 0;
    for (const page of s.pages) {
      const a = await reference.recordReceipts(page);
      const b = await writer.recordReceipts(page);
      // The same outcome (the ids to acknowledge in any order).
      expect({ ...b, ackIds: [...b.ackIds].sort() }).toEqual({ ...a, ackIds: [...a.ackIds].sort() });
      recordedKnex += a.recorded;
      recordedThread += b.recorded;
    }
    expect(recordedThread).toBe(recordedKnex);
    expect(recordedThread).toBe(s.all.length);

    const [a, b] = [await dump(viaKnex), await dump(viaThread)];
    expect(b).toEqual(a);

    // The contract's rule, computed here: the greatest (statusAt, receiptId) receipt of each message decides it.
    const final = new Map<string, ValidReceipt>();
    for (const r of s.all) {
      const f = final.get(r.guid);
      if (!f || r.statusAtMs > f.statusAtMs || (r.statusAtMs === f.statusAtMs && r.receiptId > f.receiptId)) final.set(r.guid, r);
    }
    const expected = new Map<string, { n: number; micros: number }>();
    for (const r of final.values()) {
      const key = `${months.monthOf(r.sentAtMs)}|${r.clinicId}`;
      const e = expected.get(key) ?? { n: 0, micros: 0 };
      e.n += 1;
      e.micros += r.chargeMicros;
      expected.set(key, e);
    }
    const usage = new Map((b.usage as Array<{ month: string; clinic_id: number; sent_count: number; sent_charge_micros: number }>)
      .filter((u) => u.sent_count !== 0 || u.sent_charge_micros !== 0)
      .map((u) => [`${u.month}|${u.clinic_id}`, { n: u.sent_count, micros: u.sent_charge_micros }]));
    expect(usage).toEqual(expected);
    expect(new Set((b.usage as Array<{ month: string }>).map((u) => u.month))).toEqual(new Set(['2026-10', '2026-11']));
  });

  it('rolls a failed page back whole, says why, and goes on writing the next page', async () => {
    const db = await open('failing.sqlite');
    const writer = new SqlitePageStore(db.knex, months, { path: join(dir.path, 'failing.sqlite'), officeTz: TZ });
    writers.push(writer);
    const good = scenario(9).pages[0]!;
    // A NOT NULL column left empty, after 49 good receipts of the same page.
    const bad = { ...good, receipts: [...good.receipts.slice(0, 49), { ...good.receipts[49]!, guid: null as unknown as string }] };
    const failure = await writer.recordReceipts(bad).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(PageWriterError);
    expect((failure as PageWriterError).code).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect(rowsOf(await db.knex.raw('SELECT receipt_id FROM receipts'))).toHaveLength(0);
    expect(rowsOf(await db.knex.raw('SELECT guid FROM outbound_messages'))).toHaveLength(0);

    const again = await writer.recordReceipts(good);
    expect(again.recorded).toBe(new Set(good.receipts.map((r) => r.receiptId)).size);
  });

  it('close() lets the page being written finish, then refuses more', async () => {
    const db = await open('closing.sqlite');
    const writer = new SqlitePageStore(db.knex, months, { path: join(dir.path, 'closing.sqlite'), officeTz: TZ });
    const page = scenario(11).pages[0]!;
    const writing = writer.recordReceipts(page);
    await new Promise((r) => setImmediate(r));
    await writer.close();
    await expect(writing).resolves.toMatchObject({ recorded: new Set(page.receipts.map((r) => r.receiptId)).size });
    await expect(writer.recordReceipts(page)).rejects.toThrow('page store closed');
  });
});
