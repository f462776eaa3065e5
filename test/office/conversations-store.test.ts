/**
 * The conversations table and the unread counters, kept in the page transaction and the send path
 * (src/office/conversations.ts, folded in batches by src/office/conversation-fold.ts), on SQLite and
 * on a throw-away PostgreSQL; and the migration of an existing database (old replies start read).
 * No HQ, no Redis: recordInboundPage straight on the database.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import type { ValidInbound } from '../../src/hq/items';
import { recordEmptyPoll, recordInboundPage } from '../../src/ingest/record-inbound';
import { insertOfficeMessages } from '../../src/office/send';
import { listConversations, readThread, unreadCounts, type ConversationSummary } from '../../src/office/conversation-queries';
import { ActivityBatch, compareActivity, FOLD_AT, FOLD_ROWS, foldPending, pendingEntries, recordActivity } from '../../src/office/conversation-fold';
import { mulberry32 } from '../../src/hq-mock/prng';
import { blockNumber, changeReply, markConversationRead, unblockNumber } from '../../src/office/replies';
import { MonthBucketer } from '../../src/usage/month';
import { databaseEngines } from '../support/databases';
import { tempDir } from '../support/tmp';

const months = new MonthBucketer('America/Chicago');
const T0 = Date.parse('2026-11-10T15:00:00.000Z');
let seq = 0;

function reply(fromPhone: string, over: Partial<ValidInbound> = {}): ValidInbound {
  seq += 1;
  return {
    inboundId: `i-conv-${String(seq).padStart(9, '0')}`, clinicId: 1, fromPhone, toPhone: '+15035550100', body: `reply ${seq}`,
    receivedAtMs: T0 + seq * 1000, chargeMicros: 7900, segments: 1, ...over,
  };
}

const engines = databaseEngines('conv');
afterAll(() => engines.stop());

describe.each(engines.each)('conversations and unread counts on %s', (_name, open) => {
  let db: Database;
  let close: () => Promise<void>;
  const q = async <T>(sql: string, b: unknown[] = []): Promise<T[]> => rowsOf<T>(await db.knex.raw(sql, b as never));
  const num = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])));

  beforeAll(async () => {
    ({ db, close } = await open());
    await db.knex.raw("INSERT INTO clinics (clinic_id, name, subscribed, in_account) VALUES (1, 'Main', true, true), (2, 'River', true, true)");
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  it('a page of replies moves each number\'s conversation forward and counts unread per conversation and clinic; a replay changes nothing', async () => {
    const a1 = reply('+15035550101');
    const a2 = reply('+15035550101', { clinicId: 2 });
    const b1 = reply('+15035550102');
    // Out of order within the page: the latest by receivedAt wins, not the last in the page.
    await recordInboundPage(db.knex, [a2, b1, a1], [], months);
    const convs = num(await q('SELECT phone, clinic_id, last_at, last_direction, last_ref, unread FROM conversations ORDER BY phone'));
    expect(convs).toEqual([
      { phone: '+15035550101', clinic_id: 2, last_at: a2.receivedAtMs, last_direction: 'in', last_ref: a2.inboundId, unread: 2 },
      { phone: '+15035550102', clinic_id: 1, last_at: b1.receivedAtMs, last_direction: 'in', last_ref: b1.inboundId, unread: 1 },
    ]);
    expect(num(await q('SELECT clinic_id, unread FROM unread_counts ORDER BY clinic_id'))).toEqual([{ clinic_id: 1, unread: 2 }, { clinic_id: 2, unread: 1 }]);
    expect(num(await q('SELECT is_read, hidden FROM inbound_messages WHERE inbound_id = ?', [a1.inboundId]))).toEqual([{ is_read: db.driver === 'sqlite' ? 0 : false, hidden: db.driver === 'sqlite' ? 0 : false }]);

    await recordInboundPage(db.knex, [a1, a2, b1], [], months);
    expect(num(await q('SELECT phone, clinic_id, last_at, last_direction, last_ref, unread FROM conversations ORDER BY phone'))).toEqual(convs);
    expect(num(await q('SELECT clinic_id, unread FROM unread_counts ORDER BY clinic_id'))).toEqual([{ clinic_id: 1, unread: 2 }, { clinic_id: 2, unread: 1 }]);

    // An older reply arriving late adds to the unread count but is not the latest message.
    const late = reply('+15035550101', { receivedAtMs: T0 });
    await recordInboundPage(db.knex, [late], [], months);
    expect(num(await q('SELECT last_ref, unread FROM conversations WHERE phone = ?', ['+15035550101']))).toEqual([{ last_ref: a2.inboundId, unread: 3 }]);
  });

  it('a text the office records is its number\'s latest activity, with nothing unread', async () => {
    const now = T0 + 10_000_000;
    // Office messages (and their commlog rows) are recorded inside a transaction.
    await db.knex.transaction((trx) => insertOfficeMessages(trx, [{ guid: 'g-conv-1', clinicId: 1, patientId: null, toPhone: '+15035550101', body: 'See you', segments: 1, purpose: null }], now));
    await db.knex.transaction((trx) => insertOfficeMessages(trx, [{ guid: 'g-conv-2', clinicId: 1, patientId: null, toPhone: '+15035550103', body: 'Hello', segments: 1, purpose: null }], now));
    expect(num(await q('SELECT phone, clinic_id, last_at, last_direction, last_ref, unread FROM conversations WHERE phone IN (?, ?) ORDER BY phone', ['+15035550101', '+15035550103']))).toEqual([
      { phone: '+15035550101', clinic_id: 1, last_at: now, last_direction: 'out', last_ref: 'g-conv-1', unread: 3 },
      { phone: '+15035550103', clinic_id: 1, last_at: now, last_direction: 'out', last_ref: 'g-conv-2', unread: 0 },
    ]);
  });

  it('a reply from a blocked number is recorded and counted in usage, but stored hidden and read: never unread', async () => {
    await db.knex.raw('INSERT INTO blocked_numbers (phone_key, phone, blocked_at) VALUES (?, ?, ?)', ['15035550109', '+15035550109', T0]);
    const before = num(await q('SELECT clinic_id, unread FROM unread_counts ORDER BY clinic_id'));
    const spam = reply('+15035550109');
    const outcome = await recordInboundPage(db.knex, [spam], [], months);
    expect(outcome.recorded).toBe(1);
    expect(num(await q('SELECT is_read, hidden FROM inbound_messages WHERE inbound_id = ?', [spam.inboundId]))).toEqual([
      db.driver === 'sqlite' ? { is_read: 1, hidden: 1 } : { is_read: true, hidden: true },
    ]);
    expect(num(await q('SELECT unread FROM conversations WHERE phone = ?', ['+15035550109']))).toEqual([{ unread: 0 }]);
    expect(num(await q('SELECT clinic_id, unread FROM unread_counts ORDER BY clinic_id'))).toEqual(before);
    expect(num(await q("SELECT received_count FROM monthly_usage WHERE clinic_id = 1 AND month = '2026-11'"))).toEqual([{ received_count: 4 }]);
  });

  it('lists, pages, reads threads and changes replies with the counts kept exact', async () => {
    const all = await listConversations(db.knex, { limit: 50 });
    expect(new Set(all.conversations.map((c) => c.phone))).toEqual(new Set(['+15035550109', '+15035550101', '+15035550103', '+15035550102']));
    // Keyset pages of one walk the same order.
    const walked: string[] = [];
    let before;
    for (;;) {
      const page = await listConversations(db.knex, { limit: 1, before });
      walked.push(...page.conversations.map((c) => c.phone));
      if (!page.next) break;
      before = page.next;
    }
    expect(walked).toEqual(all.conversations.map((c) => c.phone));
    const lastAts = all.conversations.map((c) => c.lastAtMs);
    expect([...lastAts].sort((a, b) => b - a)).toEqual(lastAts);

    const thread = await readThread(db.knex, '+15035550101', 2);
    expect(thread.messages.map((m) => m.direction)).toEqual(['in', 'out']);
    expect(thread.messages[1]).toMatchObject({ guid: 'g-conv-1', status: 'pending', origin: 'office' });
    const older = await readThread(db.knex, '+15035550101', 50, thread.next!);
    expect(older.messages).toHaveLength(2);
    expect(older.next).toBeNull();

    const id = thread.messages[0]!.direction === 'in' ? thread.messages[0]!.inboundId : '';
    const counts = async () => Object.fromEntries((await unreadCounts(db.knex)).byClinic);
    const start = await counts();
    expect(await changeReply(db.knex, id, { read: true })).toMatchObject({ read: true, hidden: false });
    expect((await counts())['2'] ?? 0).toBe((start['2'] ?? 0) - 1);
    await changeReply(db.knex, id, { read: false, hidden: true });
    expect((await counts())['2'] ?? 0).toBe((start['2'] ?? 0) - 1);
    await changeReply(db.knex, id, { hidden: false });
    expect(await counts()).toEqual(start);

    expect(await markConversationRead(db.knex, '+15035550101')).toBe(3);
    expect(num(await q('SELECT unread FROM conversations WHERE phone = ?', ['+15035550101']))).toEqual([{ unread: 0 }]);
    expect(Object.values(await counts()).reduce((a, b) => a + b, 0)).toBe(1);

    expect(await blockNumber(db.knex, '+15035550102')).toMatchObject({ changed: true });
    expect((await unreadCounts(db.knex)).total).toBe(0);
    expect(await unblockNumber(db.knex, '+15035550102')).toBe(true);
    expect(await unblockNumber(db.knex, '+15035550102')).toBe(false);
  });

  /** Every conversation as the messages say it should be: the latest message by thread order, the replies neither read nor hidden. */
  async function expectedConversations(): Promise<Array<Pick<ConversationSummary, 'phone' | 'clinicId' | 'lastAtMs' | 'lastDirection' | 'unread'>>> {
    type Latest = { at: number; direction: 'in' | 'out'; ref: string; clinicId: number };
    const byPhone = new Map<string, { latest: Latest; unread: number }>();
    const note = (phone: string, m: Latest, unread: number) => {
      const c = byPhone.get(phone);
      if (!c) byPhone.set(phone, { latest: m, unread });
      else {
        if (compareActivity(m, c.latest) > 0) c.latest = m;
        c.unread += unread;
      }
    };
    for (const r of await q<{ from_phone: string; clinic_id: number | string; received_at: number | string; inbound_id: string; is_read: unknown; hidden: unknown }>(
      'SELECT from_phone, clinic_id, received_at, inbound_id, is_read, hidden FROM inbound_messages')) {
      note(r.from_phone, { at: Number(r.received_at), direction: 'in', ref: r.inbound_id, clinicId: Number(r.clinic_id) }, !r.is_read && !r.hidden ? 1 : 0);
    }
    for (const r of await q<{ to_phone: string; clinic_id: number | string; sent_at: number | string; guid: string }>(
      'SELECT to_phone, clinic_id, sent_at, guid FROM outbound_messages WHERE to_phone IS NOT NULL')) {
      note(r.to_phone, { at: Number(r.sent_at), direction: 'out', ref: r.guid, clinicId: Number(r.clinic_id) }, 0);
    }
    return [...byPhone].map(([phone, c]) => ({ phone, clinicId: c.latest.clinicId, lastAtMs: c.latest.at, lastDirection: c.latest.direction, unread: c.unread }))
      .sort((a, b) => b.lastAtMs - a.lastAtMs || (a.phone < b.phone ? 1 : -1));
  }

  /** The whole list, walked in keyset pages as a client of GET /api/conversations would. */
  async function listed(limit: number): Promise<Array<Pick<ConversationSummary, 'phone' | 'clinicId' | 'lastAtMs' | 'lastDirection' | 'unread'>>> {
    const out: Array<Pick<ConversationSummary, 'phone' | 'clinicId' | 'lastAtMs' | 'lastDirection' | 'unread'>> = [];
    let before;
    // As the route does: fold through the writer, read through the reader (src/status/routes/messages.ts).
    await foldPending(db.knex);
    for (;;) {
      const page = await listConversations(db.reader, { limit, before });
      out.push(...page.conversations.map(({ phone, clinicId, lastAtMs, lastDirection, unread }) => ({ phone, clinicId, lastAtMs, lastDirection, unread })));
      if (!page.next) return out;
      before = page.next;
    }
  }

  it('a backlog\'s pages only append their activity; the list folds it when read and is then exact, as are the clinics\' counts at every page', async () => {
    const numbers = Array.from({ length: 150 }, (_, i) => `+1503557${String(i).padStart(4, '0')}`);
    const unreadBefore = (await unreadCounts(db.knex)).total;
    const page = numbers.map((phone) => reply(phone));
    await recordInboundPage(db.knex, page, [], months);
    // Appended, not folded: the table does not know these numbers yet, the clinics' counters do.
    expect(await pendingEntries(db.knex)).toBe(150);
    expect(await q('SELECT phone FROM conversations WHERE phone = ?', [numbers[0]])).toEqual([]);
    expect((await unreadCounts(db.knex)).total).toBe(unreadBefore + 150);
    // An office change while it is pending is appended too, and counted once folded.
    await changeReply(db.knex, page[7]!.inboundId, { read: true });
    expect(await pendingEntries(db.knex)).toBe(151);

    // A fold that may hold only 40 numbers at once writes them out as it goes (MERGE_CAP), the
    // office change last: the same result.
    await foldPending(db.knex, { mergeCap: 40 });
    expect(await pendingEntries(db.knex)).toBe(0);
    expect(await listed(40)).toEqual(await expectedConversations());
    expect(num(await q('SELECT unread FROM conversations WHERE phone = ?', [numbers[7]]))).toEqual([{ unread: 0 }]);
    expect(num(await q('SELECT unread FROM conversations WHERE phone = ?', [numbers[8]]))).toEqual([{ unread: 1 }]);

    // A poll that finds no replies folds too (the end of a backlog).
    await recordInboundPage(db.knex, numbers.map((phone) => reply(phone)), [], months);
    expect(await pendingEntries(db.knex)).toBe(150);
    await recordEmptyPoll(db.knex, 'inbound', T0);
    expect(await pendingEntries(db.knex)).toBe(0);
    expect(num(await q('SELECT unread FROM conversations WHERE phone = ?', [numbers[8]]))).toEqual([{ unread: 2 }]);
  });

  it('a batch that would bring the pending activity to FOLD_AT entries or FOLD_ROWS rows folds everything', async () => {
    const numbers = Array.from({ length: 120 }, (_, i) => `+1503558${String(i).padStart(4, '0')}`);
    const batch = (at: number): ActivityBatch => {
      const b = new ActivityBatch();
      numbers.forEach((phone, i) => b.message(phone, 1 + (i % 2), at + i, 'in', `i-fold-${at + i}`, 0));
      return b;
    };
    await db.knex.transaction((trx) => recordActivity(trx, batch(T0)));
    expect(await pendingEntries(db.knex)).toBe(120);
    // Stand in for a backlog of FOLD_AT - 200 entries (a row is a batch of that many entries as far as the count goes).
    await db.knex.raw('INSERT INTO conversation_activity (batch, entries) VALUES (?, ?)', ['[]', FOLD_AT - 200]);
    await db.knex.transaction((trx) => recordActivity(trx, batch(T0 + 1000)));
    expect(await pendingEntries(db.knex)).toBe(0);
    expect(num(await q('SELECT clinic_id, last_at, last_ref FROM conversations WHERE phone = ?', [numbers[3]])))
      .toEqual([{ clinic_id: 2, last_at: T0 + 1003, last_ref: `i-fold-${T0 + 1003}` }]);

    // So does one that would bring the pending rows to FOLD_ROWS (office changes during a backlog append one each).
    await db.knex.transaction((trx) => recordActivity(trx, batch(T0 + 2000)));
    await db.knex('conversation_activity').insert(Array.from({ length: FOLD_ROWS - 2 }, () => ({ batch: '[]', entries: 0 })));
    expect(await pendingEntries(db.knex)).toBe(120);
    await db.knex.transaction((trx) => recordActivity(trx, batch(T0 + 3000)));
    expect(await pendingEntries(db.knex)).toBe(0);
    expect(num(await q('SELECT last_at FROM conversations WHERE phone = ?', [numbers[3]]))).toEqual([{ last_at: T0 + 3003 }]);
    // These numbers have no messages: the tests after this one compare conversations with messages.
    await db.knex.raw("DELETE FROM conversations WHERE phone LIKE '+1503558%'");
  });

  it('a batch mixing E.164 numbers of every length with a phone that is not one folds each exactly; a damaged batch stops the fold, named by its id alone', async () => {
    // E.164 numbers are kept as the integer of their digits in a batch, anything else as itself.
    const phones = ['+15035561234', '+445561234567', '+861234567890123', '+4915561', 'legacy-5561'];
    const batch = (at: number, unreadDelta: number): ActivityBatch => {
      const b = new ActivityBatch();
      for (let i = 0; i < 120; i++) b.message(i < phones.length ? phones[i]! : `+1503561${String(i).padStart(4, '0')}`, 1, at + i, i % 3 === 0 ? 'out' : 'in', `i-mixed-${at + i}`, unreadDelta);
      return b;
    };
    await db.knex.transaction((trx) => recordActivity(trx, batch(T0, 1)));
    await db.knex.transaction((trx) => recordActivity(trx, batch(T0 - 5000, 2)));
    expect(await pendingEntries(db.knex)).toBe(240);
    await foldPending(db.knex);
    expect(num(await q("SELECT phone, last_at, last_direction, last_ref, unread FROM conversations WHERE phone IN (?, ?, ?, ?, ?) ORDER BY last_at", phones))).toEqual(
      phones.map((phone, i) => ({ phone, last_at: T0 + i, last_direction: i % 3 === 0 ? 'out' : 'in', last_ref: `i-mixed-${T0 + i}`, unread: 3 })),
    );
    await db.knex.raw("DELETE FROM conversations WHERE phone IN (?, ?, ?, ?, ?) OR phone LIKE '+1503561%'", phones);

    // Only this module writes the table: a row it could not have written is named, and nothing of it is folded.
    for (const damaged of ['{"not": "a batch"}', '[15035561234, 1, 5, 0, "ref"]', '[15035561234, 1, 5, "in", "ref", 1]', 'not json',
      // Keys this module never writes: not an E.164 number's digits, or an E.164 number as text.
      '[-5, 1, 5, 0, "ref", 0]', '[1.5, 1, 5, 0, "ref", 0]', '[1e300, 1, 5, 0, "ref", 0]', '[0, 1, 5, 0, "ref", 0]', '["+15035561234", 1, 5, 0, "ref", 0]']) {
      const [row] = rowsOf<{ id: number | string }>(await db.knex.raw('INSERT INTO conversation_activity (batch, entries) VALUES (?, 1) RETURNING id', [damaged]));
      await expect(foldPending(db.knex)).rejects.toThrow(new RegExp(`^conversation_activity row ${String(row!.id)} is not a batch this connector wrote$`));
      await db.knex.raw('DELETE FROM conversation_activity');
    }
    expect(await q("SELECT phone FROM conversations WHERE phone = '+15035561234'")).toEqual([]);
  });

  it('whatever the mix of backlog pages, small pages, texts, office changes and idle polls, the list equals the messages whenever it is read', async () => {
    const rnd = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const numbers = Array.from({ length: 130 }, (_, i) => `+1503559${String(i).padStart(4, '0')}`);
    const replies: ValidInbound[] = [];
    // Replies arrive out of order (a late one is not the latest); some answer a keyword (automatic texts in the page).
    const newReply = (phone: string): ValidInbound => {
      const r = reply(phone, { clinicId: 1 + Math.floor(rnd() * 2), receivedAtMs: T0 + 20_000_000 + Math.floor(rnd() * 5_000_000), body: rnd() < 0.05 ? 'HELP' : 'ok' });
      replies.push(r);
      return r;
    };
    let texts = 0;
    const sendTexts = (count: number) => db.knex.transaction((trx) => insertOfficeMessages(trx, Array.from({ length: count }, () => ({
      guid: `g-mix-${String((texts += 1)).padStart(6, '0')}`, clinicId: 1 + Math.floor(rnd() * 2), patientId: null, toPhone: pick(numbers), body: 'hi', segments: 1, purpose: null,
    })), T0 + 20_000_000 + Math.floor(rnd() * 5_000_000)));
    let checks = 0;
    for (let step = 0; step < 60; step++) {
      const op = rnd();
      if (op < 0.2) await recordInboundPage(db.knex, Array.from({ length: 110 + Math.floor(rnd() * 60) }, (_, i) => newReply(numbers[(step * 7 + i) % numbers.length]!)), [], months);
      else if (op < 0.35) await recordInboundPage(db.knex, Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => newReply(pick(numbers))), [], months);
      else if (op < 0.45) await sendTexts(rnd() < 0.3 ? 120 : 1 + Math.floor(rnd() * 3));
      else if (op < 0.6 && replies.length > 0) await changeReply(db.knex, pick(replies).inboundId, rnd() < 0.5 ? { read: rnd() < 0.5 } : { hidden: rnd() < 0.5 });
      else if (op < 0.65) await markConversationRead(db.knex, pick(numbers));
      else if (op < 0.7) {
        const phone = pick(numbers);
        await (rnd() < 0.5 ? blockNumber(db.knex, phone) : unblockNumber(db.knex, phone));
      } else if (op < 0.8) await recordEmptyPoll(db.knex, 'inbound', T0);
      else {
        checks += 1;
        expect({ step, list: await listed(1 + Math.floor(rnd() * 60)) }).toEqual({ step, list: await expectedConversations() });
      }
      // The clinics' counters are exact at every step, folded or not.
      const unread = await q<{ n: number | string }>('SELECT COUNT(*) AS n FROM inbound_messages WHERE NOT is_read AND NOT hidden');
      expect({ step, total: (await unreadCounts(db.knex)).total }).toEqual({ step, total: Number(unread[0]!.n) });
    }
    expect(checks).toBeGreaterThan(5);
    expect(await listed(50)).toEqual(await expectedConversations());
    const table = num(await q('SELECT phone, clinic_id, last_at, last_direction, unread FROM conversations ORDER BY last_at DESC, phone DESC'));
    expect(table.map((r) => ({ phone: r['phone'], clinicId: r['clinic_id'], lastAtMs: r['last_at'], lastDirection: r['last_direction'], unread: r['unread'] }))).toEqual(await expectedConversations());
  });

  it('with more blocked numbers than a page reads whole, replies from them are still stored hidden and read', async () => {
    // 300 blocked numbers: more than flagsForNewReplies reads whole (src/office/conversations.ts), so it looks the page's numbers up.
    const blocked = Array.from({ length: 300 }, (_, i) => `+1503556${String(i).padStart(4, '0')}`);
    await db.knex('blocked_numbers').insert(blocked.map((phone) => ({ phone_key: phone.slice(1), phone, blocked_at: T0 })));
    const spam = reply(blocked[299]!);
    const fine = reply('+15035550110');
    await recordInboundPage(db.knex, [spam, fine], [], months);
    const flags = num(await q('SELECT inbound_id, is_read, hidden FROM inbound_messages WHERE inbound_id IN (?, ?) ORDER BY inbound_id', [spam.inboundId, fine.inboundId]));
    const [yes, no] = db.driver === 'sqlite' ? [1, 0] : [true, false];
    expect(flags).toEqual([{ inbound_id: spam.inboundId, is_read: yes, hidden: yes }, { inbound_id: fine.inboundId, is_read: no, hidden: no }]);
  });
});

describe('upgrading an existing database', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('keeps every reply, starts them all read, and builds each number\'s conversation from what is stored', async () => {
    const path = join(dir.path, 'old.sqlite');
    const old = await openDatabase({ driver: 'sqlite', path }, { migrate: false });
    await old.orm.getMigrator().up({ to: 'Migration20261128100000_perf' });
    await old.knex.raw(`INSERT INTO inbound_messages (inbound_id, clinic_id, from_phone, to_phone, body, received_at, charge_micros, segments, recorded_at)
      VALUES ('i-1', 1, '+15035550101', '+15035550100', 'old one', 1000, 7900, 1, 1000), ('i-2', 2, '+15035550101', '+15035550100', 'old two', 3000, 7900, 1, 3000),
             ('i-3', 1, '+15035550102', '+15035550100', 'other', 2000, 7900, 1, 2000)`);
    await old.knex.raw(`INSERT INTO outbound_messages (guid, clinic_id, sent_at, status, origin, created_at, to_phone, body)
      VALUES ('g-1', 1, 2500, 'delivered', 'office', 2500, '+15035550102', 'sent'), ('g-2', 1, 9000, 'delivered', 'hq', 9000, NULL, NULL)`);
    await old.close();

    const db = await openDatabase({ driver: 'sqlite', path });
    try {
      const q = async (sql: string) => rowsOf(await db.knex.raw(sql));
      expect(await q('SELECT inbound_id, is_read, hidden FROM inbound_messages ORDER BY inbound_id')).toEqual([
        { inbound_id: 'i-1', is_read: 1, hidden: 0 }, { inbound_id: 'i-2', is_read: 1, hidden: 0 }, { inbound_id: 'i-3', is_read: 1, hidden: 0 },
      ]);
      expect(await q('SELECT phone, clinic_id, last_at, last_direction, last_ref, unread FROM conversations ORDER BY phone')).toEqual([
        { phone: '+15035550101', clinic_id: 2, last_at: 3000, last_direction: 'in', last_ref: 'i-2', unread: 0 },
        { phone: '+15035550102', clinic_id: 1, last_at: 2500, last_direction: 'out', last_ref: 'g-1', unread: 0 },
      ]);
      expect(await q('SELECT * FROM unread_counts')).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
