import { MockClock } from '../../src/hq-mock/clock';
import { HqState } from '../../src/hq-mock/hq';
import { RETENTION_MS } from '../../src/hq-mock/store';
import { computeTruth, isLaterReceipt, type ReceiptFact } from '../../src/hq-mock/truth';

const at = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

function receipt(over: Partial<ReceiptFact>): ReceiptFact {
  return {
    guid: 'g1',
    receiptId: 'r-x-000000001',
    clinicId: 1,
    sentAt: at('2026-11-10T12:00:00.000Z'),
    statusAt: at('2026-11-10T12:00:05.000Z'),
    chargeMicros: 7900,
    ...over,
  };
}

describe('isLaterReceipt', () => {
  test('the later statusAt wins', () => {
    const a = { statusAt: 2, receiptId: 'r-1' };
    const b = { statusAt: 1, receiptId: 'r-9' };
    expect(isLaterReceipt(a, b)).toBe(true);
    expect(isLaterReceipt(b, a)).toBe(false);
  });

  test('on a tie the greater receiptId wins, compared as JavaScript compares strings', () => {
    // By code unit "r-9" > "r-10" (a number-aware compare would say the opposite).
    const nine = { statusAt: 5, receiptId: 'r-9' };
    const ten = { statusAt: 5, receiptId: 'r-10' };
    expect(isLaterReceipt(nine, ten)).toBe(true);
    expect(isLaterReceipt(ten, nine)).toBe(false);
    // Upper case sorts before lower case by code unit, unlike localeCompare.
    expect(isLaterReceipt({ statusAt: 5, receiptId: 'r-a' }, { statusAt: 5, receiptId: 'r-B' })).toBe(true);
    expect(isLaterReceipt(nine, nine)).toBe(false);
  });
});

describe('computeTruth', () => {
  test('one message counts once, with its final receipt charge (never the sum)', () => {
    const truth = computeTruth(
      [
        receipt({ receiptId: 'r-x-000000002', statusAt: at('2026-11-10T13:00:00.000Z'), chargeMicros: 7900 }),
        receipt({ receiptId: 'r-x-000000001', statusAt: at('2026-11-10T12:00:05.000Z'), chargeMicros: 15800 }),
      ],
      [],
      'UTC',
      0,
    );
    expect(truth.months['2026-11']!.clinics['1']).toEqual({ sentCount: 1, sentChargesUsd: '0.0079', receivedCount: 0, receivedChargesUsd: '0.00' });
  });

  test('a tie on statusAt is broken by the greater receiptId, by code unit', () => {
    const statusAt = at('2026-11-10T12:00:05.000Z');
    const facts = [receipt({ receiptId: 'r-9', statusAt, chargeMicros: 0 }), receipt({ receiptId: 'r-10', statusAt, chargeMicros: 7900 })];
    for (const order of [facts, [...facts].reverse()]) {
      const truth = computeTruth(order, [], 'UTC', 0);
      expect(truth.months['2026-11']!.totals.sentChargesUsd).toBe('0.00'); // "r-9" wins
    }
  });

  test('months are counted in the given zone, by sentAt and receivedAt', () => {
    // 03:00Z on Nov 1 is still October 31 in Chicago.
    const sentAt = at('2026-11-01T03:00:00.000Z');
    const facts = [receipt({ sentAt, statusAt: sentAt + 5000 })];
    const inbound = [{ clinicId: 2, receivedAt: at('2026-11-01T04:59:59.999Z'), chargeMicros: 7900 }];
    expect(Object.keys(computeTruth(facts, inbound, 'UTC', 0).months)).toEqual(['2026-11']);
    const chicago = computeTruth(facts, inbound, 'America/Chicago', 0);
    expect(Object.keys(chicago.months)).toEqual(['2026-10']);
    expect(chicago.months['2026-10']!.totals).toEqual({ sentCount: 1, sentChargesUsd: '0.0079', receivedCount: 1, receivedChargesUsd: '0.0079' });
  });

  test('clinics are keyed by id, totals add up exactly in micro-dollars', () => {
    const facts = [
      receipt({ guid: 'a', clinicId: 3, chargeMicros: 7500 }),
      receipt({ guid: 'b', clinicId: 7, chargeMicros: 1 }),
      receipt({ guid: 'c', clinicId: 3, chargeMicros: 15000 }),
    ];
    const inbound = [
      { clinicId: 3, receivedAt: at('2026-11-02T00:00:00.000Z'), chargeMicros: 7500 },
      { clinicId: 3, receivedAt: at('2026-11-03T00:00:00.000Z'), chargeMicros: 7500 },
    ];
    const m = computeTruth(facts, inbound, 'UTC', 4).months['2026-11']!;
    expect(Object.keys(m.clinics)).toEqual(['3', '7']);
    expect(m.clinics['3']).toEqual({ sentCount: 2, sentChargesUsd: '0.0225', receivedCount: 2, receivedChargesUsd: '0.015' });
    expect(m.totals).toEqual({ sentCount: 3, sentChargesUsd: '0.022501', receivedCount: 2, receivedChargesUsd: '0.015' });
  });
});

describe('HqState.truth', () => {
  const T0 = at('2026-11-20T12:00:00.000Z');
  const newHq = () => new HqState({ clock: new MockClock(() => T0), seed: 7 });

  test('items deleted by retention before an ack are excluded; acked ones stay', () => {
    const hq = newHq();
    const old = new Date(T0 - 59 * DAY).toISOString();
    const a = hq.injectMessage({ clinicId: 1, sentAt: old, receipts: [{ status: 'delivered', statusAt: old }] });
    hq.injectMessage({ clinicId: 2, sentAt: old, receipts: [{ status: 'delivered', statusAt: old }] });
    hq.injectInbound({ clinicId: 1, fromPhone: '+15035550199', body: 'Yes', receivedAt: old });
    expect(hq.ackReceipts(a.receiptIds)).toBe(1);

    const before = hq.truth('UTC');
    const month = new Date(T0 - 59 * DAY).toISOString().slice(0, 7);
    expect(before.months[month]!.totals).toMatchObject({ sentCount: 2, receivedCount: 1 });

    hq.clock.advance(RETENTION_MS - 59 * DAY); // exactly 60 days after sentAt: unacked items are gone
    const after = hq.truth('UTC');
    expect(after.months[month]!.totals).toEqual({ sentCount: 1, sentChargesUsd: '0.0079', receivedCount: 0, receivedChargesUsd: '0.00' });
    expect(after.months[month]!.clinics['2']).toBeUndefined();
  });

  test('the final receipt is chosen among the receipts that still count', () => {
    const hq = newHq();
    const sent = new Date(T0 - 59 * DAY).toISOString();
    const later = new Date(T0 - 59 * DAY + 60_000).toISOString();
    const { receiptIds } = hq.injectMessage({
      clinicId: 1,
      sentAt: sent,
      receipts: [
        { status: 'delivery_unconfirmed', chargeUsd: '0.0079', statusAt: sent },
        { status: 'failed_no_charge', chargeUsd: '0', statusAt: later },
      ],
    });
    const month = sent.slice(0, 7);
    expect(hq.truth('UTC').months[month]!.totals.sentChargesUsd).toBe('0.00');
    // The office got only the first receipt; the final one expires at HQ before any ack.
    hq.ackReceipts([receiptIds[0]!]);
    hq.clock.advance(2 * DAY);
    expect(hq.truth('UTC').months[month]!.totals).toMatchObject({ sentCount: 1, sentChargesUsd: '0.0079' });
  });

  test('receipts not yet at HQ do not count; malformed items never count in usage but are quarantinable', () => {
    const hq = newHq();
    const r = hq.generate({ messages: 0, inbound: 0, malformed: 4, from: T0 - DAY, to: T0 - 1000, seed: 3 });
    expect(r.malformed).toEqual({ receipts: 2, inbound: 2, withoutId: 0 });
    hq.injectMessage({ clinicId: 1, receipts: [{ status: 'delivered', statusAt: new Date(T0 + 5000).toISOString() }] });
    const truth = hq.truth('UTC');
    expect(truth.months).toEqual({});
    expect(truth.quarantinable).toBe(4);
    hq.clock.advance(5000);
    expect(hq.truth('UTC').months['2026-11']!.totals.sentCount).toBe(1);
  });
});
