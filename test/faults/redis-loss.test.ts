/**
 * Redis loss: the redis-server under a draining daemon is killed -9 and started again,
 * twice with its data directory deleted (every queue, job and lock gone) and once with its data
 * kept. The daemon is never restarted: it must notice and recover by itself within 30 s of Redis
 * being back, /readyz must report the outage while it lasts (503, the redis check failing, and
 * the hq:* poll-age checks failing once polls have stopped), and at the end /status equals the
 * mock's ground truth with nothing stored twice.
 */
import { FaultRig, reportFigures, sleep } from '../support/fault-rig';
import { waitFor } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

const DAY = 86_400_000;
/** The bound. */
const RECOVERY_BOUND_MS = 30_000;
/** How much longer than planned an outage may last while /readyz has not shown it yet. */
const OUTAGE_REPORT_MS = 30_000;

interface Outage {
  wipe: boolean;
  ms: number;
}
const OUTAGES: readonly Outage[] = [
  { wipe: true, ms: 8000 },
  { wipe: true, ms: 1500 },
  { wipe: false, ms: 3000 },
];

describe('Redis killed and restarted under a draining daemon', () => {
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('recovers by itself within 30 s of Redis being back, reports the outage, and loses nothing', async () => {
    rig = await FaultRig.start({
      mock: { leaseMs: 1500, seed: 5 },
      config: {
        hq: { pageSize: 25 },
        // Short jobs, so polling stops soon after Redis goes; a low bar for "no recent poll".
        ingest: { maxJobSeconds: 1 },
        readiness: { pollWarnSeconds: 2, pollFailSeconds: 4 },
      },
    });
    const r = rig;
    const now = r.mock.clock.now(); // traffic placed in the mock's time
    let items = 0;
    let trafficSeed = 40;
    const keepBacklog = async (): Promise<void> => {
      const s = await r.stats();
      if (s.receipts.available < 600 || s.inbound.available < 200) {
        const t = await r.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
          messages: 1000, inbound: 400, malformed: 4,
          from: new Date(now - 30 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: trafficSeed++,
        });
        items += t.receipts + t.inbound + 4;
      }
    };
    await keepBacklog();
    await r.startDaemon();
    const results: Array<Outage & { readyz503: boolean; redisCheckFailed: boolean; pollChecksFailed: boolean; recoveredSeconds: number }> = [];

    for (const outage of OUTAGES) {
      await keepBacklog();
      // Draining when Redis goes.
      await waitFor('a good poll', async () => {
        const { doc } = await r.readyz();
        return doc.checks['hq:receipts']?.[0]?.status === 'pass' && doc.checks['hq:inbound']?.[0]?.status === 'pass';
      }, 60_000, 200);

      await r.killRedis(outage.wipe);
      const down = Date.now();
      let readyz503 = false, redisCheckFailed = false, pollChecksFailed = false;
      // Down for at least outage.ms, and on until /readyz has shown what the outage must show: a
      // loaded machine may take longer than the shortest outage (1.5 s) to answer /readyz with the
      // redis check failing, or, for the long one, longer than its 8 s for the poll checks to fail
      // (pollFailSeconds after the last poll, which may have been just before the kill). The cap
      // only bounds a daemon that never reports it; the expectations below then fail.
      const seen = (): boolean => redisCheckFailed && (outage.ms < 8000 || pollChecksFailed);
      while (Date.now() - down < outage.ms || (!seen() && Date.now() - down < outage.ms + OUTAGE_REPORT_MS)) {
        const { code, doc } = await r.readyz();
        readyz503 ||= code === 503;
        redisCheckFailed ||= code === 503 && doc.checks.redis?.[0]?.status === 'fail';
        pollChecksFailed ||= code === 503 && doc.checks['hq:receipts']?.[0]?.status === 'fail' && doc.checks['hq:inbound']?.[0]?.status === 'fail';
        await sleep(250);
      }
      const before = await r.stats();
      await r.restartRedis();
      const back = Date.now();

      // Recovered: both streams polled since Redis came back, readiness passes again, and the
      // backlog moves again (HQ records new acknowledgements).
      await waitFor('the daemon to recover after Redis came back', async () => {
        const status = await r.status<StatusDocument>();
        const since = (iso: unknown): boolean => typeof iso === 'string' && Date.parse(iso) > back;
        if (!since(status.econnector.lastReceiptsPollAt) || !since(status.econnector.lastInboundPollAt)) return false;
        const s = await r.stats();
        const waiting = before.receipts.available + before.inbound.available > 0;
        if (waiting && s.receipts.acked + s.inbound.acked <= before.receipts.acked + before.inbound.acked) return false;
        return (await r.readyz()).code === 200;
      }, RECOVERY_BOUND_MS + 30_000, 100);
      const recoveredMs = Date.now() - back;
      results.push({ ...outage, readyz503, redisCheckFailed, pollChecksFailed, recoveredSeconds: Math.round(recoveredMs / 100) / 10 });

      expect(readyz503).toBe(true);
      expect(redisCheckFailed).toBe(true);
      if (outage.ms >= 8000) expect(pollChecksFailed).toBe(true);
      expect(recoveredMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      expect(r.ackedButNotStored()).toEqual([]);
    }

    // The same process all along: recovery was the daemon's own doing.
    expect(r.daemons).toHaveLength(1);
    expect(r.requireDaemon().running()).toBe(true);
    const diffs = await r.waitConverged(120_000);
    expect(diffs).toEqual([]);
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
    expect(r.ackedButNotStored()).toEqual([]);
    reportFigures('redis-loss', { items, outages: results, lost: 0, storedTwice: 0 });
  }, 300_000);
});
