/**
 * The batch form of the consent rules (consentRefusals and textOksOf in src/office/consent.ts, what
 * a send batch reads) answers every text exactly as the per-text form does (consentRefusal, with
 * the patient's Text OK or textOkOfNumber), on a table of recipients, purposes and policies:
 * numbers that said STOP, and STOP then START, through the real keyword path; a blocked number;
 * patients whose Text OK is Yes, No or unknown; numbers shared by patients who all said No, or
 * not all; a patient id no patient has; numbers without a patient; every purpose; both
 * texting.unknownTextOk policies and none. And it reads the batch's numbers and patients in a
 * fixed few statements, whatever the number of texts. On SQLite and on a throw-away PostgreSQL.
 */
import { rowsOf } from '../../src/db/bulk-sql';
import type { Database } from '../../src/db/orm';
import type { UnknownTextOkPolicy } from '../../src/config/types';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { consentRefusal, consentRefusals, textOkOfNumber, textOksOf, type ConsentQuestion } from '../../src/office/consent';
import type { OfficeError } from '../../src/office/errors';
import { upsertPatients, type PatientRecord } from '../../src/office/patients';
import { phoneMatchKey } from '../../src/office/phone';
import { PURPOSES, type Purpose } from '../../src/office/purpose';
import { blockNumber } from '../../src/office/replies';
import type { TextOk } from '../../src/office/text-ok';
import { MonthBucketer } from '../../src/usage/month';
import { databaseEngines } from '../support/databases';

const months = new MonthBucketer('America/Chicago');
const T0 = Date.parse('2026-11-10T15:00:00.000Z');

const patient = (patientId: number, phone: string, textOk: TextOk, clinicId = 1): PatientRecord => ({
  patientId, name: `Patient ${patientId}`, wirelessPhone: phone, phoneKey: phone.slice(1), clinicId, guarantorId: patientId, textOk,
});

/** Who a text goes to: its number, and the patient it names (null: none). */
const RECIPIENTS: ReadonlyArray<{ what: string; phone: string; patientId: number | null }> = [
  { what: 'a patient whose Text OK is Yes', phone: '+15035550601', patientId: 11 },
  { what: 'a patient whose Text OK is No', phone: '+15035550602', patientId: 12 },
  { what: 'a patient whose Text OK is unknown', phone: '+15035550603', patientId: 13 },
  { what: 'a number of a Yes and a No patient, no patient named', phone: '+15035550604', patientId: null },
  { what: 'a number of a Yes and a No patient, the No one named', phone: '+15035550604', patientId: 15 },
  { what: 'a number whose patients all said No, no patient named', phone: '+15035550605', patientId: null },
  { what: 'a number that said STOP, its patient named', phone: '+15035550606', patientId: 18 },
  { what: 'a number that said STOP, no patient named', phone: '+15035550606', patientId: null },
  { what: 'a number that said STOP then START', phone: '+15035550607', patientId: 19 },
  { what: 'a blocked number', phone: '+15035550608', patientId: 20 },
  { what: 'a blocked number, no patient named', phone: '+15035550608', patientId: null },
  { what: 'a number without a patient that said STOP', phone: '+15035550609', patientId: null },
  { what: 'a number without a patient', phone: '+15035550610', patientId: null },
  { what: 'a patient id no patient has', phone: '+15035550611', patientId: 999 },
  { what: 'a patient whose Text OK is unknown, written in another form', phone: '+1 (503) 555-0603', patientId: 13 },
];
const POLICIES: ReadonlyArray<UnknownTextOkPolicy | null> = ['allow', 'refuse', null];

interface Case {
  what: string;
  phone: string;
  phoneKey: string;
  patientId: number | null;
  purpose: Purpose | null;
  unknownTextOk: UnknownTextOkPolicy | null;
}

const CASES: Case[] = RECIPIENTS.flatMap((r) => [null, ...PURPOSES].flatMap((purpose) => POLICIES.map((unknownTextOk) => ({
  what: `${r.what}, ${purpose ?? 'office text'}, unknownTextOk ${unknownTextOk ?? 'not judged'}`,
  phone: r.phone, phoneKey: phoneMatchKey(r.phone)!, patientId: r.patientId, purpose, unknownTextOk,
}))));

/** What a refusal says (status, code, message, field), or null. */
const answer = (e: OfficeError | null) => (e === null ? null : { status: e.status, code: e.code, message: e.message, field: e.field });

const engines = databaseEngines('consent_batch');
afterAll(() => engines.stop());

describe.each(engines.each)('consent read for a batch answers as consent read per text (%s)', (_name, open) => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await open());
    await db.knex.raw("INSERT INTO clinics (clinic_id, name, subscribed, in_account, optin_title, prompt_optin) VALUES (1, 'Main', true, true, 'Main Street Dental', true), (2, 'River', true, true, NULL, false)");
    await upsertPatients(db.knex, [
      patient(11, '+15035550601', 'yes'),
      patient(12, '+15035550602', 'no'),
      patient(13, '+15035550603', 'unknown', 2),
      patient(14, '+15035550604', 'yes'),
      patient(15, '+15035550604', 'no'),
      patient(16, '+15035550605', 'no'),
      patient(17, '+15035550605', 'no', 2),
      patient(18, '+15035550606', 'yes'),
      patient(19, '+15035550607', 'yes'),
      patient(20, '+15035550608', 'yes'),
    ], T0);
    let n = 0;
    const reply = (fromPhone: string, body: string) => ({
      inboundId: `i-consent-batch-${++n}`, clinicId: 1, fromPhone, toPhone: '+15035550100', body, receivedAtMs: T0 + n * 1000, chargeMicros: 7900, segments: 1,
    });
    await recordInboundPage(db.knex, [reply('+15035550606', 'STOP'), reply('+15035550607', 'STOP'), reply('+15035550609', 'stop')], [], months, T0 + 10_000);
    await recordInboundPage(db.knex, [reply('+15035550607', 'START')], [], months, T0 + 20_000);
    await blockNumber(db.knex, '+15035550608', T0 + 30_000);
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  /** The per-text form, as the send path read it for each text: the Text OK, then consentRefusal. */
  const perText = async (c: Case): Promise<OfficeError | null> => {
    const textOk = c.patientId === null ? await textOkOfNumber(db.knex, c.phoneKey)
      : rowsOf<{ text_ok: TextOk }>(await db.knex.raw('SELECT text_ok FROM patients WHERE patient_id = ?', [c.patientId]))[0]?.text_ok ?? null;
    return consentRefusal(db.knex, { phone: c.phone, phoneKey: c.phoneKey, textOk, purpose: c.purpose, unknownTextOk: c.unknownTextOk });
  };

  /** The batch form, for all the cases at once; and the statements it ran. */
  const batch = async (cases: readonly Case[]): Promise<{ refusals: Array<OfficeError | null>; statements: string[] }> => {
    const statements: string[] = [];
    const onQuery = (x: { sql: string }): void => void statements.push(x.sql);
    db.knex.on('query', onQuery);
    try {
      const textOks = await textOksOf(db.knex, cases.map((c) => ({ patientId: c.patientId, phoneKey: c.phoneKey })));
      const questions: ConsentQuestion[] = cases.map((c, i) => ({ phone: c.phone, phoneKey: c.phoneKey, textOk: textOks[i]!, purpose: c.purpose, unknownTextOk: c.unknownTextOk }));
      return { refusals: await consentRefusals(db.knex, questions), statements };
    } finally {
      db.knex.off('query', onQuery);
    }
  };

  it('gives every text of the table the per-text answer, reading the whole batch in four statements', async () => {
    const expected = [];
    for (const c of CASES) expected.push({ what: c.what, answer: answer(await perText(c)) });
    const { refusals, statements } = await batch(CASES);
    expect(CASES.map((c, i) => ({ what: c.what, answer: answer(refusals[i]!) }))).toEqual(expected);
    // The table reaches every answer the rules have.
    expect(new Set(expected.map((e) => e.answer?.code ?? 'sent'))).toEqual(new Set(['sent', 'opted_out', 'blocked', 'text_not_ok', 'text_ok_unknown']));
    // Patients by id, numbers' patients, opt-outs, blocked numbers: once each for the batch.
    expect(statements).toHaveLength(4);
  });

  it('gives each text the same answer alone, and reads nothing for STOP and START confirmations', async () => {
    for (const c of CASES.filter((_, i) => i % 7 === 0)) {
      const { refusals } = await batch([c]);
      expect({ what: c.what, answer: answer(refusals[0]!) }).toEqual({ what: c.what, answer: answer(await perText(c)) });
    }
    // Confirmations go whatever the consent: no read, even for opted-out and blocked numbers.
    const confirmations: ConsentQuestion[] = CASES.filter((c) => c.purpose === 'stop_confirmation' || c.purpose === 'start_confirmation')
      .map((c) => ({ phone: c.phone, phoneKey: c.phoneKey, textOk: 'no', purpose: c.purpose, unknownTextOk: 'refuse' }));
    const statements: string[] = [];
    const onQuery = (x: { sql: string }): void => void statements.push(x.sql);
    db.knex.on('query', onQuery);
    try {
      expect(await consentRefusals(db.knex, confirmations)).toEqual(confirmations.map(() => null));
    } finally {
      db.knex.off('query', onQuery);
    }
    expect(statements).toEqual([]);
  });
});
