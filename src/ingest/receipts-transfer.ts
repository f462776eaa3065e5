/**
 * How a receipts page crosses from the event loop to the SQLite writer thread
 * (page-store-sqlite.ts to sqlite-page-writer.ts): as columns, not as an array of objects.
 * postMessage's structured clone of 1,000 receipt objects cost about 1 ms to serialize on the
 * event loop and 2–3 ms to rebuild on the thread, per page (BENCHMARKS.md); the same page as one
 * string of its texts and one Float64Array of its numbers (moved, not copied) costs a few tenths
 * of a millisecond on each side. Nothing about a receipt changes on the way: each text is cut
 * back out of the string by its length, so a text may hold any character, and a number is a
 * double on both sides. A page with a field of any other type (none passes validation, but the
 * store writes whatever it is given, and the database's refusal of such a value is what the
 * drain's bisect acts on: src/ingest/drain.ts) is not packed and travels as before.
 */
import type { ValidReceipt } from '../hq/items';
import type { ReceiptStatus } from '../hq/schemas';

/** Per receipt: the lengths of its four texts, then its five numbers. */
const NUMBERS_PER_RECEIPT = 9;

export interface PackedReceipts {
  /** receiptId, guid, status and countryCode of each receipt, in order, end to end. */
  texts: string;
  numbers: Float64Array<ArrayBuffer>;
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number';

/** The page as columns, or null when a field is not of its type (then it is sent as it is). */
export function packReceipts(receipts: readonly ValidReceipt[]): PackedReceipts | null {
  for (const r of receipts) {
    if (!isText(r.receiptId) || !isText(r.guid) || !isText(r.status) || !isText(r.countryCode)) return null;
    if (!isNumber(r.clinicId) || !isNumber(r.chargeMicros) || !isNumber(r.segments) || !isNumber(r.sentAtMs) || !isNumber(r.statusAtMs)) return null;
  }
  const numbers = new Float64Array(receipts.length * NUMBERS_PER_RECEIPT);
  const texts = new Array<string>(receipts.length * 4);
  let n = 0;
  let t = 0;
  for (const r of receipts) {
    texts[t++] = r.receiptId;
    texts[t++] = r.guid;
    texts[t++] = r.status;
    texts[t++] = r.countryCode;
    numbers[n++] = r.receiptId.length;
    numbers[n++] = r.guid.length;
    numbers[n++] = r.status.length;
    numbers[n++] = r.countryCode.length;
    numbers[n++] = r.clinicId;
    numbers[n++] = r.chargeMicros;
    numbers[n++] = r.segments;
    numbers[n++] = r.sentAtMs;
    numbers[n++] = r.statusAtMs;
  }
  return { texts: texts.join(''), numbers };
}

export function unpackReceipts({ texts, numbers }: PackedReceipts): ValidReceipt[] {
  const receipts = new Array<ValidReceipt>(numbers.length / NUMBERS_PER_RECEIPT);
  let at = 0;
  const text = (length: number): string => texts.slice(at, (at += length));
  for (let i = 0, n = 0; n < numbers.length; i++, n += NUMBERS_PER_RECEIPT) {
    const receiptId = text(numbers[n]!);
    const guid = text(numbers[n + 1]!);
    const status = text(numbers[n + 2]!) as ReceiptStatus;
    const countryCode = text(numbers[n + 3]!);
    receipts[i] = {
      receiptId, guid, clinicId: numbers[n + 4]!, status, chargeMicros: numbers[n + 5]!, segments: numbers[n + 6]!,
      countryCode, sentAtMs: numbers[n + 7]!, statusAtMs: numbers[n + 8]!,
    };
  }
  return receipts;
}
