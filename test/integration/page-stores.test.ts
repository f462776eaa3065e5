/**
 * Each engine has one page store, and both must store exactly the same thing: the PostgreSQL one
 * (PostgresPageStore, knex statements, run here on SQLite as the reference) and the SQLite one
 * (SqlitePageStore -> its writer thread, better-sqlite3).
 *
 * Receipts pages: the same pages, with redeliveries, receipts of one message out of order,
 * statusAt ties, refused and uncharged messages, office messages awaiting their first receipt and
 * quarantined items, go through both into two real SQLite files; every table they touch must come
 * out equal, and equal to the contract's rule computed here independently.
 *
 * Reply pages: the same pages of replies (keywords from numbers with patients, shared numbers, a
 * blocked number, opt-in requests awaiting an answer, redeliveries, quarantined items) through both,
 * with the daemon's calendar moved years ahead of real time (as a test moves it): the outcomes
 * (the automatic texts to send included) and every table the office upkeep touches must come out
 * equal, and the automatic texts and commlog rows stamped on that calendar on the thread too.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { itemFailureReason } from '../../src/db/errors';
import { openDatabase, type Database } from '../../src/db/orm';
import type { ValidInbound, ValidReceipt, QuarantineEntry } from '../../src/hq/items';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { PageWriterError, SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { upsertPatients, type PatientRecord } from '../../src/office/patients';
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

/**
 * `total` replies from `numbers` numbers around a month boundary, in pages of `size`, with
 * redeliveries and quarantined items. Pages of more than 100 numbers are a backlog's: their
 * conversations' activity is appended and folded later (src/office/conversation-fold.ts).
 */
function replyPages(seed: number, { total, numbers, size }: ReplyTraffic = SMALL_PAGES): Array<{ messages: ValidInbound[]; quarantined: QuarantineEntry[]; now: number }> {
  const random = rng(seed);
  const boundary = Date.parse('2026-11-01T05:00:00.000Z'); // midnight, November 1st, in Chicago
  const bodies = ['Thanks', 'See you then', 'Can I move it to Friday?', 'STOP', 'stop', 'START', 'YES', 'HELP', 'info', 'Unsubscribe', 'Yes'];
  const all: ValidInbound[] = [];
  for (let n = 1; n <= total; n++) {
    all.push({
      inboundId: `i-${seed}-${String(n).padStart(5, '0')}`,
      clinicId: 1 + Math.floor(random() * 2),
      fromPhone: phone(Math.floor(random() * numbers)),
      toPhone: '+15035550100',
      body: bodies[Math.floor(random() * bodies.length)]!,
      receivedAtMs: boundary + Math.floor((random() - 0.5) * 8 * 3_600_000),
      chargeMicros: random() < 0.9 ? 7900 : 0,
      segments: 1 + Math.floor(random() * 2),
    });
  }
  const pages: ReturnType<typeof replyPages> = [];
  let now = Date.parse('2026-11-20T12:00:00.000Z');
  for (let i = 0; i < all.length; i += size) {
    const messages = all.slice(i, i + size);
    if (i % 100 === 0) messages.push(messages[3]!); // the same reply twice in a page
    const quarantined: QuarantineEntry[] = i % 75 === 0
      ? [{ kind: 'inbound', itemKey: `sha256:${i % 150}`, ackId: null, raw: '{"bad":true}', reason: 'fromPhone: missing' }]
      : [];
    pages.push({ messages, quarantined, now: (now += 1000) });
    if (random() < 0.3 && pages.length > 1) pages.push({ ...pages[Math.floor(random() * (pages.length - 1))]!, now: (now += 1000) }); // redelivery
  }
  return pages;
}

interface ReplyTraffic {
  total: number;
  numbers: number;
  size: number;
}
const SMALL_PAGES: ReplyTraffic = { total: 400, numbers: 30, size: 25 };
const BACKLOG_PAGES: ReplyTraffic = { total: 1200, numbers: 600, size: 200 };

const phone = (k: number): string => `+1503${String(5552000 + k * 10).padStart(7, '0')}`;
const officePatient = (patientId: number, k: number, clinicId: number | null, guarantorId = patientId, textOk: PatientRecord['textOk'] = 'yes'): PatientRecord => ({
  patientId, name: `P${patientId}`, wirelessPhone: phone(k), phoneKey: phone(k).slice(1), clinicId, guarantorId, textOk,
});

async function seedPatients(db: Database): Promise<void> {
  const at = Date.parse('2026-10-01T12:00:00.000Z');
  await db.knex.raw("INSERT INTO clinics (clinic_id, name, subscribed, in_account, optin_title, prompt_optin) VALUES (1, 'Main', true, true, 'Main Street Dental', false), (2, 'River', true, true, NULL, false)");
  await db.knex.raw("INSERT INTO settings (key, value, updated_at) VALUES ('practice_title', 'Family Dental', ?)", [at]);
  const patients: PatientRecord[] = [];
  for (let k = 0; k < 20; k++) patients.push(officePatient(100 + k, k, 1 + (k % 2), 100 + k, k % 5 === 0 ? 'unknown' : k % 7 === 0 ? 'no' : 'yes'));
  patients.push(officePatient(200, 0, 1, 100)); // a family sharing a number
  patients.push(officePatient(201, 1, 1)); // two unrelated patients sharing a number
  patients.push(officePatient(202, 2, 2)); // the same number at the other clinic
  await upsertPatients(db.knex, patients, at);
  // Sent the opt-in text, waiting for the answer.
  await db.knex.raw("UPDATE patients SET optin_status = 'sent', optin_at = ?, optin_requested_at = ? WHERE patient_id IN (103, 104, 108)", [at, at]);
  await db.knex.raw('INSERT INTO blocked_numbers (phone_key, phone, blocked_at) VALUES (?, ?, ?)', [phone(5).slice(1), phone(5), at]);
}

const OFFICE_TABLES: Record<string, string> = {
  inbound: 'SELECT * FROM inbound_messages ORDER BY inbound_id',
  messages: 'SELECT * FROM outbound_messages ORDER BY guid',
  outbox: 'SELECT * FROM outbox ORDER BY guid',
  commlog: 'SELECT * FROM commlog ORDER BY id',
  conversations: 'SELECT * FROM conversations ORDER BY phone',
  // A backlog's pages append their conversations' activity, folded later (src/office/conversation-fold.ts).
  activity: 'SELECT * FROM conversation_activity ORDER BY id',
  unread: 'SELECT * FROM unread_counts ORDER BY clinic_id',
  optOuts: 'SELECT * FROM opt_outs ORDER BY phone_key',
  patients: 'SELECT * FROM patients ORDER BY patient_id',
  usage: 'SELECT month, clinic_id, sent_count, sent_charge_micros, received_count, received_charge_micros FROM monthly_usage ORDER BY month, clinic_id',
  dirty: 'SELECT * FROM usage_dirty ORDER BY clinic_id, month',
  clinics: 'SELECT clinic_id, seen_in_traffic FROM clinics ORDER BY clinic_id',
  quarantine: 'SELECT * FROM quarantine ORDER BY kind, item_key',
  stream: "SELECT stream, last_ok_at, items_recorded FROM stream_state WHERE stream = 'inbound'",
};

/** Every table the reply pages touch, with each instant on the calendar in [from, to] written as 'calendar'. */
async function officeDump(db: Database, from: number, to: number): Promise<{ tables: Record<string, unknown[]>; calendarStamps: number }> {
  let calendarStamps = 0;
  const tables: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(OFFICE_TABLES)) {
    const stamp = (v: unknown): unknown => {
      if (typeof v === 'number' && v >= from && v <= to) {
        calendarStamps += 1;
        return 'calendar';
      }
      return v;
    };
    tables[name] = rowsOf<Record<string, unknown>>(await db.knex.raw(sql)).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => (
      // A batch of conversation activity (its entries' values one after another): each entry's time (the automatic texts') may be on the calendar.
      name === 'activity' && k === 'batch' ? [k, (JSON.parse(String(v)) as unknown[]).map(stamp)] : [k, stamp(v)]
    ))));
  }
  return { tables, calendarStamps };
}

describe('reply pages: the SQLite page store records them on its thread exactly as the PostgreSQL one does', () => {
  const dir = tempDir();
  const opened: Database[] = [];
  const writers: SqlitePageStore[] = [];
  afterAll(async () => {
    for (const w of writers) await w.close();
    for (const db of opened) await db.close();
    dir.remove();
  });

  it.each([[1, SMALL_PAGES], [2, SMALL_PAGES], [3, BACKLOG_PAGES]])('seed %i: same outcomes, same tables, automatic texts on the daemon\'s calendar (%o)', async (seed, traffic) => {
    // The daemon's calendar, moved as a test moves it (config.testClock): years ahead of real time.
    const offset = Date.parse('2030-11-15T18:00:00.000Z') - Date.now();
    const calendar = new MonthBucketer(TZ, () => Date.now() + offset);
    const open = async (name: string): Promise<Database> => {
      const db = await openDatabase({ driver: 'sqlite', path: join(dir.path, name) });
      opened.push(db);
      await seedPatients(db);
      return db;
    };
    const viaKnex = await open(`replies-knex-${seed}.sqlite`);
    const viaThread = await open(`replies-thread-${seed}.sqlite`);
    const writer = new SqlitePageStore(viaThread.knex, calendar, { path: join(dir.path, `replies-thread-${seed}.sqlite`), officeTz: TZ });
    writers.push(writer);
    const reference = new PostgresPageStore(viaKnex.knex, calendar);

    const from = calendar.now();
    const sendGuids: string[] = [];
    for (const page of replyPages(seed, traffic)) {
      const a = await reference.recordInbound(page);
      const b = await writer.recordInbound(page);
      expect({ ...b, ackIds: [...b.ackIds].sort() }).toEqual({ ...a, ackIds: [...a.ackIds].sort() });
      sendGuids.push(...b.sendGuids);
    }
    const to = calendar.now();
    // The pages did answer keywords (confirmations, HELP), and recorded what they answered.
    expect(sendGuids.length).toBeGreaterThan(10);
    const outbox = rowsOf<{ guid: string }>(await viaThread.knex.raw('SELECT guid FROM outbox ORDER BY guid')).map((r) => r.guid);
    expect(outbox).toEqual([...sendGuids].sort());

    const [a, b] = [await officeDump(viaKnex, from, to), await officeDump(viaThread, from, to)];
    expect(b.tables).toEqual(a.tables);
    // Stamped on the calendar, not on real time: every automatic text and every commlog row of the pages.
    expect(b.calendarStamps).toBeGreaterThan(sendGuids.length);
    expect(b.calendarStamps).toBe(a.calendarStamps);

    // Backlog pages left their activity appended; the poll that finds nothing folds it, alike.
    if (traffic === BACKLOG_PAGES) expect(b.tables['activity']!.length).toBeGreaterThan(0);
    const idle = { messages: [], quarantined: [], now: calendar.now() };
    expect(await writer.recordInbound(idle)).toEqual(await reference.recordInbound(idle));
    const [c, d] = [await officeDump(viaKnex, from, calendar.now()), await officeDump(viaThread, from, calendar.now())];
    expect(d.tables['activity']).toEqual([]);
    expect(d.tables).toEqual(c.tables);
  });

  it('a reply page the database refuses fails whole, with its SQLite code and no bound value in its message', async () => {
    const path = join(dir.path, 'replies-refused.sqlite');
    const db = await openDatabase({ driver: 'sqlite', path });
    opened.push(db);
    await seedPatients(db);
    await db.knex.raw("CREATE TRIGGER test_refuse BEFORE INSERT ON inbound_messages WHEN NEW.body = 'please refuse me' BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const writer = new SqlitePageStore(db.knex, months, { path, officeTz: TZ });
    writers.push(writer);
    const good = replyPages(3)[0]!;
    const bad = { ...good, messages: [...good.messages.slice(0, 10), { ...good.messages[10]!, body: 'please refuse me', fromPhone: '+15035559876' }] };

    const failure = await writer.recordInbound(bad).then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(PageWriterError);
    expect((failure as PageWriterError).code).toBe('SQLITE_CONSTRAINT_TRIGGER');
    // What the drain reads to bisect the page and quarantine the refused item (src/ingest/drain.ts).
    expect(itemFailureReason(failure)).toMatch(/^database refused the item: SQLITE_CONSTRAINT_TRIGGER \(refused\)$/);
    expect((failure as Error).message).not.toContain('please refuse me');
    expect((failure as Error).message).not.toContain('5559876');
    for (const table of ['inbound_messages', 'commlog', 'conversations', 'conversation_activity', 'outbound_messages', 'opt_outs']) {
      expect(rowsOf(await db.knex.raw(`SELECT 1 FROM ${table}`))).toHaveLength(0);
    }

    const again = await writer.recordInbound(good);
    expect(again.recorded).toBe(new Set(good.messages.map((m) => m.inboundId)).size);
  });
});
