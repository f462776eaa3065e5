/**
 * Downtime: the daemon is stopped while HQ gathers ten days of traffic (the mock's
 * clock is advanced), some of it old enough that HQ deletes it for good (60-day retention) before
 * the daemon is back. Started again, the daemon drains everything by itself; it neither waits for
 * the deleted items nor invents them: /status equals the ground truth, which excludes them.
 */
import { FaultRig, reportFigures } from '../support/fault-rig';

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('ten days of downtime', () => {
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('catches up by itself after ten days down, without the items HQ deleted meanwhile', async () => {
    rig = await FaultRig.start({ mock: { leaseMs: 1500, seed: 21 }, config: { hq: { pageSize: 50 } } });
    const r = rig;
    const traffic = async (from: number, to: number, messages: number, inbound: number, seed: number) =>
      r.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
        messages, inbound, malformed: 4, from: new Date(from).toISOString(), to: new Date(to).toISOString(), seed,
      });
    const mockNow = async (): Promise<number> => Date.parse((await r.sim<{ now: string }>('GET', '/sim/clock')).now);

    // Running normally first.
    let t0 = await mockNow();
    await traffic(t0 - 5 * DAY, t0 - 7 * HOUR, 300, 100, 1);
    await r.startDaemon();
    expect(await r.waitConverged(60_000)).toEqual([]);
    const stop = await r.signalAndWait('SIGTERM');
    expect(stop.code).toBe(0);

    // Down. HQ receives old traffic the office never got (sent 58 to 45 days ago), then ten days
    // pass with new traffic every day: the oldest part of the old traffic passes 60 days.
    t0 = await mockNow();
    const old = await traffic(t0 - 58 * DAY, t0 - 45 * DAY, 600, 200, 2);
    await r.sim('POST', '/sim/clock/advance', { ms: 10 * DAY });
    const t1 = await mockNow();
    const recent = await traffic(t1 - 10 * DAY, t1 - 7 * HOUR, 1200, 400, 3);
    const atStart = await r.stats();
    const expired = atStart.receipts.expired + atStart.inbound.expired;
    expect(expired).toBeGreaterThan(0);

    const started = Date.now();
    await r.startDaemon();
    const diffs = await r.waitConverged(120_000);
    const catchUpSeconds = (Date.now() - started) / 1000;
    if (process.env.DEBUG_FAULTS) console.log(r.requireDaemon().logs.slice(0, 60).map((l) => JSON.stringify(l)).join('\n'));
    expect(diffs).toEqual([]);
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
    expect(r.ackedButNotStored()).toEqual([]);

    // Nothing HQ deleted was invented: none of the expired ids is in the database.
    const { hq } = r.mock;
    const expiredIds = (stream: typeof hq.receipts | typeof hq.inbound): string[] => {
      const out: string[] = [];
      for (let i = 0; i < stream.queue.size; i++) if (stream.queue.stateOf(i) === 4) out.push(stream.ids.format(i));
      return out;
    };
    const gone = [...expiredIds(hq.receipts), ...expiredIds(hq.inbound)];
    expect(gone.length).toBe(expired);
    const invented = r.withDb((db) => {
      const has = db.prepare('SELECT 1 FROM receipts WHERE receipt_id = ? UNION ALL SELECT 1 FROM inbound_messages WHERE inbound_id = ? UNION ALL SELECT 1 FROM quarantine WHERE ack_id = ?');
      return gone.filter((id) => has.get(id, id, id) !== undefined).length;
    });
    expect(invented).toBe(0);
    const end = await r.stats();
    reportFigures('downtime', {
      downDays: 10,
      itemsWhileDown: old.receipts + old.inbound + recent.receipts + recent.inbound + 8,
      expiredAtHq: expired,
      acked: end.receipts.acked + end.inbound.acked,
      catchUpSeconds: Math.round(catchUpSeconds * 10) / 10,
      invented,
      lost: 0,
      storedTwice: 0,
    });
  }, 240_000);
});
