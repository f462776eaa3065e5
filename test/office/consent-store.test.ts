/**
 * The consent path and the commlog straight on the database, on SQLite and on a throw-away
 * PostgreSQL: keyword replies through recordInboundPage (confirmations, Text OK, opt-in answers,
 * commlog rows; a replayed page adds nothing), the opt-in request and its 24-hour rule, a PUT that
 * re-matches replies, the name search, and a queued text withheld at hand-off after a STOP.
 * No HQ and no Redis: the HQ client handed to the send path fails the test if it is called.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import type { HqClient } from '../../src/hq/client';
import type { ValidInbound } from '../../src/hq/items';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { OPTIN_REQUEST_INTERVAL_MS, requestOptin } from '../../src/office/optin';
import { updatePatient } from '../../src/office/patient-edit';
import { readPatient, searchPatients } from '../../src/office/patient-view';
import { upsertPatients, type PatientRecord } from '../../src/office/patients';
import { createOfficeMessage, OutboxSender } from '../../src/office/send';
import { startConfirmationGuid, stopConfirmationGuid } from '../../src/office/uuid';
import { MonthBucketer } from '../../src/usage/month';
import { databaseEngines } from '../support/databases';
import { tempDir } from '../support/tmp';

const months = new MonthBucketer('America/Chicago');
const T0 = Date.parse('2026-11-10T15:00:00.000Z');
const ALLOW = { unknownTextOk: 'allow' as const };
let seq = 0;

function reply(fromPhone: string, body: string, over: Partial<ValidInbound> = {}): ValidInbound {
  seq += 1;
  return {
    inboundId: `i-consent-${String(seq).padStart(9, '0')}`, clinicId: 1, fromPhone, toPhone: '+15035550100', body,
    receivedAtMs: T0 + seq * 1000, chargeMicros: 7900, segments: 1, ...over,
  };
}

const patient = (patientId: number, name: string, phone: string | null, textOk: PatientRecord['textOk'] = 'yes', clinicId: number | null = 1): PatientRecord => ({
  patientId, name, wirelessPhone: phone, phoneKey: phone === null ? null : phone.slice(1), clinicId, guarantorId: patientId, textOk,
});

const noHq = { waitMs: () => 0, sendMessage: () => { throw new Error('HQ must not be called'); } } as unknown as HqClient;

const engines = databaseEngines('consent');
afterAll(() => engines.stop());

describe.each(engines.each)('consent and the commlog on %s', (_name, open) => {
  let db: Database;
  let close: () => Promise<void>;
  const q = async <T = Record<string, unknown>>(sql: string, b: unknown[] = []): Promise<T[]> =>
    rowsOf<Record<string, unknown>>(await db.knex.raw(sql, b as never)).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'boolean' ? Number(v) : v])) as T);
  const commlogOf = (inboundId: string) => q<{ kind: string; patient_id: number | null }>('SELECT kind, patient_id FROM commlog WHERE inbound_id = ? ORDER BY id', [inboundId]);

  beforeAll(async () => {
    ({ db, close } = await open());
    await db.knex.raw("INSERT INTO clinics (clinic_id, name, subscribed, in_account, optin_title, prompt_optin) VALUES (1, 'Main', true, true, 'Main Street Dental', true), (2, 'River', true, true, NULL, false)");
    await upsertPatients(db.knex, [
      patient(1, 'Ana Alvarez', '+15035550501', 'unknown'),
      patient(2, 'Ben_Carter', '+15035550502'),
      patient(3, 'Cy Dunn', '+15035550503', 'yes', 2),
    ], T0);
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  it('STOP and START: one confirmation each (guid from the reply id), Text OK No and back, the commlog once; a replay adds nothing', async () => {
    const stop = reply('+15035550502', ' Stop ');
    const start = reply('+15035550502', 'OPTIN');
    const first = await recordInboundPage(db.knex, [stop, start], [], months, T0 + 10_000);
    expect(first.sendGuids).toEqual([stopConfirmationGuid(stop.inboundId), startConfirmationGuid(start.inboundId)]);
    expect(await q('SELECT purpose, body FROM outbound_messages WHERE guid = ?', [stopConfirmationGuid(stop.inboundId)])).toEqual([
      { purpose: 'stop_confirmation', body: 'Main Street Dental: you are unsubscribed and will get no more texts. Reply START to resubscribe.' },
    ]);
    expect(await commlogOf(stop.inboundId)).toEqual([
      { kind: 'reply_received', patient_id: 2 }, { kind: 'opt_out', patient_id: 2 }, { kind: 'text_ok_changed', patient_id: 2 },
    ]);
    expect(await commlogOf(start.inboundId)).toEqual([
      { kind: 'reply_received', patient_id: 2 }, { kind: 'opt_in', patient_id: 2 }, { kind: 'text_ok_changed', patient_id: 2 },
    ]);
    expect(await q('SELECT text_ok FROM patients WHERE patient_id = 2')).toEqual([{ text_ok: 'yes' }]);
    const rows = await q('SELECT COUNT(*) AS n FROM commlog');

    const again = await recordInboundPage(db.knex, [start, stop], [], months, T0 + 20_000);
    expect(again).toMatchObject({ recorded: 0, sendGuids: [] });
    expect(await q('SELECT COUNT(*) AS n FROM commlog')).toEqual(rows);
    expect(await q("SELECT COUNT(*) AS n FROM outbound_messages WHERE purpose IN ('stop_confirmation', 'start_confirmation')")).toEqual([{ n: 2 }]);
  });

  it('an older START arriving after a newer STOP changes nothing and is not confirmed', async () => {
    const newer = reply('+15035550503', 'STOP', { clinicId: 2 });
    const older = reply('+15035550503', 'START', { clinicId: 2, receivedAtMs: T0 });
    await recordInboundPage(db.knex, [newer], [], months, T0 + 30_000);
    const late = await recordInboundPage(db.knex, [older], [], months, T0 + 31_000);
    expect(late.sendGuids).toEqual([]);
    expect(await commlogOf(older.inboundId)).toEqual([{ kind: 'reply_received', patient_id: 3 }]);
    expect(await readPatient(db.knex, 3)).toMatchObject({ textOk: 'no', optedOut: true });
    // Its confirmation came from clinic 2, whose title falls back to "Your Dentist".
    expect(await q('SELECT clinic_id, body FROM outbound_messages WHERE guid = ?', [stopConfirmationGuid(newer.inboundId)])).toEqual([
      { clinic_id: 2, body: 'Your Dentist: you are unsubscribed and will get no more texts. Reply START to resubscribe.' },
    ]);
  });

  it('the opt-in request: suggested by a change, sent once a day, confirmed by YES with Text OK Yes', async () => {
    const put = await updatePatient(db.knex, 1, { textOk: 'yes' }, T0 + 40_000);
    expect(put).toMatchObject({ changed: true, patient: { textOk: 'yes', optin: { status: 'suggested', guid: null } } });
    const sent = await requestOptin(db.knex, months, 1, ALLOW, T0 + 41_000);
    expect(sent.patient.optin).toEqual({ status: 'sent', at: new Date(T0 + 41_000).toISOString(), guid: sent.message.guid });
    await expect(requestOptin(db.knex, months, 1, ALLOW, T0 + 41_000 + OPTIN_REQUEST_INTERVAL_MS - 1)).rejects.toMatchObject({ status: 409, code: 'optin_recently_requested' });
    // A day later it may be sent again.
    const later = await requestOptin(db.knex, months, 1, ALLOW, T0 + 41_000 + OPTIN_REQUEST_INTERVAL_MS);
    expect(later.message.guid).not.toBe(sent.message.guid);

    const yes = reply('+15035550501', 'yes');
    const page = await recordInboundPage(db.knex, [yes], [], months, T0 + OPTIN_REQUEST_INTERVAL_MS + 50_000);
    expect(page.sendGuids).toEqual([startConfirmationGuid(yes.inboundId)]);
    expect(await readPatient(db.knex, 1)).toMatchObject({ textOk: 'yes', optin: { status: 'confirmed', guid: later.message.guid } });
    expect(await commlogOf(yes.inboundId)).toEqual([{ kind: 'reply_received', patient_id: 1 }, { kind: 'opt_in', patient_id: 1 }]);
  });

  it('a PUT that moves a number re-matches its replies (not those the office moved by hand) and logs each move', async () => {
    const a = reply('+15035550509', 'Is this the dentist?');
    const b = reply('+15035550509', 'Hello?');
    await recordInboundPage(db.knex, [a, b], [], months, T0 + 60_000);
    await db.knex.raw('UPDATE inbound_messages SET patient_id = 1, patient_set_by_office = ? WHERE inbound_id = ?', [true, b.inboundId]);
    const put = await updatePatient(db.knex, 2, { wirelessPhone: '+15035550509' }, T0 + 61_000);
    // The new number's reply comes to patient 2; the old number's two (the first test's STOP and
    // OPTIN) go to nobody; the reply moved by hand stays.
    expect(put.rematched).toBe(3);
    expect(await q('SELECT inbound_id, patient_id FROM inbound_messages WHERE inbound_id IN (?, ?) ORDER BY inbound_id', [a.inboundId, b.inboundId])).toEqual([
      { inbound_id: a.inboundId, patient_id: 2 }, { inbound_id: b.inboundId, patient_id: 1 },
    ]);
    expect(await commlogOf(a.inboundId)).toEqual([{ kind: 'reply_received', patient_id: null }, { kind: 'reply_moved', patient_id: 2 }]);
    expect(await q("SELECT COUNT(*) AS n FROM inbound_messages WHERE from_phone = '+15035550502' AND patient_id IS NULL")).toEqual([{ n: 2 }]);
    // Nothing changed: nothing written.
    const rows = await q('SELECT COUNT(*) AS n FROM commlog');
    expect(await updatePatient(db.knex, 2, { wirelessPhone: '+15035550509', name: 'Ben_Carter' }, T0 + 62_000)).toMatchObject({ changed: false, rematched: 0 });
    expect(await q('SELECT COUNT(*) AS n FROM commlog')).toEqual(rows);
  });

  it('finds patients by name prefix in any case, LIKE wildcards taken literally, in keyset pages', async () => {
    expect((await searchPatients(db.knex, { namePrefix: 'BEN_', limit: 10 })).patients.map((p) => p.patientId)).toEqual([2]);
    expect((await searchPatients(db.knex, { namePrefix: 'B%', limit: 10 })).patients).toEqual([]);
    const page = await searchPatients(db.knex, { limit: 2 });
    expect(page.patients.map((p) => p.patientId)).toEqual([3, 2]);
    expect(await searchPatients(db.knex, { limit: 2, before: page.next! })).toMatchObject({ patients: [{ patientId: 1 }], next: null });
    expect((await searchPatients(db.knex, { phoneKey: '15035550509', limit: 5 })).patients.map((p) => p.patientId)).toEqual([2]);
  });

  it('a text queued before a STOP is withheld at hand-off: failed, not counted, in the commlog', async () => {
    await updatePatient(db.knex, 1, { wirelessPhone: '+15035550511' }, T0 + 70_000);
    const queued = await createOfficeMessage(db.knex, months, { patientId: 1, toPhone: '+15035550511', body: 'See you Tuesday' }, ALLOW, T0 + 71_000);
    await recordInboundPage(db.knex, [reply('+15035550511', 'cancel')], [], months, T0 + 72_000);
    expect(await new OutboxSender({ knex: db.knex, hq: noHq, months }).deliver(queued.guid)).toEqual({ outcome: 'withheld', reason: 'opted_out' });
    expect(await q('SELECT status, failure_reason FROM outbound_messages WHERE guid = ?', [queued.guid])).toEqual([{ status: 'failed', failure_reason: 'opted_out' }]);
    expect(await q('SELECT kind FROM commlog WHERE guid = ? ORDER BY id', [queued.guid])).toEqual([{ kind: 'text_sent' }, { kind: 'text_failed' }]);
    expect(await q('SELECT COUNT(*) AS n FROM outbox WHERE guid = ?', [queued.guid])).toEqual([{ n: 0 }]);
  });
});

describe('upgrading an existing database to the consent and commlog schema', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('keeps every patient and text, gives old names their search key and old HELP answers their purpose, and starts an empty commlog', async () => {
    const path = join(dir.path, 'old.sqlite');
    const old = await openDatabase({ driver: 'sqlite', path }, { migrate: false });
    await old.orm.getMigrator().up({ to: 'Migration20261128100000_perf' });
    await old.knex.raw(`INSERT INTO patients (patient_id, name, wireless_phone, phone_key, clinic_id, guarantor_id, text_ok, updated_at)
      VALUES (1, 'Ana ALVAREZ', '+15035550101', '15035550101', 1, 1, 'yes', 1000)`);
    await old.knex.raw(`INSERT INTO outbound_messages (guid, clinic_id, sent_at, status, origin, created_at, to_phone, body)
      VALUES ('g-help', 1, 2500, 'pending', 'office', 2500, '+15035550101',
              'Main: appointment reminders and messages. Msg & data rates may apply. Reply STOP to opt out, START to opt back in.'),
             ('g-text', 1, 2600, 'pending', 'office', 2600, '+15035550101', 'See you Tuesday')`);
    await old.close();

    const db = await openDatabase({ driver: 'sqlite', path });
    try {
      expect(await db.orm.getMigrator().getPendingMigrations()).toEqual([]);
      expect((await searchPatients(db.knex, { namePrefix: 'ana al', limit: 5 })).patients.map((p) => p.patientId)).toEqual([1]);
      expect(await readPatient(db.knex, 1)).toMatchObject({ name: 'Ana ALVAREZ', textOk: 'yes', optin: null, optedOut: false });
      expect(rowsOf(await db.knex.raw('SELECT guid, purpose FROM outbound_messages ORDER BY guid'))).toEqual([
        { guid: 'g-help', purpose: 'help_reply' }, { guid: 'g-text', purpose: null },
      ]);
      expect(rowsOf(await db.knex.raw('SELECT COUNT(*) AS n FROM commlog'))).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });
});
