import { ACKED, AVAILABLE, EXPIRED, LEASED, LeasedQueue, PENDING, RETENTION_MS } from '../../src/hq-mock/store';

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const DAY = 86_400_000;

/** Adds items with the given ts (due at once) and returns their indices. */
function fill(q: LeasedQueue, tss: number[], now = T0): number[] {
  return tss.map((ts) => q.add(ts, ts, now));
}

describe('LeasedQueue', () => {
  test('serves oldest first, whatever the insertion order', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0 - 3000, T0 - 1000, T0 - 5000, T0 - 2000]);
    expect(q.take(10, T0)).toEqual([2, 0, 3, 1]);
  });

  test('equal timestamps are served in insertion (id) order', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0 - 10, T0 - 10, T0 - 10]);
    expect(q.take(2, T0)).toEqual([0, 1]);
    expect(q.take(2, T0)).toEqual([2]);
  });

  test('a leased item is not served again until its lease runs out, then it is', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0 - 2000, T0 - 1000]);
    expect(q.take(1, T0)).toEqual([0]);
    expect(q.stateOf(0)).toBe(LEASED);
    expect(q.take(10, T0 + 59_999)).toEqual([1]);
    expect(q.take(10, T0 + 59_999)).toEqual([]);
    expect(q.hasAvailable(T0 + 59_999)).toBe(false);
    // Lease of item 0 ends at T0+60s: handed out again (at-least-once); item 1's lease still runs.
    expect(q.take(10, T0 + 60_000)).toEqual([0]);
    expect(q.stats().served).toBe(3);
  });

  test('redelivered items keep oldest-first order among available ones', () => {
    const q = new LeasedQueue(1000);
    fill(q, [T0 - 5000, T0 - 4000, T0 - 3000]);
    expect(q.take(1, T0)).toEqual([0]);
    expect(q.take(5, T0 + 1000)).toEqual([0, 1, 2]);
  });

  test('ack is idempotent and reports only newly acked items', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0 - 3, T0 - 2, T0 - 1]);
    const page = q.take(2, T0);
    expect(q.ack(page, T0)).toBe(2);
    expect(q.ack(page, T0)).toBe(0);
    expect(q.ack([0, 1, 99, -1, 1.5], T0)).toBe(0);
    expect(q.stateOf(0)).toBe(ACKED);
    // Acked items never come back, even after their lease would have run out.
    expect(q.take(10, T0 + 120_000)).toEqual([2]);
    expect(q.stats()).toMatchObject({ acked: 2, leased: 1, available: 0, ackCalls: 3 });
  });

  test('an item can be acked after its lease ran out (a late ack), and is then gone', () => {
    const q = new LeasedQueue(1000);
    fill(q, [T0 - 1]);
    q.take(1, T0);
    expect(q.ack([0], T0 + 5000)).toBe(1);
    expect(q.take(10, T0 + 10_000)).toEqual([]);
    expect(q.stats()).toMatchObject({ available: 0, leased: 0, acked: 1 });
  });

  test('retention deletes an unacked item 60 days after its ts, leased or not', () => {
    const q = new LeasedQueue(60_000);
    const sent = T0;
    fill(q, [sent, sent + 1000], sent + 1000);
    // Item 0 leased just before its retention ends: its ack after that instant is ignored.
    expect(q.take(1, sent + RETENTION_MS - 1)).toEqual([0]);
    expect(q.ack([0], sent + RETENTION_MS)).toBe(0);
    expect(q.stateOf(0)).toBe(EXPIRED);
    expect(q.isLive(0, sent + RETENTION_MS)).toBe(false);
    // Item 1 still available one ms before its own retention, gone at it.
    expect(q.isLive(1, sent + 1000 + RETENTION_MS - 1)).toBe(true);
    expect(q.take(10, sent + 1000 + RETENTION_MS)).toEqual([]);
    expect(q.stateOf(1)).toBe(EXPIRED);
    expect(q.stats()).toMatchObject({ expired: 2, available: 0, leased: 0, acked: 0 });
  });

  test('acked items survive retention', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0]);
    q.ack([0], T0);
    q.sweep(T0 + 90 * DAY);
    expect(q.stateOf(0)).toBe(ACKED);
    expect(q.isLive(0, T0 + 90 * DAY)).toBe(true);
  });

  test('an item whose due time is in the future stays pending until then', () => {
    const q = new LeasedQueue(60_000);
    const i = q.add(T0, T0 + 2000, T0);
    expect(q.stateOf(i)).toBe(PENDING);
    expect(q.take(10, T0 + 1999)).toEqual([]);
    expect(q.ack([i], T0 + 1999)).toBe(0); // not at HQ yet
    expect(q.take(10, T0 + 2000)).toEqual([i]);
  });

  test('a pending item that arrives past retention is deleted at once', () => {
    const q = new LeasedQueue(60_000);
    q.add(T0, T0 + RETENTION_MS + 5, T0);
    expect(q.take(10, T0 + RETENTION_MS + 5)).toEqual([]);
    expect(q.stats()).toMatchObject({ pending: 0, expired: 1 });
  });

  test('a lease change applies to the next GET', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0 - 2, T0 - 1]);
    q.take(1, T0);
    q.leaseMs = 1000;
    q.take(1, T0);
    expect(q.take(10, T0 + 1000)).toEqual([1]);
    q.ack([1], T0 + 1000);
    expect(q.take(10, T0 + 59_999)).toEqual([]);
    expect(q.take(10, T0 + 60_000)).toEqual([0]);
  });

  test('wouldAck counts without recording', () => {
    const q = new LeasedQueue(60_000);
    fill(q, [T0 - 1, T0]);
    q.take(2, T0);
    expect(q.wouldAck([0, 1, 7], T0)).toBe(2);
    expect(q.stateOf(0)).toBe(LEASED);
    expect(q.take(10, T0 + 60_000)).toEqual([0, 1]);
  });

  // What a page costs (O(page), not O(backlog)) is measured by scripts/bench/hot-paths.ts, not
  // asserted here: a timed test fails on a busy machine, not on slow code.
  test('pages through a million-item backlog oldest first, each page exactly once', () => {
    const q = new LeasedQueue(60_000);
    const n = 1_000_000;
    q.reserve(n);
    for (let i = 0; i < n; i++) q.add(T0 - n + i, T0 - n + i, T0);
    for (let p = 0; p < 100; p++) {
      const page = q.take(1000, T0);
      expect(page[0]).toBe(p * 1000);
      expect(page).toHaveLength(1000);
      q.ack(page, T0);
    }
    expect(q.stats()).toMatchObject({ acked: 100_000, available: n - 100_000 });
    expect(q.stateOf(100_000)).toBe(AVAILABLE);
  });
});
