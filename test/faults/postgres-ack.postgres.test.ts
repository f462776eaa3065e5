/**
 * Acknowledge after commit, on PostgreSQL: the real daemon (DATABASE_URL=postgres://) drains a
 * backlog while acks are lost on the way to HQ and on the way back, is killed with kill -9 between
 * a page's commit and its ack and inside a page's transaction, and has its PostgreSQL server
 * crash and come back under it. After every fault, each id HQ recorded as acknowledged must be in
 * PostgreSQL (stored, or quarantined); at the end /status equals the truth and nothing is stored
 * twice.
 */
import { Client } from 'pg';
import { mulberry32 } from '../../src/hq-mock/prng';
import { ackedButMissing, type IdQuery } from '../support/acked';
import { FaultRig, hookHq, reportFigures } from '../support/fault-rig';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { Deadline, waitFor } from '../support/stack';

const DAY = 86_400_000;

describe('acknowledge after commit on PostgreSQL, under faults', () => {
  let pg: TestPostgres | undefined;
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = (await rig?.stop()) ?? [];
    await pg?.stop();
    expect(leftovers).toEqual([]);
  });

  it('loses nothing and stores nothing twice over lost acks, kill -9 and a PostgreSQL crash', async () => {
    const deadline = new Deadline(220_000);
    const rng = mulberry32(61);
    // Crash-safe: a commit the server answered survives its immediate shutdown, as in production.
    pg = await startPostgres({ crashSafe: true });
    const url = await pg.createDatabase('ack_faults');
    rig = await FaultRig.start({ mock: { leaseMs: 1500, seed: 61 }, config: { hq: { pageSize: 20 } }, databaseUrl: url });
    const r = rig;
    /** A fresh connection per check: the server may have been restarted since the last one. */
    const query: IdQuery = async (sql) => {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql)).rows as Array<{ id: unknown }>;
      } finally {
        await c.end();
      }
    };
    const checks: Array<{ after: string; acked: { receipts: number; inbound: number } }> = [];
    const expectAckedStored = async (after: string): Promise<void> => {
      const m = await ackedButMissing(query, r.mock.hq);
      if (m.receipts.length + m.inbound.length > 0) {
        // Say what the server said: a lost commit after its crash is the server's or ours.
        process.stderr.write(`acked but missing after ${after}: ${m.receipts.length} receipts, ${m.inbound.length} replies; PostgreSQL's last words:\n${pg?.log().slice(-3000)}\n`);
      }
      expect({ after, receipts: m.receipts, inbound: m.inbound }).toEqual({ after, receipts: [], inbound: [] });
      checks.push({ after, acked: m.acked });
    };

    await r.sim('POST', '/sim/faults', { rates: { lostAck: 0.1, ackResponseLost: 0.1 }, seed: 62 });
    const now = r.mock.clock.now();
    let items = 0;
    const addBacklog = async (messages: number, inbound: number, seed: number): Promise<void> => {
      const t = await r.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
        messages, inbound, malformed: 4, from: new Date(now - 30 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed,
      });
      items += t.receipts + t.inbound + 4;
    };
    await addBacklog(1500, 500, 63);
    await r.startDaemon();

    const kills: string[] = [];
    for (const [n, moment] of (['commit-ack', 'transaction', 'commit-ack'] as const).entries()) {
      const s = await r.stats();
      if (s.receipts.available + s.inbound.available < 300) await addBacklog(400, 150, 70 + n);
      const daemon = r.requireDaemon();
      let fired = false;
      let unhook = (): void => undefined;
      const struck = new Promise<void>((resolve) => {
        const kill = (delayMs: number): void => {
          if (fired) return;
          fired = true;
          setTimeout(() => {
            try {
              process.kill(-daemon.pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
            resolve();
          }, delayMs);
        };
        unhook = hookHq(r.mock, {
          // Inside the page's transaction: the page was served, its rows are being written.
          page: (_stream, page) => {
            if (moment === 'transaction' && page.count > 0) kill(Math.floor(rng() * 8));
          },
          // Between commit and ack: HQ records this ack, the daemon dies before hearing back.
          beforeAck: () => {
            if (moment === 'commit-ack') kill(0);
            return true;
          },
        });
      });
      await waitFor(`a kill -9 ${moment === 'commit-ack' ? 'between commit and ack' : 'inside a transaction'}`, async () => (fired ? struck.then(() => true) : undefined), deadline, 20);
      await r.kill9();
      unhook();
      kills.push(moment);
      await expectAckedStored(`kill -9 at ${moment}`);
      await r.startDaemon();
    }

    // PostgreSQL crashes under the draining daemon and is back 2 s later; the daemon rides it out.
    const s = await r.stats();
    if (s.receipts.available + s.inbound.available < 300) await addBacklog(400, 150, 80);
    await waitFor('the daemon to be draining', async () => (await r.stats()).receipts.acked > s.receipts.acked, deadline, 50);
    await pg.restart(2000);
    await expectAckedStored('PostgreSQL restart');
    const ackedAtRestart = (await r.stats()).receipts.acked + (await r.stats()).inbound.acked;
    await waitFor('acknowledgements again after the PostgreSQL restart', async () => {
      const st = await r.stats();
      return st.receipts.acked + st.inbound.acked > ackedAtRestart;
    }, deadline, 250);
    expect(r.requireDaemon().running()).toBe(true);

    await r.sim('POST', '/sim/faults', {});
    expect(await r.waitConverged(deadline)).toEqual([]);
    await expectAckedStored('convergence');
    const dup = await query(`SELECT (SELECT COUNT(*) - COUNT(DISTINCT receipt_id) FROM receipts) + (SELECT COUNT(*) - COUNT(DISTINCT inbound_id) FROM inbound_messages) AS id`);
    expect(Number(dup[0]!.id)).toBe(0);
    const stats = await r.stats();
    // The faults really struck: acks were lost, so items came back.
    expect(stats.faults.lostAck! + stats.faults.ackResponseLost!).toBeGreaterThan(0);
    expect(stats.receipts.served).toBeGreaterThan(stats.receipts.acked);
    expect(checks.at(-1)!.acked.receipts).toBe(stats.receipts.acked);
    reportFigures('postgres-ack', { items, kills, pgRestarts: 1, checks: checks.length, lost: 0, storedTwice: 0 });
  }, 240_000);
});
