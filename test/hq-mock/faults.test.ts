import { FaultInjector, IN_FLIGHT_GRACE_MS } from '../../src/hq-mock/faults';

describe('FaultInjector', () => {
  test('no faults unless configured; rates draw from a seeded PRNG (replayable)', () => {
    const idle = new FaultInjector(1, () => 0);
    for (let k = 0; k < 100; k++) expect(idle.decide('GET', '/v1/receipts', 'read')).toBeNull();

    const run = () => {
      const f = new FaultInjector(1, () => 0);
      f.configure({ rates: { http500: 0.2, truncatedJson: 0.2 }, seed: 99 });
      return Array.from({ length: 200 }, () => f.decide('GET', '/v1/inbound', 'read')?.kind ?? null);
    };
    const a = run();
    expect(a).toEqual(run());
    expect(a.filter((k) => k === 'http500').length).toBeGreaterThan(20);
    expect(a.filter((k) => k === 'truncatedJson').length).toBeGreaterThan(10);
  });

  test('faults only hit the endpoints they make sense for', () => {
    const f = new FaultInjector(1, () => 0);
    f.configure({ rates: { truncatedJson: 1, lostAck: 1, ackResponseLost: 1 } });
    expect(f.decide('POST', '/v1/messages', 'write')).toBeNull();
    expect(f.decide('GET', '/v1/receipts', 'read')).toEqual({ kind: 'truncatedJson' });
    expect(f.decide('POST', '/v1/receipts/ack', 'ack')).toEqual({ kind: 'lostAck' });
  });

  test('a call inside a Retry-After window is a violation for that method and path only', () => {
    let now = 1000;
    const f = new FaultInjector(1, () => now);
    f.configure({ rates: { http429: 1 }, retryAfterSeconds: 2 });
    expect(f.decide('GET', '/v1/receipts', 'read')).toEqual({ kind: 'http429', retryAfterSeconds: 2 });
    f.configure({});
    now += 1999;
    expect(f.decide('GET', '/v1/receipts', 'read')).toEqual({ kind: 'retryAfterViolation', retryAfterSeconds: 1 });
    expect(f.decide('POST', '/v1/receipts/ack', 'ack')).toBeNull();
    now += 1;
    expect(f.decide('GET', '/v1/receipts', 'read')).toBeNull();
    expect(f.retryAfterViolations).toBe(1);
    expect(Object.fromEntries(f.violations)).toEqual({ 'GET /v1/receipts': 1 });
    expect(f.counts.http429).toBe(1);
  });

  test('a request over another connection just after a 429 was already in flight: not a violation', () => {
    let now = 1000;
    const f = new FaultInjector(1, () => now);
    const told = {};
    const other = {};
    f.configure({ rates: { http429: 1 }, retryAfterSeconds: 3 });
    expect(f.decide('POST', '/v1/messages', 'write', told)).toEqual({ kind: 'http429', retryAfterSeconds: 3 });
    f.configure({});
    now += IN_FLIGHT_GRACE_MS - 1; // a parallel send that left before the 429 could be read
    expect(f.decide('POST', '/v1/messages', 'write', other)).toBeNull();
    now += 1; // from here on every connection's client has been told
    expect(f.decide('POST', '/v1/messages', 'write', other)).toEqual({ kind: 'retryAfterViolation', retryAfterSeconds: 2 });
    expect(f.retryAfterViolations).toBe(1);
  });

  test('a request over the connection that carried the 429 is a violation at once', () => {
    let now = 1000;
    const f = new FaultInjector(1, () => now);
    const told = {};
    f.configure({ rates: { http429: 1 }, retryAfterSeconds: 1 });
    expect(f.decide('GET', '/v1/receipts', 'read', told)).toEqual({ kind: 'http429', retryAfterSeconds: 1 });
    f.configure({});
    now += 1; // the client read the 429 on this connection before it could send again on it
    expect(f.decide('GET', '/v1/receipts', 'read', told)).toEqual({ kind: 'retryAfterViolation', retryAfterSeconds: 1 });
    expect(f.retryAfterViolations).toBe(1);
  });

  test('an outage answers every request until it ends', () => {
    let now = 0;
    const f = new FaultInjector(1, () => now);
    f.configure({ outageMs: 500 });
    expect(f.decide('GET', '/v1/account', 'read')).toEqual({ kind: 'outage' });
    expect(f.snapshot().outageRemainingMs).toBe(500);
    now = 500;
    expect(f.decide('GET', '/v1/account', 'read')).toBeNull();
    f.reset();
    expect(f.counts.outage).toBe(0);
  });
});
