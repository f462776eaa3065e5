/**
 * HQ faults: every misbehaviour of docs/hq-api.md's fault table at once, at realistic
 * rates, plus a few seconds of full outage, while the real daemon process drains a backlog.
 * The daemon must never call an endpoint again inside a Retry-After window, and at the end
 * /status equals the mock's ground truth exactly, with nothing stored twice.
 */
import { FAULT_NAMES } from '../../src/hq-mock/faults';
import { waitFor } from '../support/stack';
import { FaultRig, reportFigures } from '../support/fault-rig';

const DAY = 86_400_000;

describe('HQ faults, all at once', () => {
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('drains exactly through 5xx, 429, truncated bodies, hangs, resets, lost acks and an outage', async () => {
    rig = await FaultRig.start({
      mock: { leaseMs: 1500, seed: 9 },
      // A hang outlasts the client's timeout, which must fire first.
      config: { hq: { pageSize: 20, timeoutMs: 800, backoff: { baseMs: 100, maxMs: 1500 } } },
    });
    const r = rig;
    const faults = {
      rates: {
        http500: 0.04, http503: 0.04, http429: 0.04, truncatedJson: 0.06, hang: 0.03, reset: 0.04,
        lostAck: 0.08, ackResponseLost: 0.08,
      },
      retryAfterSeconds: 1,
      hangMs: 2000,
      seed: 17,
    };
    await r.sim('POST', '/sim/faults', faults);
    const now = r.mock.clock.now(); // traffic placed in the mock's time
    const traffic = await r.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
      messages: 1800, inbound: 600, malformed: 8,
      from: new Date(now - 45 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: 23,
    });
    const started = Date.now();
    await r.startDaemon();
    // The 5 s outage starts once the daemon is talking to HQ (started earlier, a slow start-up on
    // a loaded machine could sleep through all of it).
    const before = (await r.stats()).requests;
    await waitFor('the daemon\'s first requests to HQ', async () => (await r.stats()).requests > before, 30_000, 50);
    await r.sim('POST', '/sim/faults', { ...faults, outageMs: 5000 });

    const diffs = await r.waitConverged(180_000);
    const drainSeconds = (Date.now() - started) / 1000;
    expect(diffs).toEqual([]);
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
    expect(r.ackedButNotStored()).toEqual([]);

    const stats = await r.stats();
    expect(stats.retryAfterViolations).toBe(0);
    // Every kind of fault really struck.
    for (const name of [...FAULT_NAMES, 'outage']) expect({ [name]: stats.faults[name] ?? 0 }).not.toEqual({ [name]: 0 });
    reportFigures('hq-faults', {
      items: traffic.receipts + traffic.inbound + 8,
      requests: stats.requests,
      faults: stats.faults,
      retryAfterViolations: stats.retryAfterViolations,
      served: stats.receipts.served + stats.inbound.served,
      drainSeconds: Math.round(drainSeconds),
      lost: 0,
      storedTwice: 0,
    });
  }, 240_000);
});
