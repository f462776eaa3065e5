import { receiptSchema, fastReceipt, splitPage } from '../../src/hq/items';
import { HqState } from '../../src/hq-mock/hq';
import { contractReceipt } from '../support/hq-items';

const base: Record<string, unknown> = contractReceipt();

/** The fast path may decline anything, but what it accepts the schema must accept, with the same result. */
function expectAgreement(item: unknown): 'fast' | 'schema' {
  const fast = fastReceipt(item);
  const zod = receiptSchema.safeParse(item);
  if (fast === null) return 'schema';
  expect(zod.success).toBe(true);
  expect(fast).toStrictEqual(zod.data);
  return 'fast';
}

const VALUES: unknown[] = [
  undefined, null, true, 0, -1, 1, 1.5, 2 ** 53, 2 ** 53 - 1, Number.NaN, Infinity, '', ' ', '1', 'x'.repeat(40), 'x'.repeat(41),
  'x'.repeat(200), 'x'.repeat(201), [], {}, '0.0079', '1e-3', '-0.01', '0.0000001', '12.5', '00.10', '.5', '5.', ' 0.01',
  '2026-11-02T15:04:05.000Z', '2026-11-02T15:04:05Z', '2026-11-02T15:04:05.123456789Z', '2026-02-30T00:00:00.000Z',
  '2026-11-02T24:00:00.000Z', '2026-11-02 15:04:05.000Z', '1999-12-31T23:59:59.999Z', '2026-11-02T15:04:05.000+00:00',
  'US', 'us', 'USA', 'delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge', 'lost', 'DELIVERED',
  'a\ud800b', '\u{1F600}',
  // The database's limits.
  2 ** 31 - 1, 2 ** 31, 3_000_000_000, '1000', '1000.000001', '5000000000', 'a\u0000b', 'x'.repeat(256),
];

describe('fast receipt validation', () => {
  it('agrees with the schema on every single-field variation of a good receipt', () => {
    expect(expectAgreement(base)).toBe('fast');
    for (const field of Object.keys(base)) {
      for (const value of VALUES) {
        const item = { ...base, [field]: value };
        if (value === undefined) delete item[field];
        expectAgreement(item);
      }
    }
    for (const item of [null, undefined, 1, 'x', [base], Object.assign(Object.create(null), base), { ...base, extra: 1, __proto__: { x: 1 } }]) {
      expectAgreement(item);
    }
  });

  it('takes every well-formed receipt the HQ mock generates, with the schema\'s result, and splitPage is unchanged', () => {
    const hq = new HqState({ seed: 7 });
    const to = Date.now() - 7 * 3_600_000;
    hq.generate({ messages: 3000, malformed: 40, extraFieldRate: 0.2, from: to - 40 * 86_400_000, to });
    const items = (JSON.parse(hq.pageReceipts(1000).json) as { receipts: unknown[] }).receipts
      .concat((JSON.parse(hq.pageReceipts(1000).json) as { receipts: unknown[] }).receipts)
      .concat((JSON.parse(hq.pageReceipts(1000).json) as { receipts: unknown[] }).receipts)
      .concat((JSON.parse(hq.pageReceipts(1000).json) as { receipts: unknown[] }).receipts);
    let fast = 0;
    let valid = 0;
    for (const item of items) {
      if (receiptSchema.safeParse(item).success) valid++;
      if (expectAgreement(item) === 'fast') fast++;
    }
    expect(fast).toBe(valid);
    expect(valid).toBeLessThan(items.length); // the malformed ones went to the schema

    const split = splitPage('receipt', items);
    const viaSchema = items.map((i) => receiptSchema.safeParse(i)).filter((r) => r.success).map((r) => r.data);
    expect(split.valid).toStrictEqual(viaSchema);
    expect(split.quarantined).toHaveLength(items.length - valid);
  });
});
