/**
 * Prompt for OptIn (docs/texting-services.md): when a patient's clinic has the box checked, a
 * change that gives a Text OK Yes patient a new wireless number, or turns Text OK to Yes, calls for
 * asking the patient: the patient's opt-in state becomes 'suggested', and the office may send the
 * opt-in text (requestOptin). The patient's answer is recorded by inbound.ts: YES, START or OPTIN
 * confirms (Text OK Yes), STOP declines (Text OK No). With the box unchecked nothing is suggested
 * and the change stands as given: the office must obtain consent itself.
 *
 * A patient without a clinic is texted from the default texting clinic, so that clinic's box
 * counts for them.
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import type { MonthBucketer } from '../usage/month';
import { OfficeError } from './errors';
import { optinRequestText } from './help-reply';
import type { TextOk } from './text-ok';
import { readPatient, readPatientRow, type PatientView } from './patient-view';
import { recordOfficeText, type SendOptions, type SentMessage } from './send';
import { getDefaultClinicId, getPracticeTitle, titleInEffect } from './settings';

/** At most one opt-in text per patient in this long. */
export const OPTIN_REQUEST_INTERVAL_MS = 24 * 3_600_000;

export interface ConsentFacts {
  phoneKey: string | null;
  textOk: TextOk;
}

/**
 * True when a change from `before` (null: a new patient) to `after` calls for asking the patient,
 * given whether their clinic prompts for opt-in.
 */
export function optinSuggested(before: ConsentFacts | null, after: ConsentFacts, promptForOptin: boolean): boolean {
  if (!promptForOptin || after.textOk !== 'yes' || after.phoneKey === null) return false;
  return before === null || before.phoneKey !== after.phoneKey || before.textOk !== 'yes';
}

/** The clinic a patient is texted from: their own, else the default texting clinic (null: none). */
export async function textingClinicOf(trx: Knex | Knex.Transaction, clinicId: number | null): Promise<number | null> {
  return clinicId ?? (await getDefaultClinicId(trx));
}

/** Prompt for OptIn of each clinic (true, the column's default, for a clinic not known yet). */
export async function promptForOptinByClinic(trx: Knex | Knex.Transaction): Promise<(clinicId: number | null) => boolean> {
  const byClinic = new Map<number, boolean>();
  for (const r of rowsOf<{ clinic_id: number; prompt_optin: number | boolean }>(await trx.raw('SELECT clinic_id, prompt_optin FROM clinics'))) {
    byClinic.set(Number(r.clinic_id), Boolean(r.prompt_optin));
  }
  const fallback = await getDefaultClinicId(trx);
  return (clinicId) => {
    const texting = clinicId ?? fallback;
    return texting === null ? false : byClinic.get(texting) ?? true;
  };
}

export interface OptinRequestResult {
  patient: PatientView;
  message: SentMessage;
}

/**
 * Sends the opt-in text to a patient (POST /api/patients/:id/optin-request): from the patient's
 * clinic, else the default texting clinic, through the same checks as any text (consent.ts, the
 * monthly limit). 404 for an unknown patient, 409 when the patient has no wireless number or was
 * asked less than a day ago.
 */
export async function requestOptin(
  knex: Knex,
  months: MonthBucketer,
  patientId: number,
  opts: SendOptions,
  now: number = months.now(),
): Promise<OptinRequestResult> {
  return knex.transaction(async (trx) => {
    // A write first (takes SQLite's write lock before the checks read anything).
    await trx.raw('UPDATE patients SET optin_requested_at = optin_requested_at WHERE patient_id = ?', [patientId]);
    const row = await readPatientRow(trx, patientId);
    if (!row) throw new OfficeError(404, 'unknown_patient', 'no patient has that id', 'id');
    if (row.wireless_phone === null) throw new OfficeError(409, 'no_wireless_phone', 'the patient has no wireless phone to text', 'wirelessPhone');
    const last = row.optin_requested_at === null ? null : Number(row.optin_requested_at);
    if (last !== null && now - last < OPTIN_REQUEST_INTERVAL_MS) {
      throw new OfficeError(409, 'optin_recently_requested',
        `the opt-in text was sent to this patient less than 24 hours ago; the next may be sent from ${new Date(last + OPTIN_REQUEST_INTERVAL_MS).toISOString()}`);
    }
    const clinicId = await textingClinicOf(trx, row.clinic_id === null ? null : Number(row.clinic_id));
    if (clinicId === null) throw new OfficeError(409, 'no_clinic', 'the patient has no clinic and no default texting clinic is set', 'clinicId');
    const clinicTitle = rowsOf<{ optin_title: string | null }>(await trx.raw('SELECT optin_title FROM clinics WHERE clinic_id = ?', [clinicId]))[0]?.optin_title ?? null;
    const body = optinRequestText(titleInEffect(clinicTitle, await getPracticeTitle(trx)));
    const message = await recordOfficeText(trx, months, { clinicId, patientId, toPhone: row.wireless_phone, body, purpose: 'optin_request' }, opts, now);
    await trx.raw('UPDATE patients SET optin_status = ?, optin_at = ?, optin_guid = ?, optin_requested_at = ? WHERE patient_id = ?',
      ['sent', now, message.guid, now, patientId]);
    return { patient: (await readPatient(trx, patientId))!, message };
  });
}
