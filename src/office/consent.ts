/**
 * Whether a text may go to a number: the one place where the consent rules live, used when the
 * office asks for a text (POST /api/messages, the opt-in request) and again when the send worker
 * hands a queued text to HQ (a STOP, or a Text OK set to No, may have come in between).
 *
 * | purpose                                  | opted out | blocked | Text OK No | Text OK unknown       |
 * | ---------------------------------------- | --------- | ------- | ---------- | --------------------- |
 * | a text the office wrote, the opt-in text | refused   | refused | refused    | refused with `refuse` |
 * | the automatic HELP answer                | refused   | refused | sent       | sent                  |
 * | STOP and START confirmations             | sent      | sent    | sent       | sent                  |
 *
 * The confirmations are what the carriers require after a STOP or a START, so nothing stops
 * them; a HELP answer is not owed to a number that said STOP, nor to one the office blocked
 * (conversations.ts). `texting.unknownTextOk` (`allow`, the default, or `refuse`: "treat ?? as
 * No") is judged when the text is asked for.
 *
 * Two forms give the same answers: one text (consentRefusal, textOkOfNumber), and many at once
 * (consentRefusals, textOksOf), which reads all their numbers and patients in a few statements:
 * what a send batch uses (src/office/send.ts), so that its texts do not each wait for the one
 * connection behind the page being written. test/office/consent-batch.test.ts holds them to
 * each other.
 */
import type { Knex } from '@mikro-orm/knex';
import type { UnknownTextOkPolicy } from '../config/types';
import { rowsOf, selectIn } from '../db/bulk-sql';
import { blockedKeysOf } from './conversations';
import { OfficeError } from './errors';
import { phoneMatchKey } from './phone';
import type { TextOk } from './text-ok';
import { allowedWhenOptedOut, type Purpose } from './purpose';

export interface ConsentQuestion {
  /** The recipient, E.164. */
  phone: string;
  /** Its phone key (phone.ts). */
  phoneKey: string;
  /** The patient's Text OK, or null when the text names no patient. */
  textOk: TextOk | null;
  purpose: Purpose | null;
  /** null: not judged (at hand-off, the policy was judged when the text was asked for). */
  unknownTextOk: UnknownTextOkPolicy | null;
}

export async function isOptedOut(knex: Knex | Knex.Transaction, phoneKey: string): Promise<boolean> {
  const row = rowsOf<{ opted_out: number | boolean }>(await knex.raw('SELECT opted_out FROM opt_outs WHERE phone_key = ?', [phoneKey]))[0];
  return row !== undefined && Boolean(row.opted_out);
}

/** The refusal of a text, or null when it may go. Errors name the field, never the number. */
export async function consentRefusal(knex: Knex | Knex.Transaction, q: ConsentQuestion): Promise<OfficeError | null> {
  if (allowedWhenOptedOut(q.purpose)) return null;
  if (await isOptedOut(knex, q.phoneKey)) return refusalOf(q, { optedOut: true, blocked: false });
  return refusalOf(q, { optedOut: false, blocked: (await blockedKeysOf(knex, [q.phone])).size > 0 });
}

/**
 * consentRefusal for many texts at once (a send batch, src/office/send.ts), with the same answer
 * for each, in the same order: one read of the opt-outs and one of the blocked numbers for all
 * their numbers, instead of up to two reads per text, each waiting its turn for the connection.
 */
export async function consentRefusals(knex: Knex | Knex.Transaction, questions: readonly ConsentQuestion[]): Promise<Array<OfficeError | null>> {
  // STOP and START confirmations go whatever the consent: their numbers need no read.
  const judged = questions.filter((q) => !allowedWhenOptedOut(q.purpose));
  const keys = [...new Set(judged.map((q) => q.phoneKey))];
  const optedOut = new Set(
    (await selectIn<{ phone_key: string; opted_out: number | boolean }>(knex, 'SELECT phone_key, opted_out FROM opt_outs WHERE phone_key IN {in}', keys))
      .filter((r) => Boolean(r.opted_out)).map((r) => r.phone_key),
  );
  // Blocked numbers are matched by the key of the phone itself, as consentRefusal matches them.
  const blocked = await blockedKeysOf(knex, judged.filter((q) => !optedOut.has(q.phoneKey)).map((q) => q.phone));
  return questions.map((q) => {
    const key = phoneMatchKey(q.phone);
    return refusalOf(q, { optedOut: optedOut.has(q.phoneKey), blocked: key !== null && blocked.has(key) });
  });
}

/** The rule itself, on the facts read about the text's number. */
function refusalOf(q: ConsentQuestion, number: { optedOut: boolean; blocked: boolean }): OfficeError | null {
  if (allowedWhenOptedOut(q.purpose)) return null;
  if (number.optedOut) {
    return new OfficeError(409, 'opted_out', 'the number has opted out of texts (it replied STOP); only a START from it opts it back in', 'toPhone');
  }
  if (number.blocked) {
    return new OfficeError(409, 'blocked', 'the office has blocked this number: unblock it to text it', 'toPhone');
  }
  if (q.purpose === 'help_reply') return null;
  if (q.textOk === 'no') {
    return new OfficeError(409, 'text_not_ok', 'the patient\'s Text OK is No: the office may not text this patient', 'patientId');
  }
  if (q.textOk === 'unknown' && q.unknownTextOk === 'refuse') {
    return new OfficeError(409, 'text_ok_unknown', 'the patient\'s Text OK is unknown, and this office treats unknown as No (texting.unknownTextOk is "refuse")', 'patientId');
  }
  return null;
}

/**
 * Text OK of a number sent to without a patient: 'no' when it belongs to patients and every one
 * of them has Text OK = No (a text to the number reaches only people who said no), else null
 * (the number's other rules still apply). Without it, leaving patientId out got around Text OK.
 */
export async function textOkOfNumber(knex: Knex | Knex.Transaction, phoneKey: string): Promise<TextOk | null> {
  const rows = rowsOf<{ text_ok: TextOk }>(await knex.raw('SELECT DISTINCT text_ok FROM patients WHERE phone_key = ?', [phoneKey]));
  return numberTextOk(rows.map((r) => r.text_ok));
}

function numberTextOk(textOks: readonly TextOk[]): TextOk | null {
  return textOks.length > 0 && textOks.every((t) => t === 'no') ? 'no' : null;
}

/** A queued text's recipient, for its Text OK: the patient it names, else its number. */
export interface Recipient {
  patientId: number | null;
  phoneKey: string;
}

/**
 * The Text OK of each recipient, in order: its patient's (null for a patient id no patient has),
 * or for a text that names no patient, its number's (textOkOfNumber). One read of the patients
 * named and one of the numbers, for all of them.
 */
export async function textOksOf(knex: Knex | Knex.Transaction, recipients: readonly Recipient[]): Promise<Array<TextOk | null>> {
  const ids = [...new Set(recipients.flatMap((r) => (r.patientId === null ? [] : [Number(r.patientId)])))];
  const keys = [...new Set(recipients.flatMap((r) => (r.patientId === null ? [r.phoneKey] : [])))];
  const byPatient = new Map<number, TextOk>();
  for (const r of await selectIn<{ patient_id: number | string; text_ok: TextOk }>(knex, 'SELECT patient_id, text_ok FROM patients WHERE patient_id IN {in}', ids)) {
    byPatient.set(Number(r.patient_id), r.text_ok);
  }
  const byNumber = new Map<string, TextOk[]>();
  for (const r of await selectIn<{ phone_key: string; text_ok: TextOk }>(knex, 'SELECT DISTINCT phone_key, text_ok FROM patients WHERE phone_key IN {in}', keys)) {
    byNumber.set(r.phone_key, [...(byNumber.get(r.phone_key) ?? []), r.text_ok]);
  }
  return recipients.map((r) => (r.patientId === null ? numberTextOk(byNumber.get(r.phoneKey) ?? []) : byPatient.get(Number(r.patientId)) ?? null));
}
