import { fastInbound, inboundSchema, splitPage } from '../../src/hq/items';
import { MAX_BODY_LENGTH, MAX_ID_LENGTH, MAX_INT32 } from '../../src/hq/schemas';
import { HqState } from '../../src/hq-mock/hq';
import { mulberry32, randInt, type Rng } from '../../src/hq-mock/prng';
import { contractInbound } from '../support/hq-items';

/**
 * fastInbound (src/hq/items.ts) against inboundSchema: what the fast path accepts the schema must
 * accept, with a strictly equal result. On plain objects, as JSON.parse makes them, it must also
 * accept everything the schema accepts (else the fast path silently stops being one).
 */
const base: Record<string, unknown> = contractInbound();
const FIELDS = Object.keys(base);
const EMOJI = '\u{1F600}'; // one code point, two UTF-16 units

function expectAgreement(item: unknown, exact = true): 'fast' | 'schema' {
  const fast = fastInbound(item);
  const zod = inboundSchema.safeParse(item);
  if (exact && (fast !== null) !== zod.success) expect({ item: label(item), fastAccepts: fast !== null }).toStrictEqual({ item: label(item), fastAccepts: zod.success });
  if (fast === null) return 'schema';
  expect(zod.success).toBe(true);
  expect(fast).toStrictEqual(zod.data);
  return 'fast';
}

/** Names an item in a failure without printing 100,000-character bodies. */
function label(item: unknown): string {
  const short = (_k: string, v: unknown): unknown =>
    typeof v === 'bigint' ? `${v}n` : typeof v === 'string' && v.length > 60 ? `${v.slice(0, 20)}…(${v.length} units)…${v.slice(-20)}` : v;
  return JSON.stringify(item, short) ?? String(item);
}

// Edge cases of each field; every value is also tried in every other field.
const COMMON: unknown[] = [undefined, null, true, false, 0, -0, -1, 1, 1.5, Number.NaN, Infinity, -Infinity, '', ' ', [], {}, ['x'], { a: 1 }];
const IDS: unknown[] = [
  'i', 'i-000045', 'x'.repeat(MAX_ID_LENGTH), 'x'.repeat(MAX_ID_LENGTH + 1), 'x'.repeat(MAX_ID_LENGTH - 1) + EMOJI, 'x'.repeat(MAX_ID_LENGTH) + EMOJI,
  EMOJI.repeat(MAX_ID_LENGTH), EMOJI.repeat(MAX_ID_LENGTH + 1), EMOJI.repeat(MAX_ID_LENGTH) + 'x', 'x'.repeat(2 * MAX_ID_LENGTH + 1),
  'x'.repeat(MAX_ID_LENGTH - 1) + '\ud83d', '\ud83d' + 'x'.repeat(MAX_ID_LENGTH), 'a\u0000b', '\u0000', 'a\ud800b', '\udc00', '\udc00\ud800', 'i-1\n', '\u{10FFFF}',
];
const INTS: unknown[] = [2, MAX_INT32, MAX_INT32 + 1, MAX_INT32 - 1, 2 ** 53 - 1, 2 ** 53, -MAX_INT32, 0.5, 1 + 2 ** -52, 1e-300, '1', '2', 1n, new Number(1)];
const PHONES: unknown[] = [
  '+15035550199', '+15035550100', '+12', '+1', '+10', '+123456789012345', '+1234567890123456', '+05035550199', '15035550199', '+', '++15035550199',
  '+1503555019 9', ' +15035550199', '+15035550199 ', '+1503555019a', '+15035550199\n', '\n+15035550199', '+1503\u0000550199', '+\u0661\u0665\u0660\u0663',
  '\uff0b15035550199', '+1503555019\ud800', '+1503555019' + EMOJI,
];
const BODIES: unknown[] = [
  'Yes, see you then', 'STOP', 'line\nbreak\r\n', '\t', 'é', '\u{10FFFF}', '\uFFFD', '\uFEFF', 'a' + EMOJI + 'b', EMOJI,
  'x'.repeat(MAX_BODY_LENGTH), 'x'.repeat(MAX_BODY_LENGTH + 1), 'x'.repeat(MAX_BODY_LENGTH - 1) + EMOJI, 'x'.repeat(MAX_BODY_LENGTH) + EMOJI,
  EMOJI.repeat(MAX_BODY_LENGTH), EMOJI.repeat(MAX_BODY_LENGTH) + 'x', 'x'.repeat(2 * MAX_BODY_LENGTH + 1),
  'x'.repeat(MAX_BODY_LENGTH - 1) + '\ud83d', '\ude00' + 'x'.repeat(MAX_BODY_LENGTH - 1), 'x'.repeat(MAX_BODY_LENGTH - 1) + '\u0000',
  'a\u0000b', '\u0000', '\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\ud83d\ud83d\ude00', '\ud83d\ude00\ude00',
];
const TIMES: unknown[] = [
  '2026-11-03T16:00:00.000Z', '2026-11-03T16:00:00Z', '2026-11-03T16:00:00.1Z', '2026-11-03T16:00:00.123456789Z', '2026-11-03T16:00:00.1234567890Z',
  '2026-02-29T00:00:00.000Z', '2028-02-29T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-11-03T24:00:00.000Z',
  '2026-11-03T23:60:00.000Z', '2026-11-03T23:59:60.000Z', '2026-13-01T00:00:00.000Z', '2026-00-01T00:00:00.000Z', '2026-11-00T00:00:00.000Z',
  '2000-01-01T00:00:00.000Z', '1999-12-31T23:59:59.999Z', '2999-12-31T23:59:59.999Z', '3000-01-01T00:00:00.000Z', '2026-11-03 16:00:00.000Z',
  '2026-11-03T16:00:00.000+00:00', '2026-11-03T16:00:00.000z', '2026-11-03T16:00:00.000Z\n', '+02026-11-03T16:00:00.000Z', '2026-11-03',
  '2026-11-03T16:00:00.' + '0'.repeat(20) + 'Z', '\u0662026-11-03T16:00:00.000Z',
];
const CHARGES: unknown[] = [
  '0', '0.0', '0.0079', '0.000001', '0.0000001', '1000', '1000.0', '1000.000000', '1000.000001', '999.999999', '1001', '1e3', '-0.01', '+0.01',
  '00.10', '.5', '5.', ' 0.01', '0.01 ', '0,01', '9'.repeat(40), '9'.repeat(41), '0.' + '0'.repeat(38), '9007199254.740991', '0x10', '\u0661', 'NaN', 'Infinity',
];
const ALL_VALUES = [...COMMON, ...IDS, ...INTS, ...PHONES, ...BODIES, ...TIMES, ...CHARGES];

describe('fast inbound validation', () => {
  it('takes the contract\'s example reply, with the schema\'s result', () => {
    expect(expectAgreement(base)).toBe('fast');
    expect(fastInbound(base)).toStrictEqual({
      inboundId: 'i-000045', clinicId: 2, fromPhone: '+15035550199', toPhone: '+15035550100', body: 'Yes, see you then',
      receivedAtMs: Date.parse('2026-11-03T16:00:00.000Z'), chargeMicros: 7900, segments: 1,
    });
  });

  it('agrees with the schema on every single-field variation of a good reply, at every field\'s limits', () => {
    let fast = 0;
    let schema = 0;
    for (const field of FIELDS) {
      for (const value of ALL_VALUES) {
        const item = { ...base, [field]: value };
        if (value === undefined) delete item[field];
        if (expectAgreement(item) === 'fast') fast++;
        else schema++;
      }
    }
    // Both sides of every limit were reached.
    expect(fast).toBeGreaterThan(100);
    expect(schema).toBeGreaterThan(500);
  });

  it('agrees with the schema on objects that are not plain JSON objects', () => {
    const inherited = Object.create(base) as Record<string, unknown>;
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, base);
    const ownProto = JSON.parse(`{"__proto__": {"inboundId": "i-1"}, ${JSON.stringify(base).slice(1).replace(/"inboundId":"[^"]*",/, '')}`) as unknown;
    for (const item of [null, undefined, 1, 'x', [base], inherited, nullProto, ownProto, { ...base, extra: 1, __proto__: { x: 1 } }, new Date(), new Map(Object.entries(base))]) {
      expectAgreement(item, false);
    }
    expect(fastInbound(ownProto)).toBeNull(); // an own "__proto__" key is not an inboundId
    expect(fastInbound({ ...base, extra: 'x', more: { nested: true } })).toStrictEqual(fastInbound(base)); // unknown fields are dropped
  });

  it('agrees with the schema on thousands of generated replies, good and bad in every field', () => {
    const rng = mulberry32(18);
    let fast = 0;
    let schema = 0;
    for (let n = 0; n < 10_000; n++) {
      const item = generatedReply(rng);
      if (expectAgreement(item) === 'fast') fast++;
      else schema++;
    }
    // The generator reaches both sides often (about half of its replies are good).
    expect(fast).toBeGreaterThan(2000);
    expect(schema).toBeGreaterThan(2000);
  });

  it('takes every well-formed reply the HQ mock generates, and splitPage is unchanged', () => {
    const hq = new HqState({ seed: 11 });
    const to = Date.now() - 7 * 3_600_000;
    hq.generate({ messages: 0, inbound: 3000, malformed: 40, extraFieldRate: 0.2, from: to - 40 * 86_400_000, to });
    const items: unknown[] = [];
    for (let p = 0; p < 4; p++) items.push(...(JSON.parse(hq.pageInbound(1000).json) as { messages: unknown[] }).messages);
    let fast = 0;
    let valid = 0;
    for (const item of items) {
      if (inboundSchema.safeParse(item).success) valid++;
      if (expectAgreement(item) === 'fast') fast++;
    }
    expect(fast).toBe(valid);
    expect(valid).toBeGreaterThan(2900);
    expect(valid).toBeLessThan(items.length); // the malformed ones went to the schema

    const split = splitPage('inbound', items);
    const viaSchema = items.map((i) => inboundSchema.safeParse(i)).filter((r) => r.success).map((r) => r.data);
    expect(split.valid).toStrictEqual(viaSchema);
    expect(split.quarantined).toHaveLength(items.length - valid);
  });
});

// A generator of replies: each field is good about 95% of the time (so about half the replies are
// good), drawn near its limits; a bad field is a random edge case of any field, or a field left out.

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const ALPHABET = ['a', 'Z', '0', '-', ' ', 'é', '\n', '\u4e2d', EMOJI, '\u{10FFFF}', '\uFFFD'];
const RARE = ['\u0000', '\ud83d', '\ude00', '\udbff'];

/** About `length` UTF-16 units: filler with up to six random characters at its ends and middle (a pair may add a unit each). */
function text(rng: Rng, length: number, badRate: number): string {
  const extra = Math.min(length, 6);
  let s = 'x'.repeat(length - extra);
  for (let i = 0; i < extra; i++) {
    const c = pick(rng, ALPHABET);
    const r = rng();
    s = r < 0.4 ? s + c : r < 0.8 ? c + s : s.slice(0, s.length >> 1) + c + s.slice(s.length >> 1);
  }
  if (rng() < badRate) {
    const at = randInt(rng, 0, s.length);
    s = s.slice(0, at) + pick(rng, RARE) + s.slice(at);
  }
  return s;
}

/** A length near 0, in the middle, or within a few units of `max` (or of twice it: surrogate pairs). */
function lengthNear(rng: Rng, max: number): number {
  const r = rng();
  if (r < 0.4) return randInt(rng, 0, 30);
  if (r < 0.7) return randInt(rng, Math.max(0, max - 3), max + 3);
  if (r < 0.8) return randInt(rng, 2 * max - 3, 2 * max + 2);
  return randInt(rng, 0, max);
}

function id(rng: Rng): string {
  return text(rng, lengthNear(rng, MAX_ID_LENGTH), 0.02);
}

function phone(rng: Rng): string {
  const digits = rng() < 0.9 ? randInt(rng, 2, 15) : randInt(rng, 0, 17);
  let s = rng() < 0.98 ? '+' : '';
  for (let i = 0; i < digits; i++) s += String(i === 0 && rng() < 0.95 ? randInt(rng, 1, 9) : randInt(rng, 0, 9));
  if (rng() < 0.02) s += pick(rng, [' ', '\n', 'a', '\u0661', EMOJI]);
  return s;
}

function body(rng: Rng): string {
  const r = rng();
  const length = r < 0.01 ? randInt(rng, MAX_BODY_LENGTH - 3, MAX_BODY_LENGTH + 3) : r < 0.015 ? randInt(rng, 2 * MAX_BODY_LENGTH - 3, 2 * MAX_BODY_LENGTH + 2) : randInt(rng, 0, 300);
  return text(rng, length, 0.02);
}

function int32(rng: Rng): number {
  const r = rng();
  if (r < 0.9) return randInt(rng, 1, 1000);
  if (r < 0.96) return pick(rng, [1, MAX_INT32, MAX_INT32 - 1]);
  return pick(rng, [0, -1, MAX_INT32 + 1, 2 ** 53, 1.5, -0]);
}

function timestamp(rng: Rng): string {
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const good = rng() < 0.97;
  const year = good ? randInt(rng, 2000, 2999) : randInt(rng, 1998, 3001);
  const month = good ? randInt(rng, 1, 12) : randInt(rng, 0, 13);
  const day = good ? randInt(rng, 1, 28) : randInt(rng, 0, 32);
  const hour = good ? randInt(rng, 0, 23) : randInt(rng, 0, 25);
  const minute = good ? randInt(rng, 0, 59) : randInt(rng, 0, 61);
  const second = good ? randInt(rng, 0, 59) : randInt(rng, 0, 61);
  const fraction = pick(rng, ['', '.0', '.5', '.999', '.123456', '.123456789', good ? '.000' : '.1234567890']);
  const end = good || rng() < 0.5 ? 'Z' : pick(rng, ['', 'z', '+00:00', 'Z ']);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}${end}`;
}

function charge(rng: Rng): string {
  const r = rng();
  if (r < 0.9) return `${randInt(rng, 0, 9)}.${pad6(randInt(rng, 0, 999_999)).slice(0, randInt(rng, 1, 6))}`;
  if (r < 0.95) return pick(rng, ['1000', '1000.000000', '999.999999', '0', '0.000001']);
  return pick(rng, ['1000.000001', '1001', '0.0000001', '-1', '1e-3', '.5', '9'.repeat(41), `${randInt(rng, 0, 9)}.`]);
}
const pad6 = (n: number): string => String(n).padStart(6, '0');

const GOOD: Record<string, (rng: Rng) => unknown> = {
  inboundId: id, clinicId: int32, fromPhone: phone, toPhone: phone, body, receivedAt: timestamp, chargeUsd: charge, segments: int32,
};

function generatedReply(rng: Rng): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const r = rng();
    if (r < 0.99) item[field] = GOOD[field]!(rng);
    else if (r < 0.995) item[field] = pick(rng, ALL_VALUES);
    // else: left out
  }
  if (rng() < 0.1) item[`extra${randInt(rng, 0, 3)}`] = pick(rng, ALL_VALUES);
  return item;
}
