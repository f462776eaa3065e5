/**
 * Calendar months counted in the office's IANA time zone (OFFICE_TZ).
 *
 * A month is the half-open interval of instants [start, end) where start is the first instant
 * of the 1st of the month on the office's wall clock (usually local midnight). Month boundaries
 * are therefore DST-sensitive instants, and months are not all the same length in milliseconds.
 *
 * `MonthBucketer.monthOf` runs for every ingested item, so it must not build a luxon DateTime per
 * call: it keeps a sorted table of month boundaries for a contiguous span of months, checks the
 * last-used month first, binary-searches the table next, and only calls into luxon to extend it.
 */
import { DateTime, IANAZone } from 'luxon';
import { isValidTimeZone } from '../util/time-zone';

/** 'YYYY-MM'. */
export type MonthKey = string;

const MONTH_KEY = /^(\d{4})-(0[1-9]|1[0-2])$/;
/** Years accepted from users (query strings, CLI); internal keys from monthOf may lie outside. */
const USER_YEAR_MIN = 2000;
const USER_YEAR_MAX = 2999;
/** Years any key may have: 'YYYY' needs four digits. */
const KEY_YEAR_MIN = 0;
const KEY_YEAR_MAX = 9999;
const MIN_INDEX = KEY_YEAR_MIN * 12;
const MAX_INDEX = KEY_YEAR_MAX * 12 + 11;
/** Longest span of months cached (100 years); an instant that would stretch it further restarts it. */
const MAX_SPAN_MONTHS = 1200;
const HOUR_MS = 3_600_000;

/** Strict 'YYYY-MM' with a month 01..12 and a year 2000..2999: for month keys that come from users. */
export function isMonthKey(s: string): boolean {
  const m = typeof s === 'string' ? MONTH_KEY.exec(s) : null;
  if (!m) return false;
  const year = Number(m[1]);
  return year >= USER_YEAR_MIN && year <= USER_YEAR_MAX;
}

/** Month index: months since January of year 0 (so consecutive months differ by 1). */
function indexOfKey(month: MonthKey): number {
  const m = typeof month === 'string' ? MONTH_KEY.exec(month) : null;
  if (!m) throw new RangeError(`not a month key (YYYY-MM): ${JSON.stringify(String(month).slice(0, 20))}`);
  return Number(m[1]) * 12 + (Number(m[2]) - 1);
}

function keyOfIndex(index: number): MonthKey {
  if (!Number.isSafeInteger(index) || index < MIN_INDEX || index > MAX_INDEX) {
    throw new RangeError('month out of the supported range (years 0000-9999)');
  }
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

export class MonthBucketer {
  readonly tz: string;
  private readonly zone: IANAZone;

  // The cached span covers months firstIndex .. firstIndex + keys.length - 1;
  // bounds[i] is the start of month firstIndex + i, and bounds[keys.length] the end of the last.
  private firstIndex = 0;
  private keys: MonthKey[] = [];
  private bounds: number[] = [];

  // The last month monthOf answered: items of one page almost always fall in the same month.
  private lastStart = 0;
  private lastEnd = 0;
  private lastKey: MonthKey = '';

  /**
   * `now` is the clock `current()` reads (epoch ms); the daemon passes its own, so that the test
   * hook of docs/testing.md can move the office's notion of "this month" without moving real time.
   */
  constructor(tz: string, private readonly clock: () => number = Date.now) {
    if (!isValidTimeZone(tz)) throw new RangeError(`not a known IANA time zone: ${JSON.stringify(String(tz).slice(0, 64))}`);
    this.tz = tz;
    this.zone = IANAZone.create(tz);
  }

  /** The office month that the instant `epochMs` falls in. */
  monthOf(epochMs: number): MonthKey {
    if (epochMs >= this.lastStart && epochMs < this.lastEnd) return this.lastKey;
    if (!Number.isFinite(epochMs)) throw new RangeError(`not an instant: ${epochMs}`);
    let i = this.search(epochMs);
    if (i < 0) {
      const guess = this.localMonthIndex(epochMs);
      // One month either side, so an instant close to a boundary is covered whichever side it is on.
      this.cover(Math.max(MIN_INDEX, guess - 1), Math.min(MAX_INDEX, guess + 1));
      i = this.search(epochMs);
      if (i < 0) throw new RangeError('instant out of the supported range (years 0000-9999)');
    }
    this.lastStart = this.bounds[i]!;
    this.lastEnd = this.bounds[i + 1]!;
    this.lastKey = this.keys[i]!;
    return this.lastKey;
  }

  /** The instants [startMs, endMs) of `month` in this zone. Throws RangeError for a malformed key. */
  range(month: MonthKey): { startMs: number; endMs: number } {
    const index = indexOfKey(month);
    this.cover(index, index);
    const i = index - this.firstIndex;
    return { startMs: this.bounds[i]!, endMs: this.bounds[i + 1]! };
  }

  /** The instant this bucketer calls now (epoch ms). */
  now(): number {
    return this.clock();
  }

  /** The current office month. */
  current(nowMs: number = this.clock()): MonthKey {
    return this.monthOf(nowMs);
  }

  /** `month` moved by `delta` months (negative: back). Pure calendar arithmetic; no zone involved. */
  shift(month: MonthKey, delta: number): MonthKey {
    if (!Number.isSafeInteger(delta)) throw new RangeError(`month delta must be an integer, got ${delta}`);
    return keyOfIndex(indexOfKey(month) + delta);
  }

  /** Index into the cached table of the month holding epochMs, or -1 when outside the span. */
  private search(epochMs: number): number {
    const bounds = this.bounds;
    const n = this.keys.length;
    if (n === 0 || epochMs < bounds[0]! || epochMs >= bounds[n]!) return -1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid]! <= epochMs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Extends (or restarts) the cached span so that it holds months fromIndex..toIndex. */
  private cover(fromIndex: number, toIndex: number): void {
    if (fromIndex < MIN_INDEX || toIndex > MAX_INDEX) throw new RangeError('month out of the supported range (years 0000-9999)');
    const n = this.keys.length;
    const lastIndex = this.firstIndex + n - 1;
    const spanAfter = Math.max(toIndex, lastIndex) - Math.min(fromIndex, this.firstIndex) + 1;
    if (n === 0 || spanAfter > MAX_SPAN_MONTHS) {
      this.firstIndex = fromIndex;
      this.keys = [];
      this.bounds = [this.startOfMonth(fromIndex)];
      this.appendThrough(toIndex);
      return;
    }
    if (fromIndex < this.firstIndex) this.prependFrom(fromIndex);
    if (toIndex > lastIndex) this.appendThrough(toIndex);
  }

  private appendThrough(toIndex: number): void {
    for (let index = this.firstIndex + this.keys.length; index <= toIndex; index++) {
      this.keys.push(keyOfIndex(index));
      this.bounds.push(this.startOfMonth(index + 1));
    }
  }

  private prependFrom(fromIndex: number): void {
    const keys: MonthKey[] = [];
    const bounds: number[] = [];
    for (let index = fromIndex; index < this.firstIndex; index++) {
      keys.push(keyOfIndex(index));
      bounds.push(this.startOfMonth(index));
    }
    this.keys = keys.concat(this.keys);
    this.bounds = bounds.concat(this.bounds);
    this.firstIndex = fromIndex;
  }

  /** Month index of the office's wall clock at epochMs. */
  private localMonthIndex(epochMs: number): number {
    const local = new Date(epochMs + this.zone.offset(epochMs) * 60_000);
    return local.getUTCFullYear() * 12 + local.getUTCMonth();
  }

  /**
   * The first instant whose wall-clock month is `index` (index may be MAX_INDEX + 1: the end of
   * the last supported month). Luxon resolves a non-existent local midnight (DST gap) forward,
   * which is right, but an ambiguous one (a fall-back over midnight, as in America/Havana) to the
   * later occurrence, which is not: so verify and, if needed, binary-search the exact boundary.
   */
  private startOfMonth(index: number): number {
    const guess = DateTime.fromObject(
      { year: Math.floor(index / 12), month: (index % 12) + 1, day: 1 },
      { zone: this.zone },
    ).toMillis();
    if (!Number.isFinite(guess)) throw new RangeError('month out of the supported range (years 0000-9999)');
    if (this.localMonthIndex(guess) >= index && this.localMonthIndex(guess - 1) < index) return guess;
    // Invariant: month(lo) < index <= month(hi). Zone offsets are within a day, so 48 h suffices.
    let lo = guess - 48 * HOUR_MS;
    let hi = guess + 48 * HOUR_MS;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.localMonthIndex(mid) >= index) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}
