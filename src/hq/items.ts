/**
 * The one place an HQ page's items are checked, before anything is written: their shapes
 * (docs/hq-api.md), and the split of a page into valid items and quarantine entries (an item that
 * breaks its shape is stored verbatim in quarantine, then acknowledged; the rest of the page goes
 * on). Pure: no I/O, so the page store commits both halves in one transaction.
 *
 * Items accept unknown extra fields (HQ may add fields; an item is malformed only when a field we
 * rely on is missing or wrong) and drop them from the parsed value. Reasons name fields and
 * problems only, never values: items carry phone numbers and message bodies.
 *
 * Both kinds have a fast path. A backlog is a million receipts and a few hundred thousand replies,
 * nearly all well formed; zod's generic machinery (and its refine-then-transform, which parses each
 * timestamp and amount twice) cost about 5 µs per receipt, and validation was 8% of the drain's
 * main thread while only receipts had a fast path (BENCHMARKS.md). `fastReceipt` and
 * `fastInbound` accept ONLY items that `receiptSchema` / `inboundSchema` accept, and return exactly
 * what they return, with the same checks and limits; for anything else, or any doubt, they return
 * null and the schema decides and explains. test/unit/fast-receipt.test.ts and
 * test/unit/fast-inbound.test.ts hold each pair to each other: a change to a schema (or to a field
 * schema of schemas.ts) must be mirrored in its fast path (or the fast path made to return null
 * for what it covers).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseUsdToMicrosOrNull } from '../money';
import {
  countryCode, describeIssues, E164, id, int32, isStorableText, itemCharge, MAX_BODY_LENGTH, MAX_ID_LENGTH, MAX_INT32, MAX_ITEM_CHARGE_MICROS,
  parseIsoUtcMs, phone, RECEIPT_STATUSES, storable, timestampMs, type ReceiptStatus,
} from './schemas';
export type ItemKind = 'receipt' | 'inbound';

export interface ValidReceipt {
  receiptId: string;
  guid: string;
  clinicId: number;
  status: ReceiptStatus;
  chargeMicros: number;
  segments: number;
  countryCode: string;
  sentAtMs: number;
  statusAtMs: number;
}

export interface ValidInbound {
  inboundId: string;
  clinicId: number;
  fromPhone: string;
  toPhone: string;
  body: string;
  receivedAtMs: number;
  chargeMicros: number;
  segments: number;
}

export const receiptSchema: z.ZodType<ValidReceipt> = z
  .object({
    receiptId: id,
    guid: id,
    clinicId: int32,
    status: z.enum(RECEIPT_STATUSES),
    chargeUsd: itemCharge,
    segments: int32,
    countryCode,
    sentAt: timestampMs,
    statusAt: timestampMs,
  })
  .transform((r) => ({
    receiptId: r.receiptId,
    guid: r.guid,
    clinicId: r.clinicId,
    status: r.status,
    chargeMicros: r.chargeUsd,
    segments: r.segments,
    countryCode: r.countryCode,
    sentAtMs: r.sentAt,
    statusAtMs: r.statusAt,
  }));

export const inboundSchema: z.ZodType<ValidInbound> = z
  .object({
    inboundId: id,
    clinicId: int32,
    fromPhone: phone,
    toPhone: phone,
    body: storable.max(MAX_BODY_LENGTH),
    receivedAt: timestampMs,
    chargeUsd: itemCharge,
    segments: int32,
  })
  .transform((m) => ({
    inboundId: m.inboundId,
    clinicId: m.clinicId,
    fromPhone: m.fromPhone,
    toPhone: m.toPhone,
    body: m.body,
    receivedAtMs: m.receivedAt,
    chargeMicros: m.chargeUsd,
    segments: m.segments,
  }));

const STATUSES: ReadonlySet<string> = new Set(RECEIPT_STATUSES);
/** The schema's `.max(40)` on money and timestamp strings. */
const MAX_FIELD_LENGTH = 40;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * zod's `.max(n)` on a string counts code points, not UTF-16 units (a surrogate pair is one): a
 * string of more than n units may still fit. Counted as zod counts, a high surrogate followed by a
 * low one being one code point; test/unit/fast-inbound.test.ts holds this to zod at the limits.
 */
function fitsMaxLength(v: string, max: number): boolean {
  if (v.length <= max) return true;
  if (v.length > 2 * max) return false;
  let codePoints = v.length;
  for (let i = 0; i < v.length - 1; i++) {
    if ((v.charCodeAt(i) & 0xfc00) === 0xd800 && (v.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      codePoints--;
      i++;
    }
  }
  return codePoints <= max;
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && fitsMaxLength(v, MAX_ID_LENGTH) && isStorableText(v);
const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= MAX_INT32;
/** `phone`: the E.164 pattern alone (it admits neither NUL nor a surrogate, and no length beyond 16). */
const isPhone = (v: unknown): v is string => typeof v === 'string' && E164.test(v);
/** `storable.max(MAX_BODY_LENGTH)`: any length from 0 (an empty reply is a reply). */
const isBody = (v: unknown): v is string => typeof v === 'string' && fitsMaxLength(v, MAX_BODY_LENGTH) && isStorableText(v);

/** The digits of `v` from `from` to `to` (exclusive) as a number, or -1 if any is not 0-9. */
function digitsAt(v: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * parseIsoUtcMs's result for the one form HQ writes, 'YYYY-MM-DDTHH:mm:ss.sssZ', read digit by
 * digit (parseIsoUtcMs's regex, slices and Date cost ~1.5 µs a timestamp, two per receipt: 9% of
 * the drain's main thread in its profile, BENCHMARKS.md); null for any other form or any value
 * parseIsoUtcMs would refuse, and parseIsoUtcMs then decides. test/unit/fast-receipt.test.ts holds
 * the two to each other.
 */
function canonicalIsoUtcMs(v: string): number | null {
  if (v.length !== 24 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58
    || v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) return null; // '-', '-', 'T', ':', ':', '.', 'Z'
  const year = digitsAt(v, 0, 4);
  const month = digitsAt(v, 5, 7);
  const day = digitsAt(v, 8, 10);
  const hour = digitsAt(v, 11, 13);
  const minute = digitsAt(v, 14, 16);
  const second = digitsAt(v, 17, 19);
  const ms = digitsAt(v, 20, 23);
  // 2000-2999: schemas.ts's years (YEAR_MIN, YEAR_MAX).
  if (year < 2000 || year > 2999 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** `timestampMs`: a string of at most 40 characters that parseIsoUtcMs reads; else null. */
function timestampMsOf(v: unknown): number | null {
  return typeof v === 'string' && v.length <= MAX_FIELD_LENGTH ? canonicalIsoUtcMs(v) ?? parseIsoUtcMs(v) : null;
}

/** `itemCharge`: a string of at most 40 characters, a contract USD amount, at most the item ceiling; else null. */
function chargeMicrosOf(v: unknown): number | null {
  if (typeof v !== 'string' || v.length > MAX_FIELD_LENGTH) return null;
  const micros = parseUsdToMicrosOrNull(v);
  return micros === null || micros > MAX_ITEM_CHARGE_MICROS ? null : micros;
}

/** z.object's own test: anything but null and arrays whose typeof is 'object'. */
const isObjectItem = (item: unknown): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item);

export function fastReceipt(item: unknown): ValidReceipt | null {
  if (!isObjectItem(item)) return null;
  const { receiptId, guid, clinicId, status, chargeUsd, segments, countryCode, sentAt, statusAt } = item;
  if (!isId(receiptId) || !isId(guid) || !isInt32(clinicId) || !isInt32(segments)) return null;
  if (typeof status !== 'string' || !STATUSES.has(status)) return null;
  if (typeof countryCode !== 'string' || !COUNTRY.test(countryCode)) return null;
  const chargeMicros = chargeMicrosOf(chargeUsd);
  if (chargeMicros === null) return null;
  const sentAtMs = timestampMsOf(sentAt);
  if (sentAtMs === null) return null;
  const statusAtMs = timestampMsOf(statusAt);
  if (statusAtMs === null) return null;
  return { receiptId, guid, clinicId, status: status as ReceiptStatus, chargeMicros, segments, countryCode, sentAtMs, statusAtMs };
}

export function fastInbound(item: unknown): ValidInbound | null {
  if (!isObjectItem(item)) return null;
  const { inboundId, clinicId, fromPhone, toPhone, body, receivedAt, chargeUsd, segments } = item;
  if (!isId(inboundId) || !isInt32(clinicId) || !isInt32(segments)) return null;
  if (!isPhone(fromPhone) || !isPhone(toPhone) || !isBody(body)) return null;
  const chargeMicros = chargeMicrosOf(chargeUsd);
  if (chargeMicros === null) return null;
  const receivedAtMs = timestampMsOf(receivedAt);
  if (receivedAtMs === null) return null;
  return { inboundId, clinicId, fromPhone, toPhone, body, receivedAtMs, chargeMicros, segments };
}

export interface QuarantineEntry {
  kind: ItemKind;
  /** Identifies the item for counting distinct quarantined items: its id, or 'sha256:<hex of raw>'. */
  itemKey: string;
  /** The id to acknowledge to HQ; null when the item has no usable id and cannot be acknowledged. */
  ackId: string | null;
  /** The item verbatim, as JSON. */
  raw: string;
  /** Field names and problems only: never the item's values (phones, bodies, amounts). */
  reason: string;
}

export interface SplitPage<T> {
  valid: T[];
  quarantined: QuarantineEntry[];
  /** validIndex[i]: the position in the page of valid[i] (to find the item verbatim again). */
  validIndex: number[];
}

/** Ids longer than this are not sent back in an ack (HQ never hands out such ids; a body that size is garbage). */
const MAX_ACK_ID_LENGTH = 1000;

const ID_FIELD: Record<ItemKind, 'receiptId' | 'inboundId'> = { receipt: 'receiptId', inbound: 'inboundId' };

export function splitPage(kind: 'receipt', items: readonly unknown[]): SplitPage<ValidReceipt>;
export function splitPage(kind: 'inbound', items: readonly unknown[]): SplitPage<ValidInbound>;
export function splitPage(kind: ItemKind, items: readonly unknown[]): SplitPage<ValidReceipt> | SplitPage<ValidInbound>;
export function splitPage(kind: ItemKind, items: readonly unknown[]): SplitPage<ValidReceipt | ValidInbound> {
  const schema = kind === 'receipt' ? receiptSchema : inboundSchema;
  const valid: Array<ValidReceipt | ValidInbound> = [];
  const validIndex: number[] = [];
  const quarantined: QuarantineEntry[] = [];
  items.forEach((item, index) => {
    // Well-formed items take the fast path (same result); the schema decides everything else.
    const fast = kind === 'receipt' ? fastReceipt(item) : fastInbound(item);
    if (fast !== null) {
      valid.push(fast);
      validIndex.push(index);
      return;
    }
    const result = schema.safeParse(item);
    if (result.success) {
      valid.push(result.data);
      validIndex.push(index);
    } else quarantined.push(quarantineEntry(kind, item, describeIssues(result.error.issues, item)));
  });
  return { valid, quarantined, validIndex };
}

/** Builds the quarantine entry of an item that failed validation for `reason`. */
export function quarantineEntry(kind: ItemKind, item: unknown, reason: string): QuarantineEntry {
  const raw = rawJson(item);
  const itemId = idOf(kind, item);
  // The item is keyed by its id exactly when the id schema would take it (schemas.ts: at most
  // MAX_ID_LENGTH code points, no NUL, no lone surrogate), counted in the unit the item_key column
  // stores (a character is a code point: PostgreSQL's varchar(255) in UTF-8; SQLite does not limit
  // a varchar); any other id (too long, a NUL, a lone surrogate) keys the item by its content.
  const itemKey = itemId !== null && id.safeParse(itemId).success ? itemId : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  const ackId = itemId !== null && itemId.length <= MAX_ACK_ID_LENGTH ? itemId : null;
  return { kind, itemKey, ackId, raw, reason };
}

/** The item's own id field when it is a non-empty string (whatever else is wrong with the item). */
function idOf(kind: ItemKind, item: unknown): string | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
  const id: unknown = (item as Record<string, unknown>)[ID_FIELD[kind]];
  return typeof id === 'string' && id.length > 0 ? id : null;
}

/**
 * Items come from JSON.parse, so they stringify back; JSON.stringify escapes NUL and lone
 * surrogates, so the text is always storable. The fallbacks cover what JSON cannot hold.
 */
function rawJson(item: unknown): string {
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return Object.prototype.toString.call(item);
  }
}
