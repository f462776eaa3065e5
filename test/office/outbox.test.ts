/**
 * The send path against a real SQLite database with a stand-in HQ client: recording, the limit,
 * delivery and its idempotence, final refusals, transient failures, the outbox sweep and expiry,
 * a receipt arriving for an office message, and the calendar clock the path reads "now" from.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import { HqClient } from '../../src/hq/client';
import { HqBackoffError, HqRateLimitedError, HqRejectedError, HqUnavailableError } from '../../src/hq/errors';
import { HttpTransport } from '../../src/hq/http-transport';
import { SqlitePageStore } from '../../src/ingest/page-store-sqlite';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { OfficeError } from '../../src/office/errors';
import {
  CONSENT_FRESH_MS, createOfficeMessage, insertOfficeMessages, OUTBOX_EXPIRY_MS, OUTBOX_SWEEP_AGE_MS, OutboxSender, sweepOutbox,
} from '../../src/office/send';
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
  const hq = { waitMs: () => 0, sendMessage: async (text: unknown) => { calls.push(text); return answer(); } } as unknown as HqClient;
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
    expect(await new OutboxSender(deps()).deliver(sent.guid)).toEqual({ outcome: 'accepted', segments: 2 });
    expect(calls).toEqual([{ guid: sent.guid, clinicId: 1, toPhone: '+15035550142', body: 'Hello 😀' }]);
    expect(await new OutboxSender(deps()).deliver(sent.guid)).toEqual({ outcome: 'nothing_owed' });
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
    expect(await new OutboxSender(deps()).deliver(refused.guid)).toEqual({ outcome: 'refused', httpStatus: 403, reason: 'hq_403_clinic_not_subscribed' });
    expect(await q('SELECT status, failure_reason FROM outbound_messages WHERE guid = ?', [refused.guid])).toEqual([{ status: 'failed', failure_reason: 'hq_403_clinic_not_subscribed' }]);
    expect((await usage())[0]!.sent_count).toBe(1);

    // A bad HQ key is not the message's fault: it stays owed.
    const keyed = await create('Bad key');
    answer = () => { throw new HqRejectedError('POST /v1/messages: HQ answered 401', 'POST /v1/messages', 401, 'unauthorized'); };
    await expect(new OutboxSender(deps()).deliver(keyed.guid)).rejects.toBeInstanceOf(HqRejectedError);
    expect(await q('SELECT status FROM outbound_messages WHERE guid = ?', [keyed.guid])).toEqual([{ status: 'pending' }]);
    await db.knex.raw('DELETE FROM outbox WHERE guid = ?', [keyed.guid]);
    await db.knex.raw("UPDATE outbound_messages SET status = 'failed' WHERE guid = ?", [keyed.guid]);

    const later = await create('Later');
    answer = () => { throw new HqUnavailableError('POST /v1/messages: HQ answered 503', 'POST /v1/messages'); };
    await expect(new OutboxSender(deps()).deliver(later.guid)).rejects.toBeInstanceOf(HqUnavailableError);
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
    expect(await new OutboxSender({ knex: db.knex, hq, months: calendar }).deliver(sent.guid)).toEqual({ outcome: 'accepted', segments: 1 });
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

  /** `n` owed texts to `toPhone`, recorded in one transaction; their guids in order. */
  const owe = async (n: number, toPhone = '+15035550142'): Promise<string[]> => {
    const guids = Array.from({ length: n }, () => randomUUID());
    await db.knex.transaction((trx) => insertOfficeMessages(trx, guids.map((guid, i) => ({
      guid, clinicId: 1, patientId: null, toPhone, body: `Owed ${i}`, segments: 1, purpose: null,
    })), T0 + 200));
    return guids;
  };
  /** The SQL run while `run` runs. */
  const statementsOf = async <T>(run: () => Promise<T>): Promise<{ result: T; statements: string[] }> => {
    const statements: string[] = [];
    const onQuery = (x: { sql: string }): void => void statements.push(x.sql);
    db.knex.on('query', onQuery);
    try {
      return { result: await run(), statements };
    } finally {
      db.knex.off('query', onQuery);
    }
  };
  const begins = (statements: readonly string[]): number => statements.filter((sql) => /^begin/i.test(sql.trim())).length;
  const owedNow = async (): Promise<string[]> => (await q<{ guid: string }>('SELECT guid FROM outbox')).map((r) => r.guid);
  /** A few turns of the event loop (never a timer): long enough for the other batch to get going. */
  const turns = async (n = 5): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('caps the POSTs at four per batch and the batches at two: 250 texts take three recording transactions', async () => {
    await db.knex.raw('DELETE FROM outbox');
    const guids = await owe(250);
    const batchOf = new Map(guids.map((guid, i) => [guid, Math.floor(i / 100)]));
    const inFlight = new Map<number, number>();
    let maxPerBatch = 0;
    const slowHq = {
      waitMs: () => 0,
      sendMessage: async (text: { guid: string }) => {
        const batch = batchOf.get(text.guid)!;
        inFlight.set(batch, (inFlight.get(batch) ?? 0) + 1);
        maxPerBatch = Math.max(maxPerBatch, inFlight.get(batch)!);
        await turns();
        inFlight.set(batch, inFlight.get(batch)! - 1);
        return { guid: text.guid, segments: 1, status: 'pending', acceptedAtMs: T0 };
      },
    } as unknown as HqClient;
    const sender = new OutboxSender({ knex: db.knex, hq: slowHq, months });
    const { result, statements } = await statementsOf(() => Promise.all(guids.map((guid) => sender.deliver(guid))));
    expect(result.every((o) => o.outcome === 'accepted')).toBe(true);
    expect(maxPerBatch).toBe(4);
    // A batch is under way from its read of what is owed to the commit of its answers.
    let underWay = 0;
    let maxBatches = 0;
    for (const sql of statements) {
      if (/from outbox x join outbound_messages/i.test(sql)) maxBatches = Math.max(maxBatches, ++underWay);
      if (/^commit/i.test(sql.trim())) underWay -= 1;
    }
    expect(maxBatches).toBe(2);
    expect(begins(statements)).toBe(3);
    expect(await owedNow()).toEqual([]);
  });

  it('reads consent again once the last reading is CONSENT_FRESH_MS old: a STOP committed while the batch is under way withholds the texts not yet sent', async () => {
    const phone = '+15035550177';
    const guids = await owe(8, phone);
    let stopped = false;
    let clock = 0;
    const stoppingHq = {
      waitMs: () => 0,
      sendMessage: async (text: { guid: string }) => {
        calls.push(text);
        if (!stopped) {
          stopped = true;
          // The first group's POSTs take longer than the reading of consent stays fresh.
          clock += CONSENT_FRESH_MS;
          await recordInboundPage(db.knex, [{
            inboundId: 'i-outbox-stop-1', clinicId: 1, fromPhone: phone, toPhone: '+15035550100', body: 'STOP',
            receivedAtMs: T0 + 300, chargeMicros: 7900, segments: 1,
          }], [], months, T0 + 301);
        }
        return { guid: text.guid, segments: 1, status: 'pending', acceptedAtMs: T0 };
      },
    } as unknown as HqClient;
    const sender = new OutboxSender({ knex: db.knex, hq: stoppingHq, months, elapsed: () => clock });
    const outcomes = await Promise.all(guids.map((guid) => sender.deliver(guid)));
    expect(outcomes).toEqual(guids.map((_, i) => (i < 4 ? { outcome: 'accepted', segments: 1 } : { outcome: 'withheld', reason: 'opted_out' })));
    expect(await q(`SELECT COUNT(*) AS n FROM outbound_messages WHERE status = 'failed' AND failure_reason = 'opted_out' AND guid IN (${guids.map(() => '?').join(', ')})`, guids)).toEqual([{ n: 4 }]);
  });

  it('within CONSENT_FRESH_MS a batch reads consent once for all its texts, not once per group of POSTs', async () => {
    await db.knex.raw('DELETE FROM outbox');
    const guids = await owe(12, '+15035550178');
    const optOutReads: number[] = [];
    let posted = 0;
    const countingHq = {
      waitMs: () => 0,
      sendMessage: async (text: { guid: string }) => {
        calls.push(text);
        posted += 1;
        return { guid: text.guid, segments: 1, status: 'pending', acceptedAtMs: T0 };
      },
    } as unknown as HqClient;
    const onQuery = (query: { sql: string }): void => {
      if (/FROM opt_outs/i.test(query.sql)) optOutReads.push(posted);
    };
    db.knex.on('query', onQuery);
    try {
      const sender = new OutboxSender({ knex: db.knex, hq: countingHq, months, elapsed: () => 0 });
      const outcomes = await Promise.all(guids.map((guid) => sender.deliver(guid)));
      expect(outcomes.every((o) => o.outcome === 'accepted')).toBe(true);
    } finally {
      db.knex.removeListener('query', onQuery);
    }
    // The batch's opt-outs were read once, for all its texts, before the first POST: one reading
    // for the batch (consentRefusals), not one read per text.
    expect(optOutReads).toEqual([0]);
  });

  it('a batch whose consent cannot be read sends none of its texts: each job fails with the error and its text stays owed', async () => {
    await db.knex.raw('DELETE FROM outbox');
    const guids = await owe(6);
    const refused = Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
    // The database answers everything but the read of the opt-outs.
    const knex = new Proxy(db.knex, {
      get: (t, p) => (p === 'raw'
        ? (sql: string, bindings?: unknown) => (/FROM opt_outs/i.test(sql) ? Promise.reject(refused) : t.raw(sql, bindings as never))
        : Reflect.get(t, p)),
    });
    const posted = calls.length;
    const sender = new OutboxSender({ knex, hq, months });
    const outcomes = await Promise.allSettled(guids.map((guid) => sender.deliver(guid)));
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value))).toEqual(guids.map(() => refused));
    expect(calls.length).toBe(posted);
    expect((await owedNow()).sort()).toEqual([...guids].sort());
    await db.knex.raw('DELETE FROM outbox');
  });

  it('a recording that fails for one text fails only that one: the others are recorded one by one, it stays owed, one line says so', async () => {
    await db.knex.raw('DELETE FROM outbox');
    const guids = await owe(5);
    const bad = guids[2]!;
    await db.knex.raw(`CREATE TRIGGER outbox_test_refuse BEFORE UPDATE OF accepted_at ON outbound_messages WHEN NEW.guid = '${bad}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    answer = () => ({ guid: (calls.at(-1) as { guid: string }).guid, segments: 1, status: 'pending', acceptedAtMs: T0 });
    const warn = jest.fn();
    try {
      const sender = new OutboxSender({ ...deps(), logger: { warn } as never });
      const outcomes = await Promise.allSettled(guids.map((guid) => sender.deliver(guid)));
      expect(outcomes.map((o) => o.status)).toEqual(guids.map((g) => (g === bad ? 'rejected' : 'fulfilled')));
      expect(await owedNow()).toEqual([bad]);
      expect(await q('SELECT accepted_at FROM outbound_messages WHERE guid = ?', [bad])).toEqual([{ accepted_at: null }]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toMatchObject({ texts: 5 });

      // A write that fails for every text: every text stays owed.
      await db.knex.raw('DROP TRIGGER outbox_test_refuse');
      await db.knex.raw("CREATE TRIGGER outbox_test_refuse BEFORE UPDATE OF accepted_at ON outbound_messages BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
      const more = await owe(3);
      const failed = await Promise.allSettled(more.map((guid) => sender.deliver(guid)));
      expect(failed.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect((await owedNow()).sort()).toEqual([bad, ...more].sort());
    } finally {
      await db.knex.raw('DROP TRIGGER IF EXISTS outbox_test_refuse');
    }
    // Sent again (HQ answers a repeated guid with its first answer), they are recorded.
    const sender = new OutboxSender(deps());
    expect((await owedNow()).length).toBe(4);
    for (const guid of await owedNow()) expect(await sender.deliver(guid)).toEqual({ outcome: 'accepted', segments: 1 });
    expect(await owedNow()).toEqual([]);
  });

  it('an outbox row without its message that cannot be dropped after a failed batch is one line and stays for the sweep; its job has nothing owed', async () => {
    await db.knex.raw('DELETE FROM outbox');
    const guids = await owe(2);
    // An outbox row with no message (a hand edit, a partial restore): nothing to send.
    const orphan = randomUUID();
    await db.knex.raw('INSERT INTO outbox (guid, created_at) VALUES (?, ?)', [orphan, T0 + 200]);
    // Its row refuses to go, so the batch's transaction fails and so does the drop after it.
    await db.knex.raw(`CREATE TRIGGER outbox_test_keep BEFORE DELETE ON outbox WHEN OLD.guid = '${orphan}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    answer = () => ({ guid: (calls.at(-1) as { guid: string }).guid, segments: 1, status: 'pending', acceptedAtMs: T0 });
    const warn = jest.fn();
    try {
      const sender = new OutboxSender({ ...deps(), logger: { warn } as never });
      const outcomes = await Promise.all([...guids, orphan].map((guid) => sender.deliver(guid)));
      expect(outcomes).toEqual([{ outcome: 'accepted', segments: 1 }, { outcome: 'accepted', segments: 1 }, { outcome: 'nothing_owed' }]);
      expect(await owedNow()).toEqual([orphan]);
      expect(warn.mock.calls.map((c) => c[0])).toEqual([
        'recording a batch of office messages failed: recording each on its own',
        'could not drop outbox rows without their message: the outbox sweep drops them',
      ]);
      expect(warn.mock.calls[1]![1]).toEqual({ nothingOwed: 1, error: expect.stringMatching(/refused by the test/) });
      expect(JSON.stringify(warn.mock.calls)).not.toMatch(/5035550142|Owed \d/);
    } finally {
      await db.knex.raw('DROP TRIGGER IF EXISTS outbox_test_keep');
    }
    // The sweep drops it once it is old enough, and queues nothing for it.
    expect(await sweepOutbox(db.knex, months, T0 + 200 + OUTBOX_SWEEP_AGE_MS + 1)).toEqual({ requeue: [], expired: 0 });
    expect(await owedNow()).toEqual([]);
  });

  it('a 429 holds the rest of the batch back (no POST before its Retry-After), and a batch that starts meanwhile touches neither HQ nor the database', async () => {
    await db.knex.raw('DELETE FROM outbox');
    let clock = 1_000_000;
    let status = 429;
    const fetched: string[] = [];
    // HQ, at the client's transport: the client's own gate, Retry-After and errors are under test.
    const fetchStub = jest.spyOn(HttpTransport.prototype, 'request').mockImplementation(async (_url, _method, _headers, body) => {
      const text = JSON.parse(String(body)) as { guid: string };
      fetched.push(text.guid);
      return status === 429
        ? { status: 429, header: (name: string) => (name.toLowerCase() === 'retry-after' ? '60' : null), text: '{"error":"rate_limited"}' }
        : { status: 200, header: () => null, text: JSON.stringify({ guid: text.guid, segments: 1, status: 'pending', acceptedAt: new Date(T0).toISOString() }) };
    });
    try {
      const realHq = new HqClient({ baseUrl: 'http://hq.invalid', apiKey: 'test-key', timeoutMs: 10_000, backoff: { baseMs: 1_000, maxMs: 60_000 }, now: () => clock });
      const sender = new OutboxSender({ knex: db.knex, hq: realHq, months });
      const guids = await owe(10);
      const outcomes = await Promise.allSettled(guids.map((guid) => sender.deliver(guid)));
      // The first group went out together; once HQ said 429, nothing more left.
      expect(fetched).toEqual(guids.slice(0, 4));
      expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).constructor : null))).toEqual(guids.map((_, i) => (i < 4 ? HqRateLimitedError : HqBackoffError)));
      expect((await owedNow()).sort()).toEqual([...guids].sort());

      // While the gate is closed, a batch fails at once: no query, no POST.
      const { result, statements } = await statementsOf(() => sender.deliver(guids[0]!).then(() => null, (e: unknown) => e));
      expect(result).toBeInstanceOf(HqBackoffError);
      expect(statements).toEqual([]);
      expect(fetched).toHaveLength(4);

      // Once the Retry-After has passed, they go.
      clock += 60_200;
      status = 200;
      expect(await Promise.all(guids.map((guid) => sender.deliver(guid)))).toEqual(guids.map(() => ({ outcome: 'accepted', segments: 1 })));
      expect(await owedNow()).toEqual([]);
    } finally {
      fetchStub.mockRestore();
    }
  });

  it('after the shutdown signal, a batch fails at once without a query', async () => {
    const guids = await owe(3);
    const stopping = new AbortController();
    stopping.abort(new Error('shutting down'));
    const sender = new OutboxSender(deps());
    const { result, statements } = await statementsOf(() => Promise.allSettled(guids.map((guid) => sender.deliver(guid, stopping.signal))));
    expect(result.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'sent'))).toEqual(['shutting down', 'shutting down', 'shutting down']);
    expect(statements).toEqual([]);
    expect((await owedNow()).sort()).toEqual([...guids].sort());
    await db.knex.raw('DELETE FROM outbox');
  });
});
