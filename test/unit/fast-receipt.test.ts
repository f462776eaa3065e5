import { receiptSchema, fastReceipt, splitPage } from '../../src/hq/items';
import { parseIsoUtcMs } from '../../src/hq/schemas';
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

  it('reads every timestamp as parseIsoUtcMs does: the digit-by-digit form HQ writes, and every other form', () => {
    const stamps = [
      '2000-01-01T00:00:00.000Z', '1999-12-31T23:59:59.999Z', '2999-12-31T23:59:59.999Z', '3000-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z',
      '2000-02-29T12:00:00.000Z', '2100-02-29T12:00:00.000Z', '2400-02-29T12:00:00.000Z', '2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z',
      '2026-02-28T23:59:59.999Z', '2026-04-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z', '2026-12-31T00:00:00.000Z', '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z', '2026-11-00T00:00:00.000Z', '2026-11-32T00:00:00.000Z', '2026-11-02T23:59:59.999Z', '2026-11-02T24:00:00.000Z',
      '2026-11-02T15:60:00.000Z', '2026-11-02T15:04:60.000Z', '2026-11-02T15:04:05.000z', '2026-11-02t15:04:05.000Z', '2026/11/02T15:04:05.000Z',
      '2026-11-02T15:04:05,000Z', '2026-11-02T15-04:05.000Z', '2026-1a-02T15:04:05.000Z', '2026-11-02T15:04:05.0a0Z', '202６-11-02T15:04:05.000Z',
      '2026-11-02T15:04:05.+00Z', '+026-11-02T15:04:05.000Z', '2026-11-02T15:04:05.000Zx', '2026-11-02T15:04:05.00Z', '2026-11-02T15:04:05.0000Z',
      '2026-11-02T15:04:05Z', '2026-11-02T15:04:05.123456789Z', ' 026-11-02T15:04:05.000Z', '2026-11-02T15:04:05.000 ',
    ];
    // And a spread over the years HQ may use, every month's last days included.
    for (let t = Date.parse('2000-01-01T00:00:00.000Z'); t < Date.parse('2999-12-31T00:00:00.000Z'); t += 86_400_000 * 97 + 3_723_456) stamps.push(new Date(t).toISOString());
    for (let m = 0; m < 48; m++) for (const d of [28, 29, 30, 31]) stamps.push(`${2023 + Math.floor(m / 12)}-${String(1 + (m % 12)).padStart(2, '0')}-${d}T08:09:10.011Z`);
    let read = 0;
    for (const sentAt of stamps) {
      const want = parseIsoUtcMs(sentAt);
      const fast = fastReceipt({ ...base, sentAt });
      expect([sentAt, fast === null ? null : fast.sentAtMs]).toEqual([sentAt, want]);
      expectAgreement({ ...base, statusAt: sentAt });
      if (want !== null) read++;
    }
    expect(read).toBeGreaterThan(stamps.length / 2);
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
