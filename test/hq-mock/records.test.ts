/**
 * The mock's own timestamp formatter writes exactly what Date#toISOString writes, so the answers
 * it serves are unchanged (docs/hq-api.md: timestamps are ISO 8601 UTC with milliseconds).
 */
import { isoTime } from '../../src/hq-mock/records';
import { mulberry32 } from '../../src/hq-mock/prng';

describe('isoTime', () => {
  it('equals toISOString around day, month, year and leap-day boundaries, in any order', () => {
    const edges = [0, 1, 999, 1000, 59_999, 3_599_999, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
    for (const ms of edges) for (const d of [-1, 0, 1]) if (ms + d >= 0) expect(isoTime(ms + d)).toBe(new Date(ms + d).toISOString());
  });

  it('equals toISOString for random timestamps, and hands what it does not cover to Date', () => {
    const rng = mulberry32(7);
    for (let i = 0; i < 20_000; i++) {
      // Neighbours (same day) and jumps (another day) alternate, as sentAt and statusAt do.
      const ms = i % 3 === 0 ? Math.floor(rng() * 253_402_300_799_999) : Date.UTC(2026, 10, 1) + Math.floor(rng() * 40 * 86_400_000);
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    for (const ms of [-1, -86_400_001, 253_402_300_800_000, 1.5, 1_764_650_000_000.25]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
