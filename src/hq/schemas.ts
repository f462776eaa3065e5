/**
 * The shapes of HQ's answers (docs/hq-api.md), checked at the edge with zod, so that
 * everything behind the HQ client works with typed values: instants as epoch milliseconds and
 * money as integer micro-dollars. A page's items are checked one by one in items.ts.
 *
 * Items accept unknown extra fields (HQ may add fields; an item is malformed only when a field we
 * rely on is missing or wrong) and drop them from the parsed value. Error summaries
 * (`describeIssues`) name fields and problems only, never the values: items carry phone numbers
 * and message bodies, which must not reach logs or error messages.
 */
import { z } from 'zod';
import { isUsdString, parseUsdToMicros } from '../money';

export const RECEIPT_STATUSES = ['delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/**
 * Longest id (receiptId, inboundId, guid, officeId) we store (the id columns hold 255 characters).
 * Counted in code points, as zod's `.max` counts a string and as the columns hold it (PostgreSQL's
 * varchar counts characters of its UTF-8 text; SQLite does not limit a varchar's length): an id
 * of astral characters is two UTF-16 units a character and still fits.
 */
export const MAX_ID_LENGTH = 200;
/**
 * Largest clinicId and segments count: the columns are 32-bit integers (PostgreSQL `integer`).
 * The contract says only "positive integer"; a value the database cannot hold is quarantined
 * verbatim (and acknowledged) instead of failing its page's transaction for ever.
 */
export const MAX_INT32 = 2_147_483_647;
/**
 * Largest charge one item may carry: 1,000 USD. A text costs cents; nothing a carrier bills
 * for one message comes near it. The bound keeps every monthly sum an exact JavaScript integer:
 * 2^53 micro-dollars is about 9 billion dollars, so a month would need more than nine million
 * items at this ceiling to reach it (docs/security.md). An item above it is quarantined verbatim.
 */
export const MAX_ITEM_CHARGE_MICROS = 1_000_000_000;
/**
 * Strings the databases cannot store exactly: a NUL character (PostgreSQL text refuses it) or a
 * lone UTF-16 surrogate (no UTF-8 form: the drivers would store U+FFFD instead of the text).
 */
const LONE_SURROGATE = /\p{Cs}/u;
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** `value` with what the databases cannot store exactly replaced by U+FFFD (for names, which are not quarantined). */
export function storableText(value: string): string {
  return isStorableText(value) ? value : value.replace(/\u0000|\p{Cs}/gu, '\ufffd');
}
/** Longest inbound body we store (a long concatenated reply is a few thousand characters at most). */
export const MAX_BODY_LENGTH = 100_000;
/** Years a timestamp from HQ may have: anything else is garbage, quarantined rather than bucketed. */
const YEAR_MIN = 2000;
const YEAR_MAX = 2999;

// Messages we attach to our own checks. describeIssues repeats only these, so no zod default
// message (some of which could someday quote input) ever reaches a reason.
const MSG = {
  usd: 'not a USD amount',
  timestamp: 'not an ISO 8601 UTC timestamp',
  e164: 'not an E.164 phone number',
  country: 'not an ISO 3166-1 alpha-2 code',
  duplicateClinic: 'duplicate clinicId',
  storable: 'holds a NUL character or a lone surrogate',
  charge: 'above the largest charge of one item (1000 USD)',
} as const;
const OWN_MESSAGES: ReadonlySet<string> = new Set(Object.values(MSG));

/** E.164: '+', then 2 to 15 digits, the first not 0 (items.ts's fast paths test with it too). */
export const E164 = /^\+[1-9]\d{1,14}$/;
const COUNTRY = /^[A-Z]{2}$/;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Epoch milliseconds of an ISO 8601 UTC timestamp 'YYYY-MM-DDTHH:mm:ss(.fraction)?Z', or null for
 * any other form, an impossible date (Feb 30, hour 24, second 60) or a year outside 2000-2999.
 * Fractions beyond milliseconds are truncated, never rounded, so an instant never moves into
 * the next second (or month).
 */
export function parseIsoUtcMs(value: string): number | null {
  const m = ISO_UTC.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (year < YEAR_MIN || year > YEAR_MAX || month < 1 || month > 12 || day < 1) return null;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/**
 * Field schemas the item shapes (items.ts) and the answers here share. items.ts's fast paths
 * mirror each check of them (a change here is mirrored there; test/unit/fast-*.test.ts hold them to it).
 */
export const storable = z.string().refine(isStorableText, { message: MSG.storable });
export const id = z.string().min(1).max(MAX_ID_LENGTH).refine(isStorableText, { message: MSG.storable });
const positiveInt = z.number().int().positive();
export const int32 = positiveInt.max(MAX_INT32);
const money = z.string().max(40).refine(isUsdString, { message: MSG.usd }).transform((s) => parseUsdToMicros(s));
export const itemCharge = money.refine((micros) => micros <= MAX_ITEM_CHARGE_MICROS, { message: MSG.charge });
export const timestampMs = z
  .string()
  .max(40)
  .refine((s) => parseIsoUtcMs(s) !== null, { message: MSG.timestamp })
  .transform((s) => parseIsoUtcMs(s) as number);
export const phone = z.string().regex(E164, { message: MSG.e164 });
export const countryCode = z.string().regex(COUNTRY, { message: MSG.country });

// Page envelopes: items stay unknown here, each is validated on its own (a bad item is quarantined,
// a bad envelope is a transient failure of the whole GET).
export interface ReceiptsPage {
  receipts: unknown[];
  more: boolean;
}
export interface InboundPage {
  messages: unknown[];
  more: boolean;
}
export const receiptsPageSchema: z.ZodType<ReceiptsPage> = z.object({ receipts: z.array(z.unknown()), more: z.boolean() });
export const inboundPageSchema: z.ZodType<InboundPage> = z.object({ messages: z.array(z.unknown()), more: z.boolean() });

export interface AccountClinic {
  clinicId: number;
  name: string;
  subscribed: boolean;
  primaryPhone: string;
  countryCode: string;
}
export interface Account {
  officeId: string;
  monthlyLimitMicros: number;
  clinics: AccountClinic[];
}

export const accountSchema: z.ZodType<Account> = z
  .object({
    officeId: id,
    monthlyLimitUsd: money,
    clinics: z.array(
      z.object({
        clinicId: int32,
        name: z.string().max(MAX_ID_LENGTH).transform(storableText),
        subscribed: z.boolean(),
        primaryPhone: phone,
        countryCode,
      }),
    ),
  })
  .superRefine((a, ctx) => {
    const seen = new Set<number>();
    a.clinics.forEach((c, i) => {
      if (seen.has(c.clinicId)) ctx.addIssue({ code: 'custom', message: MSG.duplicateClinic, path: ['clinics', i, 'clinicId'] });
      seen.add(c.clinicId);
    });
  })
  .transform((a) => ({
    officeId: a.officeId,
    monthlyLimitMicros: a.monthlyLimitUsd,
    clinics: a.clinics.map((c) => ({
      clinicId: c.clinicId,
      name: c.name,
      subscribed: c.subscribed,
      primaryPhone: c.primaryPhone,
      countryCode: c.countryCode,
    })),
  }));

export interface AckAnswer {
  acked: number;
}
export const ackAnswerSchema: z.ZodType<AckAnswer> = z.object({ acked: z.number().int().nonnegative() });

const MAX_ISSUES_DESCRIBED = 5;
const NO_INPUT: unique symbol = Symbol('no input');

function describePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(item)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** The input's value at `path`, and whether the field is there at all. */
function lookup(input: unknown, path: readonly PropertyKey[]): { present: boolean } {
  let v: unknown = input;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, key)) return { present: false };
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return { present: v !== undefined };
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, withInput: boolean): string {
  let detail = '';
  if (withInput && issue.path.length > 0 && !lookup(input, issue.path).present) detail = 'missing';
  else switch (issue.code) {
    case 'invalid_type':
      detail = `expected ${issue.expected}`;
      break;
    case 'too_small':
      detail = `${issue.origin} below ${String(issue.minimum)}`;
      break;
    case 'too_big':
      detail = `${issue.origin} above ${String(issue.maximum)}`;
      break;
    case 'invalid_value':
      detail = 'not an allowed value';
      break;
    default:
      if (OWN_MESSAGES.has(issue.message)) detail = issue.message;
  }
  return `${describePath(issue.path)}: ${issue.code}${detail ? ` (${detail})` : ''}`;
}

/**
 * A one-line summary of validation issues naming fields and problems, never values:
 * "chargeUsd: custom (not a USD amount); segments: invalid_type (expected number); guid: invalid_type (missing)".
 * With the validated `input` (only looked at, never quoted), absent fields are called missing.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown = NO_INPUT): string {
  const parts = issues.slice(0, MAX_ISSUES_DESCRIBED).map((issue) => describeIssue(issue, input, input !== NO_INPUT));
  if (issues.length > MAX_ISSUES_DESCRIBED) parts.push(`and ${issues.length - MAX_ISSUES_DESCRIBED} more`);
  return parts.join('; ');
}

/** A `(body) => T | null` parser for the HQ client: null when the body does not fit `schema`. */
export function parserFor<T>(schema: z.ZodType<T>): (body: unknown) => T | null {
  return (body) => {
    const result = schema.safeParse(body);
    return result.success ? result.data : null;
  };
}

/** POST /v1/messages: 202 (accepted) or 200 (the same guid and content again). */
export interface PostMessageAnswer {
  guid: string;
  segments: number;
  status: 'pending';
  acceptedAtMs: number;
}
export const postMessageAnswerSchema: z.ZodType<PostMessageAnswer> = z
  .object({ guid: id, segments: positiveInt, status: z.literal('pending'), acceptedAt: timestampMs })
  .transform((a) => ({ guid: a.guid, segments: a.segments, status: a.status, acceptedAtMs: a.acceptedAt }));
