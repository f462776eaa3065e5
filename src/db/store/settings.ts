/**
 * The office-wide settings table: one value per key, written by whichever module owns the fact
 * (the account sync, the office API, the daemon's start-up) and read by every layer above.
 */
import type { Knex } from '@mikro-orm/knex';
import { insertRows, rowsOf } from '../bulk-sql';

/** HQ's monthly texting limit for the office, in micro-dollars (from the account sync). */
export const SETTING_MONTHLY_LIMIT_MICROS = 'monthly_limit_micros';
/** HQ's id of the office (from the account sync). */
export const SETTING_OFFICE_ID = 'office_id';
/** The default texting clinic, at most one (set through the office API). */
export const SETTING_DEFAULT_CLINIC_ID = 'default_clinic_id';
/** The practice title the opt-in text falls back to (set through the office API). */
export const SETTING_PRACTICE_TITLE = 'practice_title';
/** The zone the monthly aggregates were bucketed in: a change re-buckets every month. */
export const SETTING_USAGE_TZ = 'usage_tz';

export type SettingKey =
  | typeof SETTING_MONTHLY_LIMIT_MICROS
  | typeof SETTING_OFFICE_ID
  | typeof SETTING_DEFAULT_CLINIC_ID
  | typeof SETTING_PRACTICE_TITLE
  | typeof SETTING_USAGE_TZ;

export async function readSetting(knex: Knex | Knex.Transaction, key: SettingKey): Promise<string | null> {
  const row = rowsOf<{ value: string }>(await knex.raw('SELECT value FROM settings WHERE key = ?', [key]))[0];
  return row?.value ?? null;
}

/** Stores a setting, or with null removes it. */
export async function writeSetting(knex: Knex | Knex.Transaction, key: SettingKey, value: string | null, now: number = Date.now()): Promise<void> {
  if (value === null) await knex.raw('DELETE FROM settings WHERE key = ?', [key]);
  else await insertRows(knex, 'settings', ['key', 'value', 'updated_at'], [[key, value, now]],
    'ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at');
}
