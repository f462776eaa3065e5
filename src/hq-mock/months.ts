/**
 * Month buckets in an IANA time zone. Month boundaries are instants that depend on the zone (and
 * its DST rules), so they come from luxon; but asking luxon for each of a million items would take
 * seconds, so the boundaries are computed once per zone and an item's month is a binary search.
 */
import { DateTime, IANAZone } from 'luxon';

const FIRST_YEAR = 1970;
const LAST_YEAR = 2200;

export function isValidZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

export class MonthIndex {
  /** starts[k] = epoch ms at which month k begins in the zone; keys[k] = "YYYY-MM". */
  private readonly starts: Float64Array;
  private readonly keys: string[];

  constructor(readonly zone: string) {
    if (!isValidZone(zone)) throw new RangeError(`not an IANA time zone: ${zone}`);
    const count = (LAST_YEAR - FIRST_YEAR + 1) * 12;
    this.starts = new Float64Array(count);
    this.keys = new Array<string>(count);
    let k = 0;
    for (let y = FIRST_YEAR; y <= LAST_YEAR; y++) {
      for (let m = 1; m <= 12; m++, k++) {
        this.starts[k] = DateTime.fromObject({ year: y, month: m, day: 1 }, { zone }).toMillis();
        this.keys[k] = `${y}-${String(m).padStart(2, '0')}`;
      }
    }
  }

  /** The "YYYY-MM" month that contains instant `ms` in this zone. */
  keyOf(ms: number): string {
    const s = this.starts;
    if (ms < s[0]! || ms >= s[s.length - 1]! + 31 * 86_400_000) {
      return DateTime.fromMillis(ms, { zone: this.zone }).toFormat('yyyy-MM'); // out of the table: rare
    }
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= ms) lo = mid;
      else hi = mid - 1;
    }
    return this.keys[lo]!;
  }
}

const cache = new Map<string, MonthIndex>();

/** A shared MonthIndex per zone (building one takes a few milliseconds). */
export function monthIndex(zone: string): MonthIndex {
  let idx = cache.get(zone);
  if (!idx) {
    idx = new MonthIndex(zone);
    cache.set(zone, idx);
  }
  return idx;
}
