/**
 * The fast path of receipt validation. A backlog is a million receipts, nearly all well formed;
 * zod's generic machinery (and its refine-then-transform, which parses each timestamp and amount
 * twice) cost about 5 µs per receipt, a sizeable share of a page's main-thread time (BENCHMARKS.md).
 *
 * `fastReceipt` accepts ONLY items that `receiptSchema` (src/hq/schemas.ts) accepts, and returns
 * exactly what it returns, using the same checks (parseIsoUtcMs, parseUsdToMicrosOrNull, the same
 * limits). For anything else, or any doubt, it returns null and the caller runs the schema, which
 * decides and explains. test/unit/fast-receipt.test.ts holds the two to each other; a change to
 * receiptSchema must be mirrored here (or this function made to return null for what it covers).
 */
import { parseUsdToMicrosOrNull } from '../money';
import { isStorableText, MAX_ID_LENGTH, MAX_INT32, MAX_ITEM_CHARGE_MICROS, parseIsoUtcMs, RECEIPT_STATUSES, type ReceiptStatus, type ValidReceipt } from '../hq/schemas';

const STATUSES: ReadonlySet<string> = new Set(RECEIPT_STATUSES);
/** The schema's `.max(40)` on money and timestamp strings. */
const MAX_FIELD_LENGTH = 40;
const COUNTRY = /^[A-Z]{2}$/;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_LENGTH && isStorableText(v);
const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= MAX_INT32;

function timestampMs(v: unknown): number | null {
  return typeof v === 'string' && v.length <= MAX_FIELD_LENGTH ? parseIsoUtcMs(v) : null;
}

export function fastReceipt(item: unknown): ValidReceipt | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
  const r = item as Record<string, unknown>;
  const { receiptId, guid, clinicId, status, chargeUsd, segments, countryCode } = r;
  if (!isId(receiptId) || !isId(guid) || !isInt32(clinicId) || !isInt32(segments)) return null;
  if (typeof status !== 'string' || !STATUSES.has(status)) return null;
  if (typeof countryCode !== 'string' || !COUNTRY.test(countryCode)) return null;
  if (typeof chargeUsd !== 'string' || chargeUsd.length > MAX_FIELD_LENGTH) return null;
  const chargeMicros = parseUsdToMicrosOrNull(chargeUsd);
  if (chargeMicros === null || chargeMicros > MAX_ITEM_CHARGE_MICROS) return null;
  const sentAtMs = timestampMs(r.sentAt);
  if (sentAtMs === null) return null;
  const statusAtMs = timestampMs(r.statusAt);
  if (statusAtMs === null) return null;
  return { receiptId, guid, clinicId, status: status as ReceiptStatus, chargeMicros, segments, countryCode, sentAtMs, statusAtMs };
}
