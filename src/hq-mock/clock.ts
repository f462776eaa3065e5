/**
 * The mock's own clock: real time plus an offset that tests can push forward. Leases, retention
 * (60 days!) and the timestamps of new traffic all read this clock, so a test can age a backlog by
 * two months in one call instead of waiting. Transport-level behaviour that a client measures
 * with its own real clock (Retry-After windows, hangs, outages) deliberately does NOT use it.
 */
export class MockClock {
  private offsetMs = 0;

  /**
   * `realNow` is injectable so unit tests can pin the base time. `startOffsetMs` (may be negative)
   * starts the clock elsewhere than now: a test that means "the first hour of a month" runs the
   * mock and the daemon (docs/testing.md) at the same offset from real time.
   */
  constructor(private readonly realNow: () => number = Date.now, startOffsetMs = 0) {
    if (!Number.isSafeInteger(startOffsetMs)) throw new RangeError('clock start offset must be a whole number of ms');
    this.offsetMs = startOffsetMs;
  }

  /** Mock time in epoch milliseconds. */
  now(): number {
    return this.realNow() + this.offsetMs;
  }

  /** Moves mock time forward. Time never runs backwards: leases and retention assume it. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('clock can only advance by a non-negative, finite number of ms');
    this.offsetMs += Math.floor(ms);
    return this.now();
  }

  get offset(): number {
    return this.offsetMs;
  }
}
