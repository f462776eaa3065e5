/**
 * parseRetryAfter: HQ's Retry-After (docs/hq-api.md) in both forms HTTP allows, delay-seconds and
 * an HTTP-date, as the milliseconds to wait from `now`. null means "no usable header": the client
 * then falls back to its own backoff.
 */
import { parseRetryAfter } from '../../src/hq/client';

const NOW = Date.parse('2026-12-01T06:00:00.000Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1', NOW)).toBe(1000);
    expect(parseRetryAfter(' 3 ', NOW)).toBe(3000);
    // Fractions round up: waiting a hair too long is fine, a hair too short is a violation.
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
    expect(parseRetryAfter('0.0001', NOW)).toBe(1);
  });

  it('reads an HTTP-date as the time left until it, whatever the machine zone', () => {
    // IMF-fixdate, the preferred form: 90 s after NOW.
    expect(parseRetryAfter('Tue, 01 Dec 2026 06:01:30 GMT', NOW)).toBe(90_000);
    // The obsolete RFC 850 form, which recipients must still accept.
    expect(parseRetryAfter('Tuesday, 01-Dec-26 06:01:30 GMT', NOW)).toBe(90_000);
    // 90 minutes ahead: an hour is the most the client will wait (MAX_RETRY_AFTER_MS).
    expect(parseRetryAfter('Tue, 01 Dec 2026 07:30:00 GMT', NOW)).toBe(3_600_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 06:59:59 GMT', NOW)).toBe(3_599_000);
    // A whole day ahead is clamped the same way.
    expect(parseRetryAfter('Wed, 02 Dec 2026 06:00:00 GMT', NOW)).toBe(3_600_000);
    // A date already past: no wait (never a negative one).
    expect(parseRetryAfter('Mon, 30 Nov 2026 06:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Tue, 01 Dec 2026 06:00:00 GMT', NOW)).toBe(0);
  });

  it('answers null for a missing or unusable header', () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('', NOW)).toBeNull();
    expect(parseRetryAfter('soon', NOW)).toBeNull();
    expect(parseRetryAfter('1e3', NOW)).toBeNull();
  });
});
