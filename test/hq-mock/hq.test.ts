import { randomUUID } from 'node:crypto';
import { MockClock } from '../../src/hq-mock/clock';
import { HqState } from '../../src/hq-mock/hq';
import { UUID_PATTERN } from '../../src/hq-mock/ids';

const T0 = Date.parse('2026-11-20T12:00:00.000Z');
const DAY = 86_400_000;
const newHq = (opts: { monthlyLimitUsd?: string; seed?: number } = {}) => new HqState({ clock: new MockClock(() => T0), ...opts });

type Json = Record<string, unknown>;
const page = (hq: HqState, limit = 1000) => JSON.parse(hq.pageReceipts(limit).json) as { receipts: Json[]; more: boolean };
const inboundPage = (hq: HqState, limit = 1000) => JSON.parse(hq.pageInbound(limit).json) as { messages: Json[]; more: boolean };

describe('HqState: POST /v1/messages rules', () => {
  const msg = () => ({ guid: randomUUID(), clinicId: 1, toPhone: '+15035550199', body: 'See you at 3pm' });

  test('202, then 200 with the same body for the same content, 409 for other content', () => {
    const hq = newHq();
    const m = msg();
    const first = hq.postMessage(m);
    expect(first).toEqual({ status: 202, body: { guid: m.guid, segments: 1, status: 'pending', acceptedAt: new Date(T0).toISOString() } });
    expect(hq.postMessage({ ...m })).toEqual({ ...first, status: 200 });
    expect(hq.postMessage({ ...m, body: 'other' }).status).toBe(409);
    expect(hq.postMessage({ ...m, clinicId: 2 }).status).toBe(409);
  });

  test('404 unknown clinic (also one only traffic names), 403 not subscribed', () => {
    const hq = newHq();
    expect(hq.postMessage({ ...msg(), clinicId: 99 })).toEqual({ status: 404, body: { error: 'unknown_clinic' } });
    expect(hq.postMessage({ ...msg(), clinicId: 7 }).status).toBe(404);
    expect(hq.postMessage({ ...msg(), clinicId: 4 })).toEqual({ status: 403, body: { error: 'clinic_not_subscribed' } });
  });

  test('402 once this month charges reach the limit; last month does not count', () => {
    const hq = newHq({ monthlyLimitUsd: '0.0158' });
    hq.configure({ outcomes: { delivered: 1, unconfirmedThenDelivered: 0, tie: 0, failedWithCharge: 0, failedNoCharge: 0 } });
    hq.injectInbound({ clinicId: 1, fromPhone: '+15035550199', body: 'old', receivedAt: '2026-10-31T23:59:59.999Z' });
    expect(hq.postMessage(msg()).status).toBe(202);
    expect(hq.chargesThisMonth()).toBe(7900);
    expect(hq.postMessage(msg()).status).toBe(202);
    expect(hq.postMessage(msg())).toEqual({ status: 402, body: { error: 'monthly_limit_reached' } });
    hq.configure({ monthlyLimitUsd: '1.00' });
    expect(hq.postMessage(msg()).status).toBe(202);
  });

  test("a posted message's receipts arrive after receiptDelayMs, naming its guid", () => {
    const hq = newHq();
    hq.configure({ outcomes: { delivered: 1, unconfirmedThenDelivered: 0, tie: 0, failedWithCharge: 0, failedNoCharge: 0 } });
    const m = msg();
    hq.postMessage({ ...m, body: 'x'.repeat(161) }); // two parts
    expect(page(hq).receipts).toEqual([]);
    hq.clock.advance(2000);
    const [r] = page(hq).receipts;
    expect(r).toMatchObject({ guid: m.guid, clinicId: 1, status: 'delivered', chargeUsd: '0.0158', segments: 2, countryCode: 'US' });
    expect(r!.sentAt).toBe(new Date(T0).toISOString());
    expect(r!.statusAt).toBe(new Date(T0 + 2000).toISOString());
  });

  test('an unconfirmed-then-delivered message gets two receipts, the later with a later statusAt', () => {
    const hq = newHq();
    hq.configure({ outcomes: { delivered: 0, unconfirmedThenDelivered: 1, tie: 0, failedWithCharge: 0, failedNoCharge: 0 } });
    hq.postMessage(msg());
    hq.clock.advance(2000 + 30_000);
    const receipts = page(hq).receipts;
    expect(receipts.map((r) => r.status).sort()).toEqual(['delivered', 'delivery_unconfirmed']);
    const byStatus = Object.fromEntries(receipts.map((r) => [r.status, r]));
    expect(Date.parse(byStatus.delivered!.statusAt as string)).toBeGreaterThan(Date.parse(byStatus.delivery_unconfirmed!.statusAt as string));
    expect(hq.chargesThisMonth()).toBe(7900); // billed once
  });
});

describe('HqState: generated traffic', () => {
  test('is deterministic given a seed (ids aside, which are unique per run)', () => {
    const strip = (items: Json[]) => items.map(({ receiptId, inboundId, ...rest }) => (void receiptId, void inboundId, rest));
    const run = () => {
      const hq = newHq();
      hq.generate({ messages: 300, inbound: 100, malformed: 10, seed: 42 });
      return { hq, receipts: strip(page(hq).receipts), inbound: strip(inboundPage(hq).messages) };
    };
    const a = run();
    const b = run();
    expect(a.receipts).toEqual(b.receipts);
    expect(a.inbound).toEqual(b.inbound);
    expect(a.hq.runTag).not.toBe(b.hq.runTag);
  });

  test('looks like the contract: ids, guids, statuses, money, extra fields, stray clinics, malformed kinds', () => {
    const hq = newHq();
    const r = hq.generate({ messages: 4000, inbound: 1000, malformed: 16, seed: 5 });
    expect(r).toMatchObject({ messages: 4000, inbound: 1000, malformed: { receipts: 8, inbound: 8, withoutId: 2 } });
    expect(r.from).toBe(new Date(T0 - 30 * DAY).toISOString());
    hq.clock.advance(DAY); // let the last receipts arrive
    const receipts: Json[] = [];
    for (let p = page(hq); ; p = page(hq)) {
      receipts.push(...p.receipts);
      if (!p.more) break;
    }
    expect(receipts).toHaveLength(r.receipts + 8);
    const valid = receipts.filter((x) => typeof x.receiptId === 'string' && /^r-[0-9a-z]{6}-\d{9}$/.test(x.receiptId));
    expect(valid.length).toBe(r.receipts + 7);
    const statuses = new Set(receipts.map((x) => x.status));
    for (const s of ['delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge', 'lost']) expect(statuses).toContain(s);
    const charges = new Set(receipts.map((x) => x.chargeUsd));
    for (const c of ['0.0079', '0.0075', '0', '1e-3', '-0.01', 'abc']) expect(charges).toContain(c);
    expect(receipts.some((x) => x.segments === '2')).toBe(true);
    expect(receipts.some((x) => x.statusAt === undefined)).toBe(true);
    expect(receipts.some((x) => 'carrier' in x)).toBe(true);
    expect(receipts.some((x) => x.clinicId === 7)).toBe(true);
    expect(receipts.every((x) => typeof x.guid === 'string' && UUID_PATTERN.test(x.guid))).toBe(true);
    // Oldest first (no redelivery happened here).
    const sentAts = receipts.map((x) => Date.parse(x.sentAt as string));
    const ordered = sentAts.filter((_, k) => valid.includes(receipts[k]!));
    expect(ordered).toEqual([...ordered].sort((p, q) => p - q));
    // Two receipts of one guid share sentAt and clinicId.
    const byGuid = new Map<string, Json[]>();
    for (const x of valid) byGuid.set(x.guid as string, [...(byGuid.get(x.guid as string) ?? []), x]);
    const pairs = [...byGuid.values()].filter((g) => g.length === 2);
    expect(pairs.length).toBeGreaterThan(100);
    for (const [p, q] of pairs) expect([p!.sentAt, p!.clinicId]).toEqual([q!.sentAt, q!.clinicId]);
    // Some ties on statusAt exist, so the receiptId tie-break is exercised.
    expect(pairs.some(([p, q]) => p!.statusAt === q!.statusAt)).toBe(true);

    const inbound: Json[] = [];
    for (let p = inboundPage(hq); ; p = inboundPage(hq)) {
      inbound.push(...p.messages);
      if (!p.more) break;
    }
    expect(inbound).toHaveLength(1000 + 8);
    const phone = /^\+[1-9]\d{1,14}$/;
    const good = inbound.filter((m) => typeof m.inboundId === 'string');
    expect(good).toHaveLength(1007);
    expect(good.filter((m) => typeof m.fromPhone === 'string').every((m) => phone.test(m.fromPhone as string) && phone.test(m.toPhone as string))).toBe(true);
    expect(inbound.some((m) => m.body === 'STOP')).toBe(true);
    expect(inbound.some((m) => (m.segments as number) > 1)).toBe(true);
  });

  test('monthly charges track the final receipt of each message (402 counts HQ-side usage)', () => {
    const hq = newHq();
    hq.generate({ messages: 2000, inbound: 500, from: T0 - 10 * DAY, to: T0 - DAY, seed: 9 });
    hq.clock.advance(DAY);
    const truth = hq.truth('UTC');
    expect(truth.months['2026-11']!.totals.sentCount).toBe(2000);
    const t = truth.months['2026-11']!.totals;
    const sum = Math.round((Number(t.sentChargesUsd) + Number(t.receivedChargesUsd)) * 1e6);
    expect(hq.chargesThisMonth()).toBe(sum);
  });
});
