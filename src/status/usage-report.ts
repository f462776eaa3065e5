/**
 * Builds the /status document (docs/texting-services.md, "The usage grid") from precomputed rows only: monthly_usage for the
 * month, the clinics table, settings and stream_state. It never scans messages, so it stays fast
 * whatever the size of the database.
 */
import type { Knex } from '@mikro-orm/knex';
import { isSqlite, rowsOf } from '../db/bulk-sql';
import { SETTING_DEFAULT_CLINIC_ID, SETTING_MONTHLY_LIMIT_MICROS } from '../db/store/settings';
import { catchUpStatus } from '../ingest/catch-up';
import { formatMicros, microsFromDb } from '../money';
import type { MonthKey } from '../usage/month';
import type { ClinicUsage, StatusDocument } from './status-document';


interface ClinicRow {
  clinic_id: number | null;
  name: string | null;
  subscribed: number | boolean;
  primary_phone: string | null;
  country_code: string | null;
  in_account: number | boolean;
  sent_count: number | null;
  sent_charge_micros: number | string | null;
  received_count: number | null;
  received_charge_micros: number | string | null;
  unread: number | string | null;
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());

interface StatusRow extends ClinicRow {
  limit_micros: string | null;
  default_clinic: string | null;
  receipts_at: number | string | null;
  inbound_at: number | string | null;
  account_at: number | string | null;
  aggregates_at: number | string | null;
  quarantined: number | string;
  receipts_catch_up_at: number | string | null;
  receipts_rate: number | string | null;
  inbound_catch_up_at: number | string | null;
  inbound_rate: number | string | null;
}

/**
 * Everything /status shows, in ONE statement: a one-row derived table of the office-wide facts
 * (settings, the streams' last good polls, the quarantine count) joined with each clinic and its
 * usage row for the month. One round trip to the database instead of five: on SQLite through the
 * async driver each round trip is a thread hop, and five of them queued behind one another were
 * most of a request's time.
 */
const STATUS_SQL = `
  SELECT c.clinic_id, c.name, c.subscribed, c.primary_phone, c.country_code, c.in_account,
         u.sent_count, CAST(u.sent_charge_micros AS TEXT) AS sent_charge_micros,
         u.received_count, CAST(u.received_charge_micros AS TEXT) AS received_charge_micros, n.unread,
         f.limit_micros, f.default_clinic, f.receipts_at, f.inbound_at, f.account_at, f.aggregates_at, f.quarantined,
         f.receipts_catch_up_at, f.receipts_rate, f.inbound_catch_up_at, f.inbound_rate
    FROM (SELECT (SELECT value FROM settings WHERE key = ?) AS limit_micros,
                 (SELECT value FROM settings WHERE key = ?) AS default_clinic,
                 (SELECT last_ok_at FROM stream_state WHERE stream = 'receipts') AS receipts_at,
                 (SELECT last_ok_at FROM stream_state WHERE stream = 'inbound') AS inbound_at,
                 (SELECT last_ok_at FROM stream_state WHERE stream = 'account') AS account_at,
                 (SELECT last_ok_at FROM stream_state WHERE stream = 'aggregates') AS aggregates_at,
                 (SELECT catch_up_at FROM stream_state WHERE stream = 'receipts') AS receipts_catch_up_at,
                 (SELECT items_per_second FROM stream_state WHERE stream = 'receipts') AS receipts_rate,
                 (SELECT catch_up_at FROM stream_state WHERE stream = 'inbound') AS inbound_catch_up_at,
                 (SELECT items_per_second FROM stream_state WHERE stream = 'inbound') AS inbound_rate,
                 (SELECT COUNT(*) FROM quarantine) AS quarantined) f
    LEFT JOIN clinics c ON c.in_account = ? OR c.seen_in_traffic = ?
    LEFT JOIN monthly_usage u ON u.clinic_id = c.clinic_id AND u.month = ?
    LEFT JOIN unread_counts n ON n.clinic_id = c.clinic_id
   ORDER BY c.clinic_id`;

interface Flights {
  running?: Promise<StatusDocument>;
  queued?: Promise<StatusDocument>;
  /** The last document built, with the database's data_version it was read at. */
  cached?: { version: number; at: number; doc: StatusDocument };
}

/** How long a cached document may be served without a rebuild, even if data_version says nothing changed. */
const CACHE_MAX_AGE_MS = 1000;

const flightsByKnex = new WeakMap<Knex, Map<string, Flights>>();

/**
 * The /status document. Requests never read the same thing twice at once: while a read runs, the
 * requests that arrive share the NEXT read (which starts after they arrived, so a request always
 * sees every write committed before it came). On SQLite a read first asks `PRAGMA data_version`,
 * which changes whenever another connection (the writer) commits, and reuses the last document
 * when nothing changed: one tiny statement instead of the document's query, exact, not a TTL.
 */
export function buildStatus(knex: Knex, month: MonthKey, timezone: string): Promise<StatusDocument> {
  let byKey = flightsByKnex.get(knex);
  if (!byKey) flightsByKnex.set(knex, (byKey = new Map()));
  const key = `${month} ${timezone}`;
  let f = byKey.get(key);
  if (!f) byKey.set(key, (f = {}));
  const flights = f;
  if (!flights.running) {
    flights.running = readCached(knex, flights, month, timezone).finally(() => {
      flights.running = undefined;
    });
    return flights.running;
  }
  flights.queued ??= flights.running.catch(() => undefined).then(() => {
    flights.queued = undefined;
    return buildStatus(knex, month, timezone);
  });
  return flights.queued;
}

async function readCached(knex: Knex, flights: Flights, month: MonthKey, timezone: string): Promise<StatusDocument> {
  const version = isSqlite(knex) ? Number(rowsOf<{ data_version: number }>(await knex.raw('PRAGMA data_version'))[0]?.data_version ?? NaN) : NaN;
  const now = Date.now();
  const c = flights.cached;
  if (c && c.version === version && now - c.at < CACHE_MAX_AGE_MS) return c.doc;
  const doc = await readStatus(knex, month, timezone);
  flights.cached = Number.isFinite(version) ? { version, at: now, doc } : undefined;
  return doc;
}

async function readStatus(knex: Knex, month: MonthKey, timezone: string): Promise<StatusDocument> {
  const rows = rowsOf<StatusRow>(await knex.raw(STATUS_SQL, [SETTING_MONTHLY_LIMIT_MICROS, SETTING_DEFAULT_CLINIC_ID, true, true, month]));
  const facts = rows[0];
  const num = (v: number | string | null | undefined): number | null => (v == null ? null : Number(v));
  const defaultClinicId = facts?.default_clinic == null ? null : Number(facts.default_clinic);

  // Money sums as bigint: exact whatever they add up to (read as text, so no driver rounds them to a double).
  let sentCount = 0, sentMicros = 0n, receivedCount = 0, receivedMicros = 0n, unreadCount = 0;
  const clinics = rows.filter((r) => r.clinic_id != null).map((r): ClinicUsage => {
    const inAccount = Boolean(r.in_account);
    const s = Number(r.sent_count ?? 0), sm = microsFromDb(r.sent_charge_micros);
    const rc = Number(r.received_count ?? 0), rm = microsFromDb(r.received_charge_micros);
    // Unread replies now, whatever the month (src/office/conversations.ts keeps the counts).
    const unread = Number(r.unread ?? 0);
    sentCount += s; sentMicros += sm; receivedCount += rc; receivedMicros += rm; unreadCount += unread;
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
      unreadCount: unread,
    };
  });
  const limitMicros = facts?.limit_micros == null ? null : microsFromDb(facts.limit_micros);
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
      unreadCount,
    },
    clinics,
    econnector: {
      lastReceiptsPollAt: iso(num(facts?.receipts_at)),
      lastInboundPollAt: iso(num(facts?.inbound_at)),
      lastAccountSyncAt: iso(num(facts?.account_at)),
      aggregatesComputedAt: iso(num(facts?.aggregates_at)),
      quarantined: Number(facts?.quarantined ?? 0),
      ...catchUpStatus({
        receiptsAt: num(facts?.receipts_catch_up_at),
        receiptsRate: num(facts?.receipts_rate),
        inboundAt: num(facts?.inbound_catch_up_at),
        inboundRate: num(facts?.inbound_rate),
      }),
    },
  };
}
