/**
 * The office side of recording inbound pages (matching, keywords, HELP replies), straight against
 * a real SQLite database through recordInboundPage: no HQ, no Redis.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import type { ValidInbound } from '../../src/hq/items';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { upsertPatients, type PatientRecord } from '../../src/office/patients';
import { helpReplyGuid } from '../../src/office/uuid';
import { MonthBucketer } from '../../src/usage/month';
import { tempDir } from '../support/tmp';

const T0 = Date.parse('2026-11-10T15:00:00.000Z');
/** The daemon's calendar clock, which the office side reads "now" from (src/office/send.ts). */
let calendarAt = T0;
const months = new MonthBucketer('America/Chicago', () => calendarAt);
let seq = 0;

function reply(fromPhone: string, body: string, over: Partial<ValidInbound> = {}): ValidInbound {
  seq += 1;
  return {
    inboundId: `i-test-${String(seq).padStart(9, '0')}`,
    clinicId: 1,
    fromPhone,
    toPhone: '+15035550100',
    body,
    receivedAtMs: T0 + seq * 1000,
    chargeMicros: 7900,
    segments: 1,
    ...over,
  };
}

const patient = (patientId: number, phone: string | null, clinicId: number | null, guarantorId = patientId, textOk: PatientRecord['textOk'] = 'yes'): PatientRecord => ({
  patientId, name: `P${patientId}`, wirelessPhone: phone, phoneKey: phone === null ? null : phone.replace(/\D/g, ''), clinicId, guarantorId, textOk,
});

describe('recording inbound replies: matching and carrier keywords', () => {
  const dir = tempDir();
  let db: Database;
  const q = async <T>(sql: string, b: unknown[] = []): Promise<T[]> => rowsOf<T>(await db.knex.raw(sql, b as never));

  beforeAll(async () => {
    db = await openDatabase({ driver: 'sqlite', path: join(dir.path, 'office.sqlite') });
    await db.knex.raw("INSERT INTO clinics (clinic_id, name, subscribed, in_account, optin_title) VALUES (1, 'Main', true, true, 'Main Street Dental'), (2, 'River', true, true, NULL)");
    await upsertPatients(db.knex, [
      patient(1, '+15035550101', 1), // alone
      patient(10, '+15035550110', 1), // a family sharing a number, guarantor 10
      patient(11, '+15035550110', 1, 10),
      patient(20, '+15035550120', 1), // two unrelated patients sharing a number
      patient(21, '+15035550120', 1),
      patient(30, '+15035550130', 1), // same number at two clinics
      patient(31, '+15035550130', 2),
      patient(40, '+15035550140', 1),
      patient(41, '+15035550140', 2),
    ]);
  });
  afterAll(async () => {
    await db.close();
    dir.remove();
  });

  it('a failed write names no bound value in its error message (texts and numbers stay out of logs)', async () => {
    const err = await db.knex
      .raw('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?), (?, ?, ?)', ['k', 'Secret text +15035550123', 1, 'k', 'x', 2])
      .then(() => null, (e: Error) => e);
    expect(err?.message).toContain('UNIQUE');
    expect(err?.message).not.toContain('Secret');
    expect(err?.message).not.toContain('5550123');
  });

  it('assigns each reply by the matching rules, with one patients query per page', async () => {
    const page = [
      reply('+15035550101', 'Yes, see you then'),
      reply('+15035550110', 'C'),
      reply('+15035550120', 'Thanks'),
      reply('+15035550130', 'ok', { clinicId: 2 }),
      reply('+15035550199', 'who is this?'),
    ];
    let patientQueries = 0;
    const onQuery = (data: { sql: string }): void => {
      if (/from patients/i.test(data.sql) && /^select/i.test(data.sql.trim())) patientQueries += 1;
    };
    db.knex.on('query', onQuery);
    await recordInboundPage(db.knex, page, [], months);
    db.knex.removeListener('query', onQuery);
    expect(patientQueries).toBe(1);

    const rows = await q<{ inbound_id: string; patient_id: number | null; match_count: number }>(
      'SELECT inbound_id, patient_id, match_count FROM inbound_messages ORDER BY inbound_id');
    expect(rows.map((r) => [r.patient_id, r.match_count])).toEqual([
      [1, 1],
      [10, 2],
      [null, 2],
      [31, 1],
      [null, 0],
    ]);
  });

  it('STOP opts the number out and turns Text OK to No; START opts it back in; a replay does nothing', async () => {
    const stop = reply('+15035550101', '  stop ');
    await recordInboundPage(db.knex, [stop], [], months);
    expect(await q('SELECT phone_key, opted_out FROM opt_outs')).toEqual([{ phone_key: '15035550101', opted_out: 1 }]);
    expect(await q('SELECT text_ok FROM patients WHERE patient_id = 1')).toEqual([{ text_ok: 'no' }]);
    expect(await q('SELECT keyword, patient_id FROM inbound_messages WHERE inbound_id = ?', [stop.inboundId])).toEqual([{ keyword: 'stop', patient_id: 1 }]);

    const start = reply('+15035550101', 'UNSTOP');
    await recordInboundPage(db.knex, [start], [], months);
    expect(await q('SELECT opted_out FROM opt_outs WHERE phone_key = ?', ['15035550101'])).toEqual([{ opted_out: 0 }]);
    expect(await q('SELECT text_ok FROM patients WHERE patient_id = 1')).toEqual([{ text_ok: 'yes' }]);

    // The STOP page comes again (a lost ack): it is a duplicate and must not opt the number out again.
    const outcome = await recordInboundPage(db.knex, [stop], [], months);
    expect(outcome).toMatchObject({ recorded: 0, duplicates: 1, sendGuids: [] });
    expect(await q('SELECT opted_out FROM opt_outs WHERE phone_key = ?', ['15035550101'])).toEqual([{ opted_out: 0 }]);
    expect(await q('SELECT text_ok FROM patients WHERE patient_id = 1')).toEqual([{ text_ok: 'yes' }]);
  });

  it('the latest reply wins even when an older STOP arrives after a newer START', async () => {
    const older = reply('+15035550140', 'STOP', { receivedAtMs: T0 + 500_000 });
    const newer = reply('+15035550140', 'Start', { receivedAtMs: T0 + 600_000 });
    await recordInboundPage(db.knex, [newer], [], months);
    await recordInboundPage(db.knex, [older], [], months);
    expect(await q('SELECT opted_out, inbound_id FROM opt_outs WHERE phone_key = ?', ['15035550140'])).toEqual([{ opted_out: 0, inbound_id: newer.inboundId }]);
    // In one page, order by receivedAt too.
    const a = reply('+15035550130', 'START', { receivedAtMs: T0 + 900_000 });
    const b = reply('+15035550130', 'QUIT', { receivedAtMs: T0 + 800_000 });
    await recordInboundPage(db.knex, [a, b], [], months);
    expect(await q('SELECT opted_out FROM opt_outs WHERE phone_key = ?', ['15035550130'])).toEqual([{ opted_out: 0 }]);
  });

  it('HELP records one automatic reply per inbound message, with a guid derived from its id, counted as pending', async () => {
    const help = reply('+15035550110', 'Help');
    const info = reply('+15035550199', 'INFO', { clinicId: 2 });
    calendarAt = T0 + 1_000_000;
    const outcome = await recordInboundPage(db.knex, [help, info], [], months);
    expect(outcome.sendGuids).toEqual([helpReplyGuid(help.inboundId), helpReplyGuid(info.inboundId)]);
    const sent = await q<{ guid: string; clinic_id: number; to_phone: string; body: string; patient_id: number | null; status: string; origin: string; charge_micros: null }>(
      "SELECT guid, clinic_id, to_phone, body, patient_id, status, origin, charge_micros FROM outbound_messages WHERE purpose = 'help_reply' ORDER BY clinic_id");
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ guid: helpReplyGuid(help.inboundId), clinic_id: 1, to_phone: '+15035550110', patient_id: 10, status: 'pending', origin: 'office', charge_micros: null });
    // The clinic's opt-in title, else the practice's, else "Your Dentist".
    expect(sent[0]!.body).toMatch(/^Main Street Dental: .*STOP/);
    expect(sent[1]!.body).toMatch(/^Your Dentist: /);
    expect(await q("SELECT COUNT(*) AS n FROM outbox WHERE guid IN (SELECT guid FROM outbound_messages WHERE purpose = 'help_reply')")).toEqual([{ n: 2 }]);
    // Stamped on the calendar clock, and its month (on that clock) is marked for recount.
    expect(await q("SELECT DISTINCT sent_at FROM outbound_messages WHERE purpose = 'help_reply'")).toEqual([{ sent_at: T0 + 1_000_000 }]);
    expect(await q('SELECT clinic_id FROM usage_dirty WHERE month = ? ORDER BY clinic_id', [months.monthOf(T0 + 1_000_000)])).toEqual([{ clinic_id: 1 }, { clinic_id: 2 }]);

    // Redelivered: nothing new is queued or recorded.
    calendarAt = T0 + 2_000_000;
    const again = await recordInboundPage(db.knex, [help, info], [], months);
    expect(again.sendGuids).toEqual([]);
    expect(await q("SELECT COUNT(*) AS n FROM outbound_messages WHERE purpose = 'help_reply'")).toEqual([{ n: 2 }]);
  });

  it('answers HELP at most once per number an hour; every HELP is still recorded and counted', async () => {
    const phone = '+15035550177';
    const at = T0 + 10_000_000;
    const answered = async (): Promise<number> => Number((await q<{ n: number }>("SELECT COUNT(*) AS n FROM outbound_messages WHERE purpose = 'help_reply' AND to_phone = ?", [phone]))[0]!.n);
    // Three in one page: one answer.
    calendarAt = at;
    const first = await recordInboundPage(db.knex, [reply(phone, 'HELP'), reply(phone, 'help'), reply(phone, 'INFO')], [], months);
    expect(first.sendGuids).toHaveLength(1);
    // Ten minutes later, another page: none.
    calendarAt = at + 10 * 60_000;
    expect((await recordInboundPage(db.knex, [reply(phone, 'HELP')], [], months)).sendGuids).toEqual([]);
    // Another number is not held back by this one.
    calendarAt = at + 11 * 60_000;
    expect((await recordInboundPage(db.knex, [reply('+15035550178', 'HELP')], [], months)).sendGuids).toHaveLength(1);
    // An hour after the answer: answered again.
    calendarAt = at + 60 * 60_000;
    expect((await recordInboundPage(db.knex, [reply(phone, 'HELP')], [], months)).sendGuids).toHaveLength(1);
    expect(await answered()).toBe(2);
    // Every HELP was recorded, as a reply counted in usage.
    expect(Number((await q<{ n: number }>("SELECT COUNT(*) AS n FROM inbound_messages WHERE from_phone = ? AND keyword = 'help'", [phone]))[0]!.n)).toBe(5);
  });
});
