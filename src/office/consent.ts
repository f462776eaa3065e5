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
 */
import type { Knex } from '@mikro-orm/knex';
import type { UnknownTextOkPolicy } from '../config/types';
import { rowsOf } from '../db/bulk-sql';
import { blockedKeysOf } from './conversations';
import { OfficeError } from './errors';
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
  if (await isOptedOut(knex, q.phoneKey)) {
    return new OfficeError(409, 'opted_out', 'the number has opted out of texts (it replied STOP); only a START from it opts it back in', 'toPhone');
  }
  if ((await blockedKeysOf(knex, [q.phone])).size > 0) {
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
