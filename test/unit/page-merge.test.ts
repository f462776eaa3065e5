import type { ValidReceipt } from '../../src/hq/items';
import { compareReceiptOrder, greatestPerMessage, mergeReceipt, type StoredMessage } from '../../src/ingest/page-merge';
import { UsageDeltas } from '../../src/usage/aggregates';
import { MonthBucketer } from '../../src/usage/month';

interface R {
  guid: string;
  statusAtMs: number;
  receiptId: string;
  status: string;
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i]!, ...p];
  }
}

const r = (statusAtMs: number, receiptId: string, status = 'delivered'): R => ({ guid: 'g-1', statusAtMs, receiptId, status });
/** The final receipt of message g-1 among `receipts`, as the page stores pick it. */
const finalOf = (receipts: readonly R[]): R | undefined => greatestPerMessage(receipts).get('g-1');

describe('compareReceiptOrder', () => {
  it('orders by statusAt first', () => {
    expect(compareReceiptOrder(r(1, 'z'), r(2, 'a'))).toBeLessThan(0);
    expect(compareReceiptOrder(r(2, 'a'), r(1, 'z'))).toBeGreaterThan(0);
  });

  it('breaks a statusAt tie by receiptId, as JavaScript < compares strings', () => {
    expect(compareReceiptOrder(r(5, 'r-1'), r(5, 'r-2'))).toBeLessThan(0);
    expect(compareReceiptOrder(r(5, 'r-2'), r(5, 'r-1'))).toBeGreaterThan(0);
    expect(compareReceiptOrder(r(5, 'r-1'), r(5, 'r-1'))).toBe(0);
  });

  it('does not compare ids numerically: "r-9" > "r-10"', () => {
    expect(compareReceiptOrder(r(5, 'r-9'), r(5, 'r-10'))).toBeGreaterThan(0);
  });

  it('does not compare ids by locale: "a" > "B" (code 97 > 66), though localeCompare says otherwise', () => {
    expect('a'.localeCompare('B')).toBeLessThan(0); // what a locale-aware comparison would do
    expect(compareReceiptOrder(r(5, 'a'), r(5, 'B'))).toBeGreaterThan(0);
  });

  it('compares non-ASCII by UTF-16 code unit', () => {
    // 'é' (U+00E9) > 'z' (U+007A) by code unit; a locale puts é before z.
    expect(compareReceiptOrder(r(5, 'é'), r(5, 'z'))).toBeGreaterThan(0);
    // An astral character's lead surrogate (0xD83D) sorts below U+FF5E, unlike its code point.
    expect(compareReceiptOrder(r(5, '😀'), r(5, '～'))).toBeLessThan(0);
  });

  it('is antisymmetric', () => {
    const all = [r(1, 'a'), r(1, 'B'), r(2, 'r-10'), r(2, 'r-9'), r(3, 'é')];
    for (const a of all) for (const b of all) expect(Math.sign(compareReceiptOrder(a, b))).toBe(-Math.sign(compareReceiptOrder(b, a)) || 0);
  });
});

describe('greatestPerMessage: the final receipt of one message', () => {
  it('returns undefined for no receipts and the only one for one', () => {
    expect(finalOf([])).toBeUndefined();
    const only = r(1, 'x');
    expect(finalOf([only])).toBe(only);
  });

  it('picks the latest statusAt, not the last to arrive', () => {
    const unconfirmed = r(1000, 'r-2', 'delivery_unconfirmed');
    const delivered = r(2000, 'r-1', 'delivered');
    expect(finalOf([delivered, unconfirmed])).toBe(delivered);
    expect(finalOf([unconfirmed, delivered])).toBe(delivered);
  });

  it('gives the same final for every arrival order', () => {
    const receipts = [
      r(1000, 'r-10', 'delivery_unconfirmed'),
      r(3000, 'r-9', 'failed_with_charge'),
      r(3000, 'r-10', 'delivered'), // ties with r-9 on statusAt; 'r-9' > 'r-10' as strings
      r(2000, 'r-99', 'delivered'),
      r(3000, 'R-9', 'failed_no_charge'), // 'R' < 'r'
    ];
    const expected = receipts[1];
    let count = 0;
    for (const order of permutations(receipts)) {
      expect(finalOf(order)).toBe(expected);
      count++;
    }
    expect(count).toBe(120);
  });

  it('on ties picks the greatest id by character code', () => {
    for (const order of permutations([r(7, 'B'), r(7, 'a'), r(7, 'A'), r(7, 'b')])) expect(finalOf(order)!.receiptId).toBe('b');
    for (const order of permutations([r(7, 'r-10'), r(7, 'r-9'), r(7, 'r-100')])) expect(finalOf(order)!.receiptId).toBe('r-9');
    for (const order of permutations([r(7, 'z'), r(7, 'é'), r(7, 'e')])) expect(finalOf(order)!.receiptId).toBe('é');
  });

  it('accepts a readonly array and keeps the element type', () => {
    const list: readonly R[] = Object.freeze([r(1, 'a', 'x'), r(2, 'b', 'y')]);
    const final: R | undefined = greatestPerMessage(list).get('g-1');
    expect(final?.status).toBe('y');
  });
});

describe('greatestPerMessage: a page of several messages', () => {
  it('keeps one receipt per message, each the greatest of its own', () => {
    const page = [
      { ...r(1, 'r-1'), guid: 'a' }, { ...r(3, 'r-2'), guid: 'b' }, { ...r(2, 'r-3'), guid: 'a' }, { ...r(3, 'r-1'), guid: 'b' },
    ];
    const latest = greatestPerMessage(page);
    expect([...latest.keys()].sort()).toEqual(['a', 'b']);
    expect(latest.get('a')!.receiptId).toBe('r-3');
    expect(latest.get('b')!.receiptId).toBe('r-2');
  });
});

describe('mergeReceipt', () => {
  const months = new MonthBucketer('UTC');
  const OCT = Date.parse('2026-10-31T23:00:00.000Z');
  const NOV = Date.parse('2026-11-01T01:00:00.000Z');
  const receipt = (over: Partial<ValidReceipt> = {}): ValidReceipt => ({
    receiptId: 'r-2', guid: 'g-1', clinicId: 1, status: 'delivered', chargeMicros: 7900, segments: 1, countryCode: 'US', sentAtMs: NOV, statusAtMs: NOV + 5000, ...over,
  });
  const stored = (over: Partial<StoredMessage> = {}): StoredMessage => ({
    clinic_id: 1, sent_at: NOV, status: 'delivery_unconfirmed', charge_micros: 7900, final_receipt_id: 'r-1', final_status_at: NOV + 4000, ...over,
  });
  const usage = (deltas: UsageDeltas) => deltas.rows(0).map(([month, clinic, sc, sm]) => [month, clinic, sc, sm]);

  it('a message new to the database takes its receipt and adds one message and its charge', () => {
    const deltas = new UsageDeltas();
    expect(mergeReceipt(null, receipt(), months, deltas)).toBe(true);
    expect(usage(deltas)).toEqual([['2026-11', 1, 1, 7900]]);
  });

  it('a later receipt replaces the stored final one and moves the contribution exactly', () => {
    const deltas = new UsageDeltas();
    // The stored row counted in October at clinic 2 with 7,900; the new final one counts in November at clinic 1 with 15,800.
    expect(mergeReceipt(stored({ clinic_id: 2, sent_at: OCT }), receipt({ chargeMicros: 15800 }), months, deltas)).toBe(true);
    expect(usage(deltas).sort()).toEqual([['2026-10', 2, -1, -7900], ['2026-11', 1, 1, 15800]].sort());
  });

  it('an earlier receipt, or the stored final one again, changes nothing (PostgreSQL gives numbers as strings)', () => {
    const deltas = new UsageDeltas();
    expect(mergeReceipt(stored({ final_status_at: String(NOV + 6000) }), receipt(), months, deltas)).toBe(false);
    expect(mergeReceipt(stored({ final_receipt_id: 'r-2', final_status_at: NOV + 5000 }), receipt(), months, deltas)).toBe(false);
    // A tie on statusAt: the greater receiptId ('r-9' > 'r-10') stays.
    expect(mergeReceipt(stored({ final_receipt_id: 'r-9', final_status_at: NOV + 5000 }), receipt({ receiptId: 'r-10' }), months, deltas)).toBe(false);
    expect(usage(deltas)).toEqual([]);
  });

  it('an office message awaiting its first receipt takes any receipt; a refused one never counted', () => {
    const deltas = new UsageDeltas();
    expect(mergeReceipt(stored({ final_receipt_id: null, final_status_at: null, status: 'pending', charge_micros: null }), receipt(), months, deltas)).toBe(true);
    // pending counted as one message with no charge: only the charge arrives.
    expect(usage(deltas)).toEqual([['2026-11', 1, 0, 7900]]);
    const refused = new UsageDeltas();
    expect(mergeReceipt(stored({ final_receipt_id: null, final_status_at: null, status: 'failed', charge_micros: null }), receipt(), months, refused)).toBe(true);
    expect(usage(refused)).toEqual([['2026-11', 1, 1, 7900]]);
  });
});
