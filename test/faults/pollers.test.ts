/**
 * Parallel pollers (config ingest.pollers): two poll jobs per stream drain one HQ backlog at once,
 * while acks get lost and leases run out, so the same items are handed out again, now to one
 * poller, now to the other. Each item must be stored exactly once (ids checked against HQ's own
 * list), counted once (/status equals the mock's truth to the micro-dollar), acknowledged only
 * after commit, and HQ's Retry-After kept by both pollers of the process.
 */
import type { HqStream } from '../../src/texting/streams';
import { FaultRig, type LogLine } from '../support/fault-rig';

const DAY = 86_400_000;
const POLLERS = 2;

/** The time span of each 'job done' line of a poll job, by job id. */
function pollSpans(logs: readonly LogLine[], stream: HqStream): Array<{ jobId: string; from: number; to: number; recorded: number }> {
  return logs
    .filter((l) => l.message === 'job done' && l.queue === `poll-${stream}`)
    .map((l) => {
      const to = Date.parse(String(l.timestamp));
      return { jobId: String(l.jobId), from: to - Number(l.durationMs), to, recorded: Number(l.recorded ?? 0) };
    });
}

describe('two pollers per stream', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('drain one backlog together: every item stored once, counted once, acked after commit', async () => {
    rig = await FaultRig.start({
      mock: { leaseMs: 1500, seed: 61 },
      config: { hq: { pageSize: 20 }, ingest: { pollers: { receipts: POLLERS, inbound: POLLERS } } },
    });
    const r = rig;
    const now = r.mock.clock.now();
    await r.sim('POST', '/sim/traffic', {
      messages: 3000, inbound: 800, malformed: 0,
      from: new Date(now - 30 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: 62,
    });
    // Lost acks and expired leases hand items out again, to whichever poller asks next; the 429s
    // test that a Retry-After holds for both pollers of the process.
    await r.sim('POST', '/sim/faults', { rates: { lostAck: 0.15, ackResponseLost: 0.05, http429: 0.03 }, retryAfterSeconds: 1 });
    const daemon = await r.startDaemon();

    const ackedEarly: string[] = [];
    const sampler = setInterval(() => ackedEarly.push(...r.ackedButNotStored()), 500);
    let diff: string[];
    try {
      diff = await r.waitConverged(150_000);
    } finally {
      clearInterval(sampler);
    }
    await r.sim('POST', '/sim/faults', {});
    expect(diff).toEqual([]);
    expect(ackedEarly).toEqual([]);
    expect(r.ackedButNotStored()).toEqual([]);

    // Ids: what the office stored is exactly what HQ holds, each once.
    const hq = r.mock.hq;
    const hqIds = (s: { queue: { size: number }; ids: { format(i: number): string } }): string[] => Array.from({ length: s.queue.size }, (_, i) => s.ids.format(i)).sort();
    const stored = r.withDb((db) => ({
      receipts: (db.prepare('SELECT receipt_id FROM receipts ORDER BY receipt_id').pluck().all() as string[]),
      inbound: (db.prepare('SELECT inbound_id FROM inbound_messages ORDER BY inbound_id').pluck().all() as string[]),
    }));
    expect(stored.receipts.length).toBeGreaterThan(3000);
    expect(stored.receipts).toEqual(hqIds(hq.receipts));
    expect(stored.inbound).toEqual(hqIds(hq.inbound));
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });

    const stats = await r.stats();
    expect(stats.faults.lostAck + stats.faults.ackResponseLost).toBeGreaterThan(0);
    // Retry-After holds for both pollers of the process: after a 429 no poller calls that endpoint
    // again until it has passed. HQ may still see, just after a 429, the request another poller
    // had already sent (each poller has one request to an endpoint in flight at most): so no more
    // of those than 429s times the other pollers. Pollers with a client each would call again and
    // again through the whole Retry-After (a page takes a few ms).
    const pollViolations = Object.entries(stats.retryAfterViolationsByEndpoint)
      .filter(([endpoint]) => /\/v1\/(receipts|inbound)/.test(endpoint))
      .reduce((n, [, v]) => n + v, 0);
    expect(stats.faults.http429).toBeGreaterThan(0);
    expect(pollViolations).toBeLessThanOrEqual(stats.faults.http429 * (POLLERS - 1));

    for (const stream of ['receipts', 'inbound'] as const) {
      const spans = pollSpans(daemon.logs, stream);
      // Every poller did a share of the work, and together they recorded no more rows than are
      // stored: an item one poller recorded and the other got again was a duplicate, not a second
      // row. (Not always equal: a job that fails after some pages, an acknowledgement out of
      // retries, says so in a 'job failed' line without counts; one a 429 ends is done, with them.)
      const byPoller = new Map<string, number>();
      for (const s of spans) byPoller.set(s.jobId, (byPoller.get(s.jobId) ?? 0) + s.recorded);
      expect([...byPoller.keys()].sort()).toEqual(Array.from({ length: POLLERS }, (_, i) => `poll-${stream}-${i}`));
      for (const [jobId, recorded] of byPoller) expect({ jobId, recorded: recorded > 0 }).toEqual({ jobId, recorded: true });
      expect([...byPoller.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(stream === 'receipts' ? stored.receipts.length : stored.inbound.length);
      // ...at the same time: a job of poller 0 that recorded items overlapped one of poller 1 that did.
      const busy = spans.filter((s) => s.recorded > 0);
      const overlap = busy.some((a) => a.jobId.endsWith('-0') && busy.some((b) => b.jobId.endsWith('-1') && a.from < b.to && b.from < a.to));
      expect({ stream, overlap }).toEqual({ stream, overlap: true });
    }
  }, 240_000);
});
