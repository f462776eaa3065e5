/**
 * Editing one patient (PUT /api/patients/:id), checked as the CSV import checks a row
 * (patients.ts): a name of 1 to 200 characters, a wireless phone in E.164 or North American form
 * (null clears it), a clinic of the office (null or 0: none), a guarantor who is a patient (null:
 * the patient themself), Text OK yes / no / unknown. In one transaction with the change: its
 * commlog row (a Text OK change), the opt-in suggestion (optin.ts), and the replies of the numbers
 * concerned matched again (rematch.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import { appendCommlog, COMMLOG_KEYS } from '../db/commlog';
import { invalid, OfficeError } from './errors';
import { optinSuggested, promptForOptinByClinic } from './optin';
import { knownClinicIds, nameKeyOf } from './patients';
import type { TextOk } from './text-ok';
import { patientView, readPatientRow, type PatientView } from './patient-view';
import { phoneMatchKey } from './phone';
import { rematchReplies } from './rematch';

/** What a PUT may change; absent fields stay as they are. Values are already shape-checked (E.164 phone). */
export interface PatientChanges {
  name?: string;
  wirelessPhone?: string | null;
  clinicId?: number | null;
  guarantorId?: number | null;
  textOk?: TextOk;
}

export interface PatientUpdate {
  changed: boolean;
  warning?: string;
  patient: PatientView;
  /** Replies that now belong to another patient (matched again after the change). */
  rematched: number;
}

export async function updatePatient(knex: Knex, patientId: number, changes: PatientChanges, now: number = Date.now()): Promise<PatientUpdate> {
  return knex.transaction(async (trx) => {
    // A write first (takes SQLite's write lock before the checks read anything).
    await trx.raw('UPDATE patients SET updated_at = updated_at WHERE patient_id = ?', [patientId]);
    const before = await readPatientRow(trx, patientId);
    if (!before) throw new OfficeError(404, 'unknown_patient', 'no patient has that id', 'id');

    const name = changes.name ?? before.name;
    const wirelessPhone = changes.wirelessPhone === undefined ? before.wireless_phone : changes.wirelessPhone;
    const phoneKey = wirelessPhone === null ? null : phoneMatchKey(wirelessPhone);
    const clinicId = changes.clinicId === undefined ? (before.clinic_id === null ? null : Number(before.clinic_id)) : changes.clinicId;
    const guarantorId = changes.guarantorId === undefined ? Number(before.guarantor_id) : changes.guarantorId ?? patientId;
    const textOk = changes.textOk ?? before.text_ok;

    if (changes.clinicId != null) {
      const clinics = await knownClinicIds(trx);
      if (clinics !== null && !clinics.has(changes.clinicId)) throw invalid('clinicId', `clinic ${changes.clinicId} is not a clinic of this office`);
    }
    if (changes.guarantorId != null && changes.guarantorId !== patientId) {
      const found = rowsOf(await trx.raw('SELECT patient_id FROM patients WHERE patient_id = ?', [changes.guarantorId]));
      if (found.length === 0) throw invalid('guarantorId', `guarantor ${changes.guarantorId} is not a patient`);
    }

    const beforeClinic = before.clinic_id === null ? null : Number(before.clinic_id);
    const same = name === before.name && wirelessPhone === before.wireless_phone && clinicId === beforeClinic
      && guarantorId === Number(before.guarantor_id) && textOk === before.text_ok;
    if (same) return { changed: false, warning: 'The patient did not change; nothing was saved.', patient: patientView(before), rematched: 0 };

    const change = `put:${now}:${randomUUID()}`;
    const prompt = await promptForOptinByClinic(trx);
    const suggest = optinSuggested({ phoneKey: before.phone_key, textOk: before.text_ok }, { phoneKey, textOk }, prompt(clinicId));
    await trx.raw(
      `UPDATE patients SET name = ?, name_key = ?, wireless_phone = ?, phone_key = ?, clinic_id = ?, guarantor_id = ?, text_ok = ?, updated_at = ?
         ${suggest ? ', optin_status = ?, optin_at = ?, optin_guid = NULL' : ''} WHERE patient_id = ?`,
      [name, nameKeyOf(name), wirelessPhone, phoneKey, clinicId, guarantorId, textOk, now, ...(suggest ? ['suggested', now] : []), patientId]);
    if (textOk !== before.text_ok) {
      await appendCommlog(trx, [{
        eventKey: COMMLOG_KEYS.textOkByOffice(change, patientId), at: now, kind: 'text_ok_changed', patientId, clinicId, phone: wirelessPhone,
        summary: `Text OK changed from ${before.text_ok} to ${textOk} by the office`,
      }]);
    }
    // Matching depends on the number, the clinic and the guarantor: the replies of the old and the
    // new number are matched again when any of them changed.
    const matchingChanged = phoneKey !== before.phone_key || clinicId !== beforeClinic || guarantorId !== Number(before.guarantor_id);
    const rematched = matchingChanged ? await rematchReplies(trx, [before.phone_key, phoneKey], change, now) : 0;

    const after = (await readPatientRow(trx, patientId))!;
    const optedOut = Boolean(after.opted_out);
    return {
      changed: true,
      ...(optedOut && textOk === 'yes'
        ? { warning: 'The patient\'s number has opted out (it replied STOP): texts to it stay refused until it replies START; the office cannot opt it back in.' }
        : {}),
      patient: patientView(after),
      rematched,
    };
  });
}
