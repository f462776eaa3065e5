/**
 * GET /status/history: the office's texting usage of the last N months (oldest first), every
 * clinic together, against the monthly limit. ONE statement over monthly_usage (its primary key
 * starts with the month, so the range is an index range) joined to the limit setting; months
 * without a row are zeros. The limit is today's: HQ's account gives only the current one.
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../db/bulk-sql';
import { SETTING_MONTHLY_LIMIT_MICROS } from '../db/store/settings';
import { formatMicros, microsFromDb } from '../money';
import type { MonthKey } from '../usage/month';
import type { UsageHistory } from './status-document';

export const HISTORY_MONTHS_DEFAULT = 12;
export const HISTORY_MONTHS_MAX = 36;

/** The `count` month keys ending with `last`, oldest first ('2026-12', 3 -> 2026-10, 2026-11, 2026-12). */
export function monthsEndingWith(last: MonthKey, count: number): MonthKey[] {
  const [y, m] = last.split('-').map(Number) as [number, number];
  const end = y * 12 + (m - 1);
  const out: MonthKey[] = [];
  for (let i = end - count + 1; i <= end; i++) out.push(`${String(Math.floor(i / 12)).padStart(4, '0')}-${String((i % 12) + 1).padStart(2, '0')}`);
  return out;
}

const HISTORY_SQL = `
  SELECT f.limit_micros, u.month, u.sent_count, u.sent_micros, u.received_count, u.received_micros
    FROM (SELECT (SELECT value FROM settings WHERE key = ?) AS limit_micros) f
    LEFT JOIN (SELECT month, SUM(sent_count) AS sent_count, CAST(SUM(sent_charge_micros) AS TEXT) AS sent_micros,
                      SUM(received_count) AS received_count, CAST(SUM(received_charge_micros) AS TEXT) AS received_micros
                 FROM monthly_usage
                WHERE month >= ? AND month <= ?
                GROUP BY month) u ON 1 = 1`;

interface HistoryRow {
  limit_micros: string | null;
  month: string | null;
  sent_count: number | string | null;
  sent_micros: number | string | null;
  received_count: number | string | null;
  received_micros: number | string | null;
}

export async function readUsageHistory(knex: Knex, last: MonthKey, count: number, timezone: string): Promise<UsageHistory> {
  const keys = monthsEndingWith(last, count);
  const rows = rowsOf<HistoryRow>(await knex.raw(HISTORY_SQL, [SETTING_MONTHLY_LIMIT_MICROS, keys[0]!, keys[keys.length - 1]!]));
  const limitMicros = rows[0]?.limit_micros == null ? null : microsFromDb(rows[0].limit_micros);
  const byMonth = new Map(rows.filter((r) => r.month !== null).map((r) => [r.month!, r]));
  return {
    timezone,
    limitUsd: limitMicros === null ? null : formatMicros(limitMicros),
    months: keys.map((month) => {
      const r = byMonth.get(month);
      // Sums read as text and added as bigint: exact past 2^53 micro-dollars, as /status is.
      const sent = microsFromDb(r?.sent_micros);
      const received = microsFromDb(r?.received_micros);
      const charges = sent + received;
      return {
        month,
        sentCount: Number(r?.sent_count ?? 0),
        sentChargesUsd: formatMicros(sent),
        receivedCount: Number(r?.received_count ?? 0),
        receivedChargesUsd: formatMicros(received),
        chargesUsd: formatMicros(charges),
        overLimit: limitMicros !== null && charges >= limitMicros,
      };
    }),
  };
}
