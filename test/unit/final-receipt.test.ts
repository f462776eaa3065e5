import { compareReceiptOrder, pickFinal } from '../../src/ingest/final-receipt';

interface R {
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

const r = (statusAtMs: number, receiptId: string, status = 'delivered'): R => ({ statusAtMs, receiptId, status });

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

describe('pickFinal', () => {
  it('returns undefined for no receipts and the only one for one', () => {
    expect(pickFinal([])).toBeUndefined();
    const only = r(1, 'x');
    expect(pickFinal([only])).toBe(only);
  });

  it('picks the latest statusAt, not the last to arrive', () => {
    const unconfirmed = r(1000, 'r-2', 'delivery_unconfirmed');
    const delivered = r(2000, 'r-1', 'delivered');
    expect(pickFinal([delivered, unconfirmed])).toBe(delivered);
    expect(pickFinal([unconfirmed, delivered])).toBe(delivered);
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
      expect(pickFinal(order)).toBe(expected);
      count++;
    }
    expect(count).toBe(120);
  });

  it('on ties picks the greatest id by character code', () => {
    for (const order of permutations([r(7, 'B'), r(7, 'a'), r(7, 'A'), r(7, 'b')])) expect(pickFinal(order)!.receiptId).toBe('b');
    for (const order of permutations([r(7, 'r-10'), r(7, 'r-9'), r(7, 'r-100')])) expect(pickFinal(order)!.receiptId).toBe('r-9');
    for (const order of permutations([r(7, 'z'), r(7, 'é'), r(7, 'e')])) expect(pickFinal(order)!.receiptId).toBe('é');
  });

  it('accepts a readonly array and keeps the element type', () => {
    const list: readonly R[] = Object.freeze([r(1, 'a', 'x'), r(2, 'b', 'y')]);
    const final: R | undefined = pickFinal(list);
    expect(final?.status).toBe('y');
  });
});
