/**
 * Builds the /status document (CONTRACT.md §3) from precomputed rows only: monthly_usage for the
 * month, the clinics table, settings and stream_state. It never scans messages, so it stays fast
 * whatever the size of the database.
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import { SETTING_MONTHLY_LIMIT_MICROS } from '../ingest/account';
import { readStreamStates } from '../ingest/stream-state';
import { formatMicros } from '../money';
import type { MonthKey } from '../usage/month';

export const SETTING_DEFAULT_CLINIC_ID = 'default_clinic_id';

export interface ClinicUsage {
  clinicId: number;
  name: string | null;
  isDefault: boolean;
  subscribed: boolean;
  primaryPhone: string | null;
  countryCode: string | null;
  sentCount: number;
  sentChargesUsd: string;
  receivedCount: number;
  receivedChargesUsd: string;
}

export interface StatusDocument {
  month: MonthKey;
  timezone: string;
  limitUsd: string | null;
  overLimit: boolean;
  defaultClinicId: number | null;
  totals: { sentCount: number; sentChargesUsd: string; receivedCount: number; receivedChargesUsd: string; chargesUsd: string };
  clinics: ClinicUsage[];
  econnector: {
    lastReceiptsPollAt: string | null;
    lastInboundPollAt: string | null;
    lastAccountSyncAt: string | null;
    aggregatesComputedAt: string | null;
    quarantined: number;
  };
}

interface ClinicRow {
  clinic_id: number;
  name: string | null;
  subscribed: number | boolean;
  primary_phone: string | null;
  country_code: string | null;
  in_account: number | boolean;
  sent_count: number | null;
  sent_charge_micros: number | string | null;
  received_count: number | null;
  received_charge_micros: number | string | null;
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());

export async function readSetting(knex: Knex, key: string): Promise<string | null> {
  const row = rowsOf<{ value: string }>(await knex.raw('SELECT value FROM settings WHERE key = ?', [key]))[0];
  return row?.value ?? null;
}

export async function buildStatus(knex: Knex, month: MonthKey, timezone: string): Promise<StatusDocument> {
  const [rows, limitSetting, defaultSetting, streams, quarantine] = await Promise.all([
    knex.raw(
      `SELECT c.clinic_id, c.name, c.subscribed, c.primary_phone, c.country_code, c.in_account,
              u.sent_count, u.sent_charge_micros, u.received_count, u.received_charge_micros
         FROM clinics c LEFT JOIN monthly_usage u ON u.clinic_id = c.clinic_id AND u.month = ?
        WHERE c.in_account = ? OR c.seen_in_traffic = ?
        ORDER BY c.clinic_id`,
      [month, true, true],
    ),
    readSetting(knex, SETTING_MONTHLY_LIMIT_MICROS),
    readSetting(knex, SETTING_DEFAULT_CLINIC_ID),
    readStreamStates(knex),
    knex.raw('SELECT COUNT(*) AS n FROM quarantine'),
  ]);
  const defaultClinicId = defaultSetting === null ? null : Number(defaultSetting);

  let sentCount = 0, sentMicros = 0, receivedCount = 0, receivedMicros = 0;
  const clinics = rowsOf<ClinicRow>(rows).map((r): ClinicUsage => {
    const inAccount = Boolean(r.in_account);
    const s = Number(r.sent_count ?? 0), sm = Number(r.sent_charge_micros ?? 0);
    const rc = Number(r.received_count ?? 0), rm = Number(r.received_charge_micros ?? 0);
    sentCount += s; sentMicros += sm; receivedCount += rc; receivedMicros += rm;
    return {
      clinicId: Number(r.clinic_id),
      // A clinic HQ's account does not list is known only from traffic: no name, not subscribed.
      name: inAccount ? r.name : null,
      isDefault: defaultClinicId === Number(r.clinic_id),
      subscribed: inAccount && Boolean(r.subscribed),
      primaryPhone: inAccount ? r.primary_phone : null,
      countryCode: inAccount ? r.country_code : null,
      sentCount: s,
      sentChargesUsd: formatMicros(sm),
      receivedCount: rc,
      receivedChargesUsd: formatMicros(rm),
    };
  });
  const limitMicros = limitSetting === null ? null : Number(limitSetting);
  const chargesMicros = sentMicros + receivedMicros;
  return {
    month,
    timezone,
    limitUsd: limitMicros === null ? null : formatMicros(limitMicros),
    overLimit: limitMicros !== null && chargesMicros >= limitMicros,
    defaultClinicId,
    totals: {
      sentCount,
      sentChargesUsd: formatMicros(sentMicros),
      receivedCount,
      receivedChargesUsd: formatMicros(receivedMicros),
      chargesUsd: formatMicros(chargesMicros),
    },
    clinics,
    econnector: {
      lastReceiptsPollAt: iso(streams.get('receipts')?.lastOkAt),
      lastInboundPollAt: iso(streams.get('inbound')?.lastOkAt),
      lastAccountSyncAt: iso(streams.get('account')?.lastOkAt),
      aggregatesComputedAt: iso(streams.get('aggregates')?.lastOkAt),
      quarantined: Number(rowsOf<{ n: number | string }>(quarantine)[0]?.n ?? 0),
    },
  };
}
