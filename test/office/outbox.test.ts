/**
 * The send path against a real SQLite database with a stand-in HQ client: recording, the limit,
 * delivery and its idempotence, final refusals, transient failures, the outbox sweep and expiry,
 * a receipt arriving for an office message, and the calendar clock the path reads "now" from.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import type { HqClient } from '../../src/hq/client';
import { HqRejectedError, HqUnavailableError } from '../../src/hq/errors';
import { SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { OfficeError } from '../../src/office/errors';
import { createOfficeMessage, deliverOfficeMessage, OUTBOX_EXPIRY_MS, OutboxSender, sweepOutbox } from '../../src/office/send';
import { recomputeDirtyUsage } from '../../src/usage/aggregates';
import { MonthBucketer } from '../../src/usage/month';
import { tempDir } from '../support/tmp';

const months = new MonthBucketer('America/Chicago');
const T0 = Date.parse('2026-11-10T15:00:00.000Z');

describe('office send path and outbox', () => {
  const dir = tempDir();
  let db: Database;
  let store: SqlitePageStore;
  const q = async <T>(sql: string, b: unknown[] = []): Promise<T[]> => rowsOf<T>(await db.knex.raw(sql, b as never));
  const calls: unknown[] = [];
  let answer: () => unknown = () => ({ guid: 'x', segments: 1, status: 'pending', acceptedAtMs: T0 });
  const hq = { sendMessage: async (text: unknown) => { calls.push(text); return answer(); } } as unknown as HqClient;
  const deps = () => ({ knex: db.knex, hq, months });
  const create = (body = 'Hello', now = T0) => createOfficeMessage(db.knex, months, { clinicId: 1, toPhone: '+15035550142', body }, { unknownTextOk: 'allow' }, now);
  const usage = async () => {
    await recomputeDirtyUsage(db.knex, months, T0);
    return q<{ sent_count: number; sent_charge_micros: number }>('SELECT sent_count, sent_charge_micros FROM monthly_usage WHERE clinic_id = 1 AND month = ?', [months.monthOf(T0)]);
  };

  beforeAll(async () => {
    db = await openDatabase({ driver: 'sqlite', path: join(dir.path, 'outbox.sqlite') });
    store = new SqlitePageStore(db.knex, months, { path: join(dir.path, 'outbox.sqlite'), officeTz: 'America/Chicago' });
    await db.knex.raw("INSERT INTO clinics (clinic_id, name, subscribed, in_account) VALUES (1, 'Main', true, true)");
    await db.knex.raw("INSERT INTO settings (key, value, updated_at) VALUES ('monthly_limit_micros', '50000000', 0)");
  });
  afterAll(async () => {
    await store.close();
    await db.close();
    dir.remove();
  });

  it('records a pending message that counts with no charge, delivers it once, and its receipt keeps the office columns', async () => {
    const sent = await create('Hello 😀');
    expect(sent).toMatchObject({ status: 'pending', segments: 1, encoding: 'UCS-2', clinicId: 1 });
    expect(await usage()).toEqual([{ sent_count: 1, sent_charge_micros: 0 }]);
    expect(await q('SELECT guid FROM outbox')).toEqual([{ guid: sent.guid }]);

    // A receipt overtakes the worker's bookkeeping: the worker must not overwrite its segments.
    await store.recordReceipts({ receipts: [{
      receiptId: 'r-1', guid: sent.guid, clinicId: 1, status: 'delivered', chargeMicros: 7900, segments: 1, countryCode: 'US', sentAtMs: T0 + 5, statusAtMs: T0 + 9,
    }], quarantined: [], now: T0 + 10 });
    answer = () => ({ guid: sent.guid, segments: 2, status: 'pending', acceptedAtMs: T0 });
    expect(await deliverOfficeMessage(deps(), sent.guid)).toEqual({ outcome: 'accepted', segments: 2 });
    expect(calls).toEqual([{ guid: sent.guid, clinicId: 1, toPhone: '+15035550142', body: 'Hello 😀' }]);
    expect(await deliverOfficeMessage(deps(), sent.guid)).toEqual({ outcome: 'nothing_owed' });
    expect(calls).toHaveLength(1);
    expect(await q('SELECT status, charge_micros, segments, origin, to_phone, body, accepted_at IS NOT NULL AS accepted FROM outbound_messages WHERE guid = ?', [sent.guid])).toEqual([
      { status: 'delivered', charge_micros: 7900, segments: 1, origin: 'office', to_phone: '+15035550142', body: 'Hello 😀', accepted: 1 },
    ]);
    expect(await usage()).toEqual([{ sent_count: 1, sent_charge_micros: 7900 }]);
  });

  it('a final refusal marks the message failed with the reason and it stops counting; a transient failure keeps it owed', async () => {
    const refused = await create('Refused');
    expect((await usage())[0]!.sent_count).toBe(2);
    answer = () => { throw new HqRejectedError('POST /v1/messages: HQ answered 403', 'POST /v1/messages', 403, 'clinic_not_subscribed'); };
    expect(await deliverOfficeMessage(deps(), refused.guid)).toEqual({ outcome: 'refused', httpStatus: 403, reason: 'hq_403_clinic_not_subscribed' });
    expect(await q('SELECT status, failure_reason FROM outbound_messages WHERE guid = ?', [refused.guid])).toEqual([{ status: 'failed', failure_reason: 'hq_403_clinic_not_subscribed' }]);
    expect((await usage())[0]!.sent_count).toBe(1);

    // A bad HQ key is not the message's fault: it stays owed.
    const keyed = await create('Bad key');
    answer = () => { throw new HqRejectedError('POST /v1/messages: HQ answered 401', 'POST /v1/messages', 401, 'unauthorized'); };
    await expect(deliverOfficeMessage(deps(), keyed.guid)).rejects.toBeInstanceOf(HqRejectedError);
    expect(await q('SELECT status FROM outbound_messages WHERE guid = ?', [keyed.guid])).toEqual([{ status: 'pending' }]);
    await db.knex.raw('DELETE FROM outbox WHERE guid = ?', [keyed.guid]);
    await db.knex.raw("UPDATE outbound_messages SET status = 'failed' WHERE guid = ?", [keyed.guid]);

    const later = await create('Later');
    answer = () => { throw new HqUnavailableError('POST /v1/messages: HQ answered 503', 'POST /v1/messages'); };
    await expect(deliverOfficeMessage(deps(), later.guid)).rejects.toBeInstanceOf(HqUnavailableError);
    expect(await q('SELECT guid FROM outbox')).toEqual([{ guid: later.guid }]);
    expect(await q('SELECT status FROM outbound_messages WHERE guid = ?', [later.guid])).toEqual([{ status: 'pending' }]);
  });

  it('the sweep queues messages whose job may be lost, and gives up those not accepted within a day', async () => {
    const owed = (await q<{ guid: string }>('SELECT guid FROM outbox'))[0]!.guid;
    expect(await sweepOutbox(db.knex, months, T0 + 10_000)).toEqual({ requeue: [], expired: 0 });
    expect(await sweepOutbox(db.knex, months, T0 + 31_000)).toEqual({ requeue: [owed], expired: 0 });
    const before = (await usage())[0]!.sent_count;
    expect(await sweepOutbox(db.knex, months, T0 + OUTBOX_EXPIRY_MS + 1)).toEqual({ requeue: [], expired: 1 });
    expect(await q('SELECT status, failure_reason FROM outbound_messages WHERE guid = ?', [owed])).toEqual([{ status: 'failed', failure_reason: 'not_sent_expired' }]);
    expect(await q('SELECT COUNT(*) AS n FROM outbox')).toEqual([{ n: 0 }]);
    expect((await usage())[0]!.sent_count).toBe(before - 1);
  });

  it('refuses with 402 once the month\'s charges reach the limit, writing nothing', async () => {
    await db.knex.raw("UPDATE settings SET value = '7900' WHERE key = 'monthly_limit_micros'");
    const rows = (await q<{ n: number }>('SELECT COUNT(*) AS n FROM outbound_messages'))[0]!.n;
    const err = await create('Over').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OfficeError);
    expect(err).toMatchObject({ status: 402, code: 'monthly_limit_reached' });
    expect(await q('SELECT COUNT(*) AS n FROM outbound_messages')).toEqual([{ n: rows }]);
    expect(await q('SELECT COUNT(*) AS n FROM outbox')).toEqual([{ n: 0 }]);
    await db.knex.raw("UPDATE settings SET value = '50000000' WHERE key = 'monthly_limit_micros'");
  });

  it('takes "now" from the daemon\'s calendar clock: the stamps, the limit\'s month and the sweep\'s ages', async () => {
    // A calendar years away from real time, at the edge of a month (Chicago): what a test that
    // moves the daemon's clock (docs/testing.md) asks of the send path.
    const LAST_MS_OF_MAY = Date.parse('2031-06-01T04:59:59.999Z');
    let at = LAST_MS_OF_MAY;
    const calendar = new MonthBucketer('America/Chicago', () => at);
    expect(calendar.current()).toBe('2031-05');
    await db.knex.raw('INSERT INTO monthly_usage (month, clinic_id, sent_count, sent_charge_micros, received_count, received_charge_micros, computed_at) VALUES (?, 1, 1, 50000000, 0, 0, 0)', ['2031-05']);
    const send = () => createOfficeMessage(db.knex, calendar, { clinicId: 1, toPhone: '+15035550142', body: 'On the calendar' }, { unknownTextOk: 'allow' });

    // May has reached the limit on the calendar (whatever real time's month holds).
    await expect(send()).rejects.toMatchObject({ status: 402, code: 'monthly_limit_reached' });
    // One millisecond later it is June there: a new month, under the limit.
    at = LAST_MS_OF_MAY + 1;
    const sent = await send();
    expect(sent.sentAt).toBe('2031-06-01T05:00:00.000Z');
    expect(await q('SELECT sent_at, created_at FROM outbound_messages WHERE guid = ?', [sent.guid])).toEqual([{ sent_at: at, created_at: at }]);
    expect(await q('SELECT created_at FROM outbox WHERE guid = ?', [sent.guid])).toEqual([{ created_at: at }]);
    expect(await q("SELECT month FROM usage_dirty WHERE clinic_id = 1 AND month LIKE '2031-%'")).toEqual([{ month: '2031-06' }]);

    // The sweep ages the outbox on the same clock.
    at += 10_000;
    expect(await sweepOutbox(db.knex, calendar)).toEqual({ requeue: [], expired: 0 });
    at += 21_000;
    expect(await sweepOutbox(db.knex, calendar)).toEqual({ requeue: [sent.guid], expired: 0 });
    // ...and delivery stamps its acceptance on it.
    answer = () => ({ guid: sent.guid, segments: 1, status: 'pending', acceptedAtMs: at });
    expect(await deliverOfficeMessage({ knex: db.knex, hq, months: calendar }, sent.guid)).toEqual({ outcome: 'accepted', segments: 1 });
    expect(await q('SELECT accepted_at FROM outbound_messages WHERE guid = ?', [sent.guid])).toEqual([{ accepted_at: at }]);
  });

  it('the sender hands the texts its jobs ask for together to HQ as one batch: each gets its own outcome, and one transaction records them all', async () => {
    await db.knex.raw('DELETE FROM outbox');
    const texts: Array<Awaited<ReturnType<typeof create>>> = [];
    for (let i = 0; i < 12; i++) texts.push(await create(`Batch ${i}`, T0 + 100 + i));
    // HQ refuses text 3 for good and fails text 5 for now; it accepts the rest.
    answer = () => {
      const text = calls.at(-1) as { guid: string; body: string };
      if (text.body === 'Batch 3') throw new HqRejectedError('POST /v1/messages: HQ answered 403', 'POST /v1/messages', 403, 'clinic_not_subscribed');
      if (text.body === 'Batch 5') throw new HqUnavailableError('POST /v1/messages: HQ answered 503', 'POST /v1/messages');
      return { guid: text.guid, segments: 1, status: 'pending', acceptedAtMs: T0 };
    };
    const statements: string[] = [];
    const onQuery = (q: { sql: string }): void => void statements.push(q.sql);
    db.knex.on('query', onQuery);
    const posted = calls.length;
    const sender = new OutboxSender(deps());
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      // Asked for in one turn of the event loop, as the send jobs of a page's answers are.
      outcomes = await Promise.allSettled(texts.map((t) => sender.deliver(t.guid)));
    } finally {
      db.knex.off('query', onQuery);
    }
    expect(calls.length - posted).toBe(12);
    expect(outcomes.map((o, i) => (o.status === 'fulfilled' ? o.value : { error: (o.reason as Error).name, i }))).toEqual(texts.map((_, i) =>
      i === 3 ? { outcome: 'refused', httpStatus: 403, reason: 'hq_403_clinic_not_subscribed' }
        : i === 5 ? { error: 'HqUnavailableError', i }
          : { outcome: 'accepted', segments: 1 }));
    // One write transaction for the eleven answers, not one each.
    expect(statements.filter((sql) => /^begin/i.test(sql.trim()))).toHaveLength(1);
    expect(await q('SELECT guid FROM outbox')).toEqual([{ guid: texts[5]!.guid }]);
    const rows = await q<{ guid: string; status: string; failure_reason: string | null; accepted: number }>(
      `SELECT guid, status, failure_reason, accepted_at IS NOT NULL AS accepted FROM outbound_messages WHERE guid IN (${texts.map(() => '?').join(', ')})`, texts.map((t) => t.guid));
    const byGuid = new Map(rows.map((r) => [r.guid, r]));
    expect(texts.map((t) => byGuid.get(t.guid))).toEqual(texts.map((t, i) => ({
      guid: t.guid,
      status: i === 3 ? 'failed' : 'pending',
      failure_reason: i === 3 ? 'hq_403_clinic_not_subscribed' : null,
      accepted: i === 3 || i === 5 ? 0 : 1,
    })));
    // The one HQ failed for now goes in a later batch, like any retry.
    answer = () => ({ guid: texts[5]!.guid, segments: 1, status: 'pending', acceptedAtMs: T0 });
    expect(await sender.deliver(texts[5]!.guid)).toEqual({ outcome: 'accepted', segments: 1 });
    expect(await q('SELECT COUNT(*) AS n FROM outbox')).toEqual([{ n: 0 }]);
  });
});
