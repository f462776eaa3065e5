/**
 * The office's texting settings (docs/texting-services.md): the default texting clinic (at most one), the
 * per-clinic opt-in preferences (OptIn Office Title, Prompt for OptIn) and the practice title the
 * opt-in title falls back to. Saving settings that did not change writes nothing and says so.
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import { readSetting, SETTING_DEFAULT_CLINIC_ID, SETTING_PRACTICE_TITLE, writeSetting } from '../db/store/settings';
import { OfficeError } from './errors';

/** The opt-in title when neither the clinic nor the practice has one. */
export const FALLBACK_TITLE = 'Your Dentist';
export const MAX_TITLE_LENGTH = 100;

interface ClinicSettingsRow {
  clinic_id: number;
  in_account: number | boolean;
  optin_title: string | null;
  prompt_optin: number | boolean;
}

export interface ChangeResult<T> {
  changed: boolean;
  warning?: string;
  value: T;
}

const unknownClinic = (field: string): OfficeError =>
  new OfficeError(404, 'unknown_clinic', 'no clinic of this office has that id (clinics come from HQ\'s account)', field);

/** A clinic row, when the clinic is one of the office's (listed by HQ's account). */
async function officeClinic(knex: Knex, clinicId: number): Promise<ClinicSettingsRow | null> {
  const row = rowsOf<ClinicSettingsRow>(await knex.raw(
    'SELECT clinic_id, in_account, optin_title, prompt_optin FROM clinics WHERE clinic_id = ?', [clinicId]))[0];
  return row && Boolean(row.in_account) ? row : null;
}

/** Blank or whitespace-only titles are no title. */
export function cleanTitle(title: string | null): string | null {
  const t = title?.trim() ?? '';
  return t === '' ? null : t;
}

export function titleInEffect(clinicTitle: string | null, practiceTitle: string | null): string {
  return cleanTitle(clinicTitle) ?? cleanTitle(practiceTitle) ?? FALLBACK_TITLE;
}

// ---- default texting clinic -----------------------------------------------------------------

export async function getDefaultClinicId(knex: Knex): Promise<number | null> {
  const value = await readSetting(knex, SETTING_DEFAULT_CLINIC_ID);
  return value === null ? null : Number(value);
}

/** Sets (or with null clears) the default texting clinic: one setting, so at most one default. */
export async function setDefaultClinicId(knex: Knex, clinicId: number | null, now: number = Date.now()): Promise<ChangeResult<number | null>> {
  return knex.transaction(async (trx) => {
    if (clinicId !== null && !(await officeClinic(trx, clinicId))) throw unknownClinic('clinicId');
    const before = await getDefaultClinicId(trx);
    if (before === clinicId) {
      return {
        changed: false,
        warning: clinicId === null ? 'No default texting clinic was set; nothing changed.' : `Clinic ${clinicId} is already the default texting clinic; nothing changed.`,
        value: before,
      };
    }
    await writeSetting(trx, SETTING_DEFAULT_CLINIC_ID, clinicId === null ? null : String(clinicId), now);
    return { changed: true, value: clinicId };
  });
}

// ---- practice title -------------------------------------------------------------------------

export async function getPracticeTitle(knex: Knex): Promise<string | null> {
  return readSetting(knex, SETTING_PRACTICE_TITLE);
}

export async function setPracticeTitle(knex: Knex, title: string | null, now: number = Date.now()): Promise<ChangeResult<string | null>> {
  const clean = cleanTitle(title);
  return knex.transaction(async (trx) => {
    const before = await getPracticeTitle(trx);
    if (before === clean) return { changed: false, warning: 'The practice title did not change; nothing was saved.', value: before };
    await writeSetting(trx, SETTING_PRACTICE_TITLE, clean, now);
    return { changed: true, value: clean };
  });
}

// ---- opt-in preferences per clinic ----------------------------------------------------------

export interface OptinSettings {
  clinicId: number;
  /** As stored: null when blank. */
  optinTitle: string | null;
  /** The title the opt-in text uses: the clinic's, else the practice's, else "Your Dentist". */
  titleInEffect: string;
  promptForOptin: boolean;
}

export async function getOptin(knex: Knex, clinicId: number): Promise<OptinSettings> {
  const row = await officeClinic(knex, clinicId);
  if (!row) throw unknownClinic('id');
  const practice = await getPracticeTitle(knex);
  return { clinicId, optinTitle: row.optin_title, titleInEffect: titleInEffect(row.optin_title, practice), promptForOptin: Boolean(row.prompt_optin) };
}

export async function setOptin(
  knex: Knex,
  clinicId: number,
  wanted: { optinTitle: string | null; promptForOptin: boolean },
  now: number = Date.now(),
): Promise<ChangeResult<OptinSettings>> {
  const title = cleanTitle(wanted.optinTitle);
  return knex.transaction(async (trx) => {
    const before = await getOptin(trx, clinicId);
    if (before.optinTitle === title && before.promptForOptin === wanted.promptForOptin) {
      return { changed: false, warning: 'The opt-in settings did not change; nothing was saved.', value: before };
    }
    await trx.raw('UPDATE clinics SET optin_title = ?, prompt_optin = ?, updated_at = ? WHERE clinic_id = ?', [title, wanted.promptForOptin, now, clinicId]);
    return { changed: true, value: await getOptin(trx, clinicId) };
  });
}
