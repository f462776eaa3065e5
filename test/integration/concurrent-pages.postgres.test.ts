/**
 * Page transactions side by side on PostgreSQL (src/db/pg-serialized.ts): four connections, as
 * four worker processes, record pages that overlap on purpose (every item comes twice, in
 * different pages; a message's receipts are spread over pages written at the same moment; numbers
 * send STOP, START and HELP in pages written at once). Whatever the interleaving, the stored state
 * must equal what one writer recording the same items one page at a time would leave:
 *
 * - each item is counted as new exactly once (the outcomes' `recorded` add up to the distinct ids);
 * - monthly usage equals the sums computed here from the contract's rule, to the micro-dollar;
 * - each message's final receipt is the greatest by the rule (latest statusAt, then receiptId);
 * - each reply has one commlog row, each number's opt-out state is its latest keyword's, and a
 *   number is answered HELP once;
 * - each number's conversation is its latest reply with every reply counted once, while backlog
 *   pages append their activity and folds run beside them (src/office/conversation-fold.ts).
 */
import { openDatabase, type Database } from '../../src/db/orm';
import { rowsOf } from '../../src/db/bulk-sql';
import type { ValidInbound, ValidReceipt } from '../../src/hq/items';
import { mulberry32 } from '../../src/hq-mock/prng';
import type { PageOutcome } from '../../src/ingest/page-store';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { foldPending, pendingEntries } from '../../src/office/conversation-fold';
import { MonthBucketer } from '../../src/usage/month';
import { startPostgres, type TestPostgres } from '../support/postgres';

const TZ = 'America/Chicago';
/** Fixed instants: the test compares stored rows with sums, and never asks for "this month". */
const T0 = Date.parse('2026-09-20T12:00:00.000Z');
const NOW = Date.parse('2026-11-15T12:00:00.000Z');
const HOUR = 3_600_000;
const WRITERS = 4;
const STATUSES = ['delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge'] as const;

describe('page transactions side by side on PostgreSQL', () => {
  let pg: TestPostgres;
  const dbs: Database[] = [];
  const months = new MonthBucketer(TZ);

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase('concurrent_pages');
    // One at a time first: the first open migrates the database.
    dbs.push(await openDatabase({ driver: 'postgresql', url }));
    for (let i = 1; i < WRITERS; i++) dbs.push(await openDatabase({ driver: 'postgresql', url }, { migrate: false }));
  }, 60_000);

  afterAll(async () => {
    for (const db of dbs) await db.close();
    await pg?.stop();
  });

  /** Every item twice, shuffled, in pages of `size`; `writers` connections take the next page as each finishes its last. */
  async function recordTogether<T>(items: readonly T[], size: number, seed: number, record: (db: Database, page: T[]) => Promise<PageOutcome>): Promise<PageOutcome[]> {
    const rng = mulberry32(seed);
    const all = [...items, ...items];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const pages: T[][] = [];
    for (let i = 0; i < all.length; i += size) pages.push(all.slice(i, i + size));
    const outcomes: PageOutcome[] = [];
    await Promise.all(dbs.map(async (db) => {
      for (let page = pages.shift(); page !== undefined; page = pages.shift()) outcomes.push(await record(db, page));
    }));
    return outcomes;
  }

  const query = async <T>(sql: string): Promise<T[]> => rowsOf<T>(await dbs[0]!.knex.raw(sql));

  it('records overlapping receipts pages exactly: counts, finals and usage as one writer would', async () => {
    const rng = mulberry32(7);
    const receipts: ValidReceipt[] = [];
    for (let m = 0; m < 600; m++) {
      const clinicId = 1 + (m % 3);
      // Spread over three months in TZ, so pages touch several usage rows each.
      const sentAtMs = T0 + Math.floor(rng() * 60 * 24) * HOUR;
      const n = 1 + Math.floor(rng() * 4);
      for (let k = 0; k < n; k++) {
        receipts.push({
          receiptId: `r-${m}-${k}`, guid: `g-${m}`, clinicId, status: STATUSES[Math.floor(rng() * STATUSES.length)]!,
          chargeMicros: Math.floor(rng() * 20_000), segments: 1, countryCode: 'US', sentAtMs,
          // Some receipts of one message share a statusAt: the greater receiptId must win.
          statusAtMs: sentAtMs + 1000 * (1 + Math.floor(rng() * 3)),
        });
      }
    }
    const outcomes = await recordTogether(receipts, 40, 8, (db, page) => new PostgresPageStore(db.knex, months).recordReceipts({ receipts: page, quarantined: [], now: NOW }));

    expect(outcomes.reduce((n, o) => n + o.recorded, 0)).toBe(receipts.length);
    expect(outcomes.reduce((n, o) => n + o.duplicates, 0)).toBe(receipts.length);

    const byGuid = new Map<string, ValidReceipt[]>();
    for (const r of receipts) byGuid.set(r.guid, [...(byGuid.get(r.guid) ?? []), r]);
    const want = new Map<string, { count: number; micros: number }>();
    const finals = new Map<string, string>();
    for (const [guid, list] of byGuid) {
      // The final-receipt rule, computed here on its own: the latest statusAt, then the greater receiptId.
      const final = list.reduce((a, b) => (b.statusAtMs > a.statusAtMs || (b.statusAtMs === a.statusAtMs && b.receiptId > a.receiptId) ? b : a));
      finals.set(guid, final.receiptId);
      const key = `${months.monthOf(final.sentAtMs)}|${final.clinicId}`;
      const w = want.get(key) ?? { count: 0, micros: 0 };
      want.set(key, { count: w.count + 1, micros: w.micros + final.chargeMicros });
    }
    const stored = await query<{ guid: string; final_receipt_id: string }>('SELECT guid, final_receipt_id FROM outbound_messages');
    expect(new Map(stored.map((s) => [s.guid, s.final_receipt_id]))).toEqual(finals);
    const usage = await query<{ month: string; clinic_id: number; sent_count: number | string; sent_charge_micros: number | string }>(
      'SELECT month, clinic_id, sent_count, sent_charge_micros FROM monthly_usage WHERE sent_count <> 0 OR sent_charge_micros <> 0');
    expect(new Map(usage.map((u) => [`${u.month}|${u.clinic_id}`, { count: Number(u.sent_count), micros: Number(u.sent_charge_micros) }]))).toEqual(want);
    expect(want.size).toBeGreaterThanOrEqual(6);
    const [{ n }] = await query<{ n: number | string }>("SELECT items_recorded AS n FROM stream_state WHERE stream = 'receipts'") as [{ n: number | string }];
    expect(Number(n)).toBe(receipts.length);
  }, 120_000);

  it('records overlapping reply pages exactly: each reply counted and logged once, consent by the latest keyword, HELP answered once', async () => {
    const rng = mulberry32(11);
    const phones = Array.from({ length: 40 }, (_, i) => `+1503555${String(1000 + i)}`);
    const replies: ValidInbound[] = [];
    for (let i = 0; i < 800; i++) {
      const fromPhone = phones[i % phones.length]!;
      const pick = rng();
      const body = pick < 0.1 ? 'STOP' : pick < 0.2 ? 'START' : pick < 0.25 ? 'HELP' : `Thanks, see you ${i}`;
      replies.push({
        inboundId: `i-${String(i).padStart(5, '0')}`, clinicId: 1 + (i % 3), fromPhone, toPhone: '+15035550100', body,
        receivedAtMs: T0 + Math.floor(rng() * 60 * 24) * HOUR, chargeMicros: Math.floor(rng() * 10_000), segments: 1,
      });
    }
    const outcomes = await recordTogether(replies, 30, 12, (db, page) => recordInboundPage(db.knex, page, [], months, NOW));
    expect(outcomes.reduce((n, o) => n + o.recorded, 0)).toBe(replies.length);

    const want = new Map<string, { count: number; micros: number }>();
    for (const r of replies) {
      const key = `${months.monthOf(r.receivedAtMs)}|${r.clinicId}`;
      const w = want.get(key) ?? { count: 0, micros: 0 };
      want.set(key, { count: w.count + 1, micros: w.micros + r.chargeMicros });
    }
    const usage = await query<{ month: string; clinic_id: number; received_count: number | string; received_charge_micros: number | string }>(
      'SELECT month, clinic_id, received_count, received_charge_micros FROM monthly_usage WHERE received_count <> 0');
    expect(new Map(usage.map((u) => [`${u.month}|${u.clinic_id}`, { count: Number(u.received_count), micros: Number(u.received_charge_micros) }]))).toEqual(want);

    const [counts] = await query<{ replies: number | string; logged: number | string; distinct_keys: number | string; unread: number | string; unread_rows: number | string }>(
      `SELECT (SELECT COUNT(*) FROM inbound_messages) AS replies,
              (SELECT COUNT(*) FROM commlog WHERE kind = 'reply_received') AS logged,
              (SELECT COUNT(DISTINCT event_key) FROM commlog) - (SELECT COUNT(*) FROM commlog) AS distinct_keys,
              (SELECT COALESCE(SUM(unread), 0) FROM unread_counts) AS unread,
              (SELECT COUNT(*) FROM inbound_messages WHERE NOT is_read AND NOT hidden) AS unread_rows`);
    expect({ replies: Number(counts!.replies), logged: Number(counts!.logged), twice: Number(counts!.distinct_keys), unread: Number(counts!.unread) })
      .toEqual({ replies: replies.length, logged: replies.length, twice: 0, unread: Number(counts!.unread_rows) });

    // Each number's opt-out state is that of its latest STOP or START (receivedAt, then inboundId).
    const latest = new Map<string, ValidInbound>();
    for (const r of replies) {
      if (r.body !== 'STOP' && r.body !== 'START') continue;
      const l = latest.get(r.fromPhone);
      if (!l || r.receivedAtMs > l.receivedAtMs || (r.receivedAtMs === l.receivedAtMs && r.inboundId > l.inboundId)) latest.set(r.fromPhone, r);
    }
    const opt = await query<{ inbound_id: string; opted_out: boolean }>('SELECT inbound_id, opted_out FROM opt_outs');
    expect(new Map(opt.map((o) => [o.inbound_id, Boolean(o.opted_out)]))).toEqual(new Map([...latest.values()].map((r) => [r.inboundId, r.body === 'STOP'])));
    expect(latest.size).toBeGreaterThan(20);

    // All pages were recorded at one instant (NOW): at most one HELP answer per number.
    const help = await query<{ to_phone: string; n: number | string }>("SELECT to_phone, COUNT(*) AS n FROM outbound_messages WHERE purpose = 'help_reply' GROUP BY to_phone");
    expect(help.filter((h) => Number(h.n) > 1)).toEqual([]);
    expect(help.length).toBeGreaterThan(0);
  }, 120_000);

  it('folds conversations exactly while backlog reply pages append side by side and folds run beside them', async () => {
    const rng = mulberry32(11);
    const numbers = Array.from({ length: 400 }, (_, i) => `+1503559${String(i).padStart(4, '0')}`);
    const replies: ValidInbound[] = [];
    for (let n = 0; n < 1800; n++) {
      replies.push({
        inboundId: `i-fold-${String(n).padStart(5, '0')}`, clinicId: 1 + (n % 3), fromPhone: numbers[Math.floor(rng() * numbers.length)]!, toPhone: '+15035550100',
        body: 'see you', receivedAtMs: T0 + Math.floor(rng() * 3600) * 1000, chargeMicros: 7900, segments: 1,
      });
    }
    // Pages of 300 (well over 100 numbers each): their activity is appended; folds (as list reads
    // and idle polls do) run on every connection while the pages are written.
    let writing = true;
    const folds = Promise.all(dbs.map(async (db) => {
      let n = 0;
      while (writing) {
        await foldPending(db.knex);
        n += 1;
        await new Promise((r) => setTimeout(r, 5));
      }
      return n;
    }));
    try {
      await recordTogether(replies, 300, 12, (db, page) => recordInboundPage(db.knex, page, [], months, NOW));
    } finally {
      writing = false;
    }
    expect((await folds).reduce((a, b) => a + b, 0)).toBeGreaterThan(4);
    await foldPending(dbs[0]!.knex);
    expect(await pendingEntries(dbs[0]!.knex)).toBe(0);

    // Each number's conversation: its latest reply by (receivedAt, inboundId), and all its replies unread.
    const want = new Map<string, { last: ValidInbound; unread: number }>();
    for (const r of replies) {
      const w = want.get(r.fromPhone);
      if (!w) want.set(r.fromPhone, { last: r, unread: 1 });
      else {
        if (r.receivedAtMs > w.last.receivedAtMs || (r.receivedAtMs === w.last.receivedAtMs && r.inboundId > w.last.inboundId)) w.last = r;
        w.unread += 1;
      }
    }
    const got = await query<{ phone: string; last_ref: string; last_at: number | string; clinic_id: number; unread: number | string }>(
      "SELECT phone, last_ref, last_at, clinic_id, unread FROM conversations WHERE phone LIKE '+1503559%'");
    expect(new Map(got.map((c) => [c.phone, { ref: c.last_ref, at: Number(c.last_at), clinicId: Number(c.clinic_id), unread: Number(c.unread) }])))
      .toEqual(new Map([...want].map(([phone, w]) => [phone, { ref: w.last.inboundId, at: w.last.receivedAtMs, clinicId: w.last.clinicId, unread: w.unread }])));
  }, 120_000);
});

