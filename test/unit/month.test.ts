import { DateTime } from 'luxon';
import { mulberry32 } from '../../src/hq-mock/prng';
import { isMonthKey, MonthBucketer } from '../../src/usage/month';
import { isValidTimeZone } from '../../src/util/time-zone';

const utc = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Seeded PRNG, so a failure reproduces. */
const prng = mulberry32;

const luxonMonth = (ms: number, tz: string): string => DateTime.fromMillis(ms, { zone: tz }).toFormat('yyyy-MM');

describe('isMonthKey', () => {
  it.each(['2026-01', '2026-12', '2000-01', '2999-12'])('accepts %s', (s) => expect(isMonthKey(s)).toBe(true));
  it.each(['2026-00', '2026-13', '2026-1', '26-01', '2026/01', '2026-01-01', ' 2026-01', '2026-01 ', '1999-12', '3000-01', '', '２０２６-01'])(
    'rejects %j',
    (s) => expect(isMonthKey(s)).toBe(false),
  );
});

describe('isValidTimeZone', () => {
  it.each(['America/Chicago', 'Europe/London', 'Australia/Lord_Howe', 'UTC', 'Etc/GMT+5', 'America/Argentina/Buenos_Aires'])('accepts %s', (tz) =>
    expect(isValidTimeZone(tz)).toBe(true),
  );
  it.each(['Mars/Base', '', '+05:00', 'UTC+5', 'America/Chicago ', '../etc/passwd'])('rejects %j', (tz) => expect(isValidTimeZone(tz)).toBe(false));
  it('MonthBucketer refuses an unknown zone', () => {
    expect(() => new MonthBucketer('Mars/Base')).toThrow(RangeError);
  });
});

describe('MonthBucketer in America/Chicago (DST 2026-03-08 and 2026-11-01)', () => {
  const b = new MonthBucketer('America/Chicago');

  it('month ranges start at local midnight, in CST or CDT as it applies', () => {
    expect(b.range('2026-03')).toEqual({ startMs: utc('2026-03-01T06:00:00.000Z'), endMs: utc('2026-04-01T05:00:00.000Z') });
    expect(b.range('2026-11')).toEqual({ startMs: utc('2026-11-01T05:00:00.000Z'), endMs: utc('2026-12-01T06:00:00.000Z') });
  });

  it('range lengths include the DST hour lost or gained', () => {
    const len = (m: string) => b.range(m).endMs - b.range(m).startMs;
    expect(len('2026-03')).toBe(31 * DAY - HOUR);
    expect(len('2026-11')).toBe(30 * DAY + HOUR);
    expect(len('2026-06')).toBe(30 * DAY);
    expect(len('2026-02')).toBe(28 * DAY);
    expect(len('2028-02')).toBe(29 * DAY);
  });

  it('buckets instants around the DST transitions themselves into the same month', () => {
    expect(b.monthOf(utc('2026-03-08T07:59:59.999Z'))).toBe('2026-03'); // 01:59:59.999 CST
    expect(b.monthOf(utc('2026-03-08T08:00:00.000Z'))).toBe('2026-03'); // 03:00 CDT
    expect(b.monthOf(utc('2026-11-01T06:30:00.000Z'))).toBe('2026-11'); // 01:30 CDT
    expect(b.monthOf(utc('2026-11-01T07:30:00.000Z'))).toBe('2026-11'); // 01:30 CST, the repeated hour
  });

  it('puts an instant just before local midnight of the 1st in the previous month, though UTC is already in the next', () => {
    expect(b.monthOf(utc('2026-11-01T04:59:59.999Z'))).toBe('2026-10'); // 23:59:59.999 CDT Oct 31
    expect(b.monthOf(utc('2026-11-01T05:00:00.000Z'))).toBe('2026-11');
    expect(b.monthOf(utc('2026-11-01T03:00:00.000Z'))).toBe('2026-10');
    expect(b.monthOf(utc('2026-03-01T05:59:59.999Z'))).toBe('2026-02'); // 23:59:59.999 CST Feb 28
    expect(b.monthOf(utc('2026-03-01T06:00:00.000Z'))).toBe('2026-03');
    expect(b.monthOf(utc('2027-01-01T05:59:59.999Z'))).toBe('2026-12'); // and across a year
    expect(b.monthOf(utc('2027-01-01T06:00:00.000Z'))).toBe('2027-01');
  });
});

describe('MonthBucketer in other zones', () => {
  it('Europe/London: April starts at 23:00 UTC on March 31 (BST)', () => {
    const b = new MonthBucketer('Europe/London');
    expect(b.range('2026-04').startMs).toBe(utc('2026-03-31T23:00:00.000Z'));
    expect(b.monthOf(utc('2026-03-31T22:59:59.999Z'))).toBe('2026-03');
    expect(b.monthOf(utc('2026-03-31T23:00:00.000Z'))).toBe('2026-04');
    expect(b.range('2026-03').endMs - b.range('2026-03').startMs).toBe(31 * DAY - HOUR);
    expect(b.range('2026-10').endMs - b.range('2026-10').startMs).toBe(31 * DAY + HOUR);
    expect(b.range('2026-01')).toEqual({ startMs: utc('2026-01-01T00:00:00.000Z'), endMs: utc('2026-02-01T00:00:00.000Z') });
  });

  it('Australia/Lord_Howe: half-hour DST (+11:00 in summer, +10:30 in winter)', () => {
    const b = new MonthBucketer('Australia/Lord_Howe');
    // DST ends 2026-04-05 at 02:00 local (back to 01:30).
    expect(b.range('2026-04')).toEqual({ startMs: utc('2026-03-31T13:00:00.000Z'), endMs: utc('2026-04-30T13:30:00.000Z') });
    expect(b.range('2026-04').endMs - b.range('2026-04').startMs).toBe(30 * DAY + HOUR / 2);
    // DST starts 2026-10-04 at 02:00 local (forward to 02:30).
    expect(b.range('2026-10').endMs - b.range('2026-10').startMs).toBe(31 * DAY - HOUR / 2);
    expect(b.monthOf(utc('2026-04-30T13:29:59.999Z'))).toBe('2026-04');
    expect(b.monthOf(utc('2026-04-30T13:30:00.000Z'))).toBe('2026-05');
  });

  it('UTC: months are the UTC calendar months', () => {
    const b = new MonthBucketer('UTC');
    expect(b.range('2026-02')).toEqual({ startMs: utc('2026-02-01T00:00:00.000Z'), endMs: utc('2026-03-01T00:00:00.000Z') });
    expect(b.range('2028-02').endMs - b.range('2028-02').startMs).toBe(29 * DAY);
    expect(b.monthOf(utc('2026-12-31T23:59:59.999Z'))).toBe('2026-12');
    expect(b.monthOf(utc('2027-01-01T00:00:00.000Z'))).toBe('2027-01');
  });

  it('America/Asuncion 2023-10: local midnight of the 1st does not exist, the month starts at 01:00', () => {
    const b = new MonthBucketer('America/Asuncion');
    expect(b.range('2023-10').startMs).toBe(utc('2023-10-01T04:00:00.000Z'));
    expect(b.monthOf(utc('2023-10-01T03:59:59.999Z'))).toBe('2023-09');
  });

  it('America/Havana 2026-11: local midnight of the 1st happens twice, the month starts at the first', () => {
    const b = new MonthBucketer('America/Havana');
    expect(b.range('2026-11').startMs).toBe(utc('2026-11-01T04:00:00.000Z'));
    expect(b.range('2026-10').endMs).toBe(utc('2026-11-01T04:00:00.000Z'));
    expect(b.monthOf(utc('2026-11-01T03:59:59.999Z'))).toBe('2026-10');
    expect(b.monthOf(utc('2026-11-01T04:30:00.000Z'))).toBe('2026-11');
  });
});

describe('MonthBucketer agrees with luxon', () => {
  const zones = [
    'America/Chicago', 'America/New_York', 'America/Los_Angeles', 'America/Phoenix', 'Europe/London', 'Europe/Berlin',
    'Australia/Lord_Howe', 'Australia/Sydney', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns',
    'America/Havana', 'America/Asuncion', 'America/Santiago', 'Africa/Casablanca', 'Pacific/Apia', 'UTC',
  ];
  const from = utc('2020-01-01T00:00:00.000Z');
  const to = utc('2036-01-01T00:00:00.000Z');

  it.each(zones)('for random instants 2020-2035 in %s', (tz) => {
    const b = new MonthBucketer(tz);
    const rand = prng(tz.length * 7919 + tz.charCodeAt(0));
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor(from + rand() * (to - from));
      const got = b.monthOf(ms);
      if (got !== luxonMonth(ms, tz)) throw new Error(`${tz} ${new Date(ms).toISOString()}: got ${got}, luxon ${luxonMonth(ms, tz)}`);
    }
  });

  it.each(zones)('at every month boundary 2020-2035 in %s (the instant before and at the start)', (tz) => {
    const b = new MonthBucketer(tz);
    let month = '2020-01';
    while (month !== '2036-01') {
      const { startMs, endMs } = b.range(month);
      expect(b.range(b.shift(month, 1)).startMs).toBe(endMs);
      for (const ms of [startMs - 1, startMs, startMs + 1, endMs - 1]) {
        const got = b.monthOf(ms);
        if (got !== luxonMonth(ms, tz)) throw new Error(`${tz} ${new Date(ms).toISOString()}: got ${got}, luxon ${luxonMonth(ms, tz)}`);
      }
      expect(b.monthOf(startMs)).toBe(month);
      month = b.shift(month, 1);
    }
  });

  it('stays right when instants jump around, far apart and backwards', () => {
    const tz = 'America/Chicago';
    const b = new MonthBucketer(tz);
    const rand = prng(42);
    const check = (lo: number, hi: number, n: number): void => {
      for (let i = 0; i < n; i++) {
        const ms = Math.floor(lo + rand() * (hi - lo));
        const got = b.monthOf(ms);
        if (got !== luxonMonth(ms, tz)) throw new Error(`${new Date(ms).toISOString()}: got ${got}, luxon ${luxonMonth(ms, tz)}`);
      }
    };
    check(utc('1990-01-01T00:00:00.000Z'), utc('2089-12-01T00:00:00.000Z'), 5000); // within one cached span
    check(utc('1000-01-01T00:00:00.000Z'), utc('9999-01-01T00:00:00.000Z'), 200); // spans restarted
    expect(b.monthOf(utc('1969-12-31T23:59:59.999Z'))).toBe('1969-12');
  });

  // Its speed (about 25k items/s are needed) is measured by scripts/bench/hot-paths.ts, not
  // asserted here: a timed test fails on a busy machine, not on slow code.
  it('answers the hot path (many items of the same few months) as luxon does', () => {
    const b = new MonthBucketer('America/Chicago');
    const rand = prng(7);
    const base = utc('2026-09-01T00:00:00.000Z');
    const instants = Array.from({ length: 1000 }, () => Math.floor(base + rand() * 120 * DAY));
    const want = instants.map((ms) => luxonMonth(ms, 'America/Chicago'));
    for (let round = 0; round < 30; round++) expect(instants.map((ms) => b.monthOf(ms))).toEqual(want);
  });
});

describe('MonthBucketer.current and shift', () => {
  const b = new MonthBucketer('America/Chicago');

  it('current() is the month of now in the zone', () => {
    expect(b.current(utc('2026-12-01T03:00:00.000Z'))).toBe('2026-11');
    // Without an argument: the bucketer's clock (Date.now unless one is given), read once.
    const at = utc('2026-12-01T05:59:59.999Z'); // the last millisecond of November in Chicago
    const pinned = new MonthBucketer('America/Chicago', () => at);
    expect(pinned.current()).toBe('2026-11');
    expect(pinned.current()).toBe(luxonMonth(at, 'America/Chicago'));
    expect(new MonthBucketer('America/Chicago', () => at + 1).current()).toBe('2026-12');
    expect(pinned.now()).toBe(at);
  });

  it('shift() moves across years both ways', () => {
    expect(b.shift('2026-11', 1)).toBe('2026-12');
    expect(b.shift('2026-12', 1)).toBe('2027-01');
    expect(b.shift('2026-01', -1)).toBe('2025-12');
    expect(b.shift('2026-03', -27)).toBe('2023-12');
    expect(b.shift('2026-03', 0)).toBe('2026-03');
    expect(b.shift('2026-03', 120)).toBe('2036-03');
  });

  it('supports years 0000-9999 and refuses instants or shifts beyond', () => {
    const first = b.range('0000-01');
    const last = b.range('9999-12');
    expect(b.monthOf(first.startMs)).toBe('0000-01');
    expect(b.monthOf(last.endMs - 1)).toBe('9999-12');
    expect(() => b.monthOf(first.startMs - 1)).toThrow(RangeError);
    expect(() => b.monthOf(last.endMs)).toThrow(RangeError);
    expect(() => b.shift('9999-12', 1)).toThrow(RangeError);
    expect(() => b.shift('0000-01', -1)).toThrow(RangeError);
    expect(b.monthOf(utc('2026-11-15T00:00:00.000Z'))).toBe('2026-11'); // and recovers its normal span
  });

  it('rejects malformed months and deltas', () => {
    expect(() => b.shift('2026-13', 1)).toThrow(RangeError);
    expect(() => b.shift('2026-01', 0.5)).toThrow(RangeError);
    expect(() => b.range('2026-1')).toThrow(RangeError);
    expect(() => b.monthOf(Number.NaN)).toThrow(RangeError);
  });
});
