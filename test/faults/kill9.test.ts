/**
 * Crashes: kill -9 of the real daemon process while it drains a backlog, at chosen
 * moments of its loop (during a fetch, inside the page's transaction, between commit and ack)
 * and at random ones, then restart, over and over. At every crash, everything HQ counts as
 * acknowledged must be in the SQLite file, no page may be half stored, and nothing of the killed
 * process may be left running; at the end /status equals the mock's ground truth and no item is
 * stored twice.
 */
import { mulberry32 } from '../../src/hq-mock/prng';
import type { HqStream } from '../../src/texting/streams';
import { FaultRig, hookHq, reportFigures, sleep } from '../support/fault-rig';
import { waitFor } from '../support/stack';

const DAY = 86_400_000;
type Moment = 'fetch' | 'transaction' | 'commit-ack' | 'random';
const PLAN: readonly Moment[] = ['fetch', 'transaction', 'commit-ack', 'random', 'transaction', 'commit-ack', 'transaction', 'random'];

describe('kill -9 of the daemon while it drains', () => {
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('loses nothing and stores nothing twice over repeated kill -9 and restart', async () => {
    const seed = Number(process.env.FAULT_SEED ?? 20261127);
    const rng = mulberry32(seed);
    rig = await FaultRig.start({ mock: { leaseMs: 1500, seed: 3 }, config: { hq: { pageSize: 20 } } });
    const r = rig;
    const now = r.mock.clock.now(); // traffic placed in the mock's time
    const addBacklog = (messages: number, inbound: number, trafficSeed: number) =>
      r.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
        messages, inbound, malformed: 16, extraFieldRate: 0.1,
        from: new Date(now - 40 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: trafficSeed,
      });
    const first = await addBacklog(2500, 800, 101);
    let items = first.receipts + first.inbound + 16;

    const outcomes: Array<{ moment: Moment; stream?: HqStream; page?: 'not committed' | 'committed, not acked' | 'committed and acked' }> = [];
    await r.startDaemon();

    for (const [n, moment] of PLAN.entries()) {
      // Keep a backlog waiting, so every kill strikes a daemon in the middle of draining.
      const s = await r.stats();
      if (s.receipts.available + s.inbound.available < 300) {
        const more = await addBacklog(400, 150, 200 + n);
        items += more.receipts + more.inbound + 16;
      }
      const daemon = r.requireDaemon();
      const killNow = (): void => {
        try {
          process.kill(-daemon.pid, 'SIGKILL');
        } catch {
          /* already dead */
        }
      };
      let servedIds: string[] = [];
      let struck: HqStream | undefined;
      const killed = new Promise<void>((resolve) => {
        /** Notes where the kill is aimed and kills now, or after `delayMs`. */
        const strike = (stream: HqStream, ids: string[] = [], delayMs = 0): void => {
          if (struck) return;
          struck = stream;
          servedIds = ids;
          const go = (): void => {
            killNow();
            resolve();
          };
          if (delayMs > 0) setTimeout(go, delayMs);
          else go();
        };
        const unhook = hookHq(r.mock, {
          page: (stream, page) => {
            if (struck || page.count === 0 || (moment !== 'fetch' && moment !== 'transaction')) return;
            const ids = (JSON.parse(page.json) as Record<string, Array<Record<string, unknown>>>)[stream === 'receipts' ? 'receipts' : 'messages']!
              .map((it) => it.receiptId ?? it.inboundId).filter((id): id is string => typeof id === 'string');
            // fetch: HQ has leased the page and the daemon never sees it. transaction: a few ms
            // after the page left HQ the daemon is parsing, validating or inside the page's
            // transaction (the check after the kill tells which side of the commit it was).
            strike(stream, ids, moment === 'fetch' ? 0 : Math.floor(rng() * 6));
          },
          beforeAck: (stream, ids) => {
            if (moment !== 'commit-ack' || struck) return true;
            // The page is committed; its ack never reaches HQ.
            strike(stream, [...ids]);
            return false;
          },
        });
        if (moment === 'random') {
          strike('receipts', [], 1 + Math.floor(rng() * 1500));
        }
        void daemon.exited.then(() => unhook());
      });
      await killed;
      await r.kill9(); // reaps it and fails if any process of its group survived

      // At the crash: every acknowledged id is committed, nothing twice, no page half stored.
      expect(r.ackedButNotStored()).toEqual([]);
      expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
      const outcome: (typeof outcomes)[number] = { moment, stream: struck };
      if (servedIds.length > 0) {
        const stored = r.withDb((db) => {
          const table = struck === 'receipts' ? "SELECT receipt_id AS id FROM receipts UNION SELECT ack_id FROM quarantine WHERE kind = 'receipt'"
            : "SELECT inbound_id AS id FROM inbound_messages UNION SELECT ack_id FROM quarantine WHERE kind = 'inbound'";
          const all = new Set(db.prepare(table).pluck().all() as string[]);
          return servedIds.filter((id) => all.has(id)).length;
        });
        // One transaction per page: all of it or none of it.
        expect([0, servedIds.length]).toContain(stored);
        const acked = r.mock.hq[struck === 'receipts' ? 'receipts' : 'inbound'];
        const ackedCount = servedIds.filter((id) => acked.queue.stateOf(acked.ids.parse(id)) === 3).length;
        outcome.page = stored === 0 ? 'not committed' : ackedCount === servedIds.length ? 'committed and acked' : 'committed, not acked';
      }
      outcomes.push(outcome);

      await r.startDaemon();
      // Let it make progress before the next kill (a restart also has to work, not just start).
      const before = await r.stats();
      await waitFor('progress after restart', async () => {
        const after = await r.stats();
        return after.receipts.acked + after.inbound.acked > before.receipts.acked + before.inbound.acked || (await r.drained());
      }, 60_000, 100);
      await sleep(Math.floor(rng() * 400));
    }

    const diffs = await r.waitConverged(120_000);
    expect(diffs).toEqual([]);
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
    expect(r.ackedButNotStored()).toEqual([]);
    // The kills landed where they were aimed: some pages were cut before their commit, some
    // between commit and ack (their items came back and were not counted again).
    expect(outcomes.filter((o) => o.page === 'not committed').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.page === 'committed, not acked').length).toBeGreaterThan(0);

    const stats = await r.stats();
    const counts = r.counts();
    const served = stats.receipts.served + stats.inbound.served;
    reportFigures('kill9', {
      seed, kills: outcomes.length, outcomes, itemsAtHq: items, served,
      // Every item was handed out at least once: the rest are redeliveries (after a kill, a lost
      // ack, or the id-less malformed items each lease), none of them stored again.
      handedOutAgain: served - items,
      acked: stats.receipts.acked + stats.inbound.acked, stored: counts,
      lost: 0, storedTwice: 0,
    });
  }, 300_000);
});
