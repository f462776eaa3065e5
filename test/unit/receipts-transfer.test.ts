/**
 * A receipts page crosses to the SQLite writer thread as columns (src/ingest/receipts-transfer.ts):
 * what arrives must be exactly what was sent, whatever the texts hold, and a page with a field of
 * another type must not be packed at all (it travels as objects, so the database sees the value).
 */
import type { ValidReceipt } from '../../src/hq/items';
import { packReceipts, unpackReceipts } from '../../src/ingest/receipts-transfer';

const receipt = (n: number, over: Partial<ValidReceipt> = {}): ValidReceipt => ({
  receiptId: `r-${n}`, guid: `g-${n}`, clinicId: 1 + (n % 7), status: 'delivered', chargeMicros: 7900 * n, segments: 1 + (n % 3),
  countryCode: 'US', sentAtMs: Date.parse('2026-11-10T15:00:00.000Z') + n, statusAtMs: Date.parse('2026-11-10T15:00:04.000Z') + n, ...over,
});

describe('receipts page transfer to the writer thread', () => {
  it('gives back every receipt exactly, texts of any content and length, numbers to the last bit', () => {
    const page = [
      receipt(1),
      receipt(2, { receiptId: '', guid: 'g\u0000with NUL', status: 'failed_no_charge', countryCode: 'CA' }),
      receipt(3, { receiptId: 'é😀\ud800lone', guid: 'x'.repeat(300), chargeMicros: Number.MAX_SAFE_INTEGER, sentAtMs: 0, statusAtMs: -1 }),
      receipt(4, { clinicId: 2_147_483_647, segments: 0.5, chargeMicros: Number.NaN }),
      ...Array.from({ length: 1_000 }, (_, i) => receipt(10 + i)),
    ];
    const back = unpackReceipts(packReceipts(page)!);
    expect(back).toEqual(page);
    expect(Object.is(back[3]!.chargeMicros, Number.NaN)).toBe(true);
  });

  it('an empty page stays empty', () => {
    expect(unpackReceipts(packReceipts([])!)).toEqual([]);
  });

  it('does not pack a page with a field of another type', () => {
    expect(packReceipts([receipt(1), receipt(2, { guid: null as unknown as string })])).toBeNull();
    expect(packReceipts([receipt(1, { clinicId: '3' as unknown as number })])).toBeNull();
    expect(packReceipts([receipt(1, { sentAtMs: 10n as unknown as number })])).toBeNull();
  });
});
