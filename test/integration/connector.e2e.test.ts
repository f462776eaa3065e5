/**
 * The whole loop against the HQ mock: a backlog spanning months (some of it past HQ's 60-day
 * retention), malformed items, lost acknowledgements and lost ack answers (so items come twice),
 * then /status must equal the mock's ground truth for every clinic and month, to the micro-dollar.
 */
import { rowsOf } from '../../src/db/bulk-sql';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { ackedButMissing, knexQuery } from '../support/acked';
import { monthUnderTest } from '../support/clock';
import { Deadline, startStack, waitFor, waitForTruth, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

const TZ = 'America/Chicago';
const DAY = 86_400_000;

// The same scenario on the embedded default (SQLite) and on PostgreSQL (DATABASE_URL=postgres://).
describe.each(['sqlite', 'postgresql'] as const)('connector end to end against the HQ mock (%s)', (driver) => {
  let stack: TestStack;
  let pg: TestPostgres | undefined;

  beforeAll(async () => {
    const env: Record<string, string> = {};
    if (driver === 'postgresql') {
      pg = await startPostgres();
      env.DATABASE_URL = await pg.createDatabase('e2e');
    }
    // Pages of 100 make ~60 ack calls, so the per-request ack faults surely strike several.
    stack = await startStack({ tz: TZ, env, mock: { leaseMs: 1500, seed: 7 }, config: { hq: { pageSize: 100, backoff: { baseMs: 100, maxMs: 2000 }, timeoutMs: 3000 } } });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await pg?.stop();
  });

  it('records a multi-month backlog with redeliveries exactly once and reports it as the truth says', async () => {
    const deadline = new Deadline(110_000);
    const now = stack.now(); // the mock's clock: traffic is placed in its time
    // Faults first: the daemon would drain the backlog before a later call could set them.
    await stack.sim('POST', '/sim/faults', { rates: { lostAck: 0.15, ackResponseLost: 0.1 }, seed: 3 });
    // The daemon answers the STOP/HELP/START replies of the traffic: a second receipt of such an
    // answer comes 1 s after its first, not the mock's 30 s (see 'nothing more' below).
    await stack.sim('POST', '/sim/config', { secondReceiptDelayMs: 1_000 });
    const traffic = await stack.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', {
      messages: 4000,
      inbound: 1200,
      malformed: 12,
      // Starts beyond HQ's 60-day retention; ends 7 h back so every second receipt has arrived.
      from: new Date(now - 75 * DAY).toISOString(),
      to: new Date(now - 7 * 3_600_000).toISOString(),
      seed: 11,
    });
    expect(traffic.receipts).toBeGreaterThan(4000);

    // Drained: nothing left at HQ but the items without an id (they can never be acknowledged).
    await waitFor('HQ to be drained', async () => {
      const s = await stack.sim<{ receipts: { available: number; leased: number }; inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, deadline, 500);
    await waitForTruth(stack, TZ, deadline);
    // Nothing more to come: the answers the daemon sent were accepted by HQ (the outbox is read
    // first, so every receipt of them exists at HQ by the time its stats are read), and their
    // receipts are all due and acknowledged. The mock's clock runs with real time: without this, a
    // second receipt of an answer (8% are 'unconfirmed, then delivered'), due after the truth was
    // met, could be acknowledged between the two reads of HQ's acks below and fail their comparison.
    await waitFor('nothing more to come from HQ', async () => {
      const owed = rowsOf<{ n: number | string }>(await stack.daemon.app.db.knex.raw('SELECT COUNT(*) AS n FROM outbox'));
      if (Number(owed[0]!.n) > 0) return false;
      const s = await stack.sim<{ receipts: { pending: number; available: number; leased: number }; inbound: { pending: number; available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.pending + s.inbound.pending === 0 && s.receipts.available + s.receipts.leased <= 1 && s.inbound.available + s.inbound.leased <= 1;
    }, deadline, 250);
    await waitForTruth(stack, TZ, deadline);

    // Lost acks really made HQ hand items out again, and nothing was stored twice.
    const stats = await stack.sim<{ receipts: { served: number; acked: number }; faults: Record<string, number> }>('GET', '/sim/stats');
    expect(stats.faults.lostAck! + stats.faults.ackResponseLost!).toBeGreaterThan(0);
    const redelivered = stack.logs.filter((l) => l.message === 'job done').reduce((n, l) => n + Number(l.duplicates ?? 0), 0);
    expect(redelivered).toBeGreaterThan(0);
    const knex = stack.daemon.app.db.knex;
    const [receipts] = rowsOf<{ n: number; d: number }>(await knex.raw('SELECT COUNT(*) AS n, COUNT(DISTINCT receipt_id) AS d FROM receipts'));
    // PostgreSQL returns counts as strings.
    expect(Number(receipts!.n)).toBe(Number(receipts!.d));
    // Every id HQ recorded as acknowledged is stored (or quarantined): acknowledge after commit.
    // HQ's counts are read in the same tick as ackedButMissing's snapshot of its acked ids (taken
    // before its first await), so an ack landing meanwhile cannot make the two differ.
    const ackedNow = stack.mock.hq.stats();
    const missing = await ackedButMissing(knexQuery(knex), stack.mock.hq);
    // (ids of a quarter of the backlog were past retention, so never served or acked)
    expect(missing.acked).toEqual({ receipts: ackedNow.receipts.acked, inbound: ackedNow.inbound.acked });
    expect(missing.acked.receipts).toBeGreaterThan(traffic.receipts / 2);
    expect(missing.acked.inbound).toBeGreaterThan(traffic.inbound / 2);
    expect({ receipts: missing.receipts, inbound: missing.inbound }).toEqual({ receipts: [], inbound: [] });

    const current = await stack.status<StatusDocument>();
    expect(current.timezone).toBe(TZ);
    expect(current.limitUsd).toBe('50.00');
    expect(current.clinics.map((c) => c.clinicId)).toEqual([...current.clinics.map((c) => c.clinicId)].sort((a, b) => a - b));
    // Clinic 7 appears only in traffic (3 texts in 100 name it; last month lies wholly inside the
    // 75 days of traffic, so it has some): listed with no name, not subscribed.
    const previous = await stack.status<StatusDocument>(`/status?month=${monthUnderTest(TZ, now).previous}`);
    const stray = previous.clinics.find((c) => c.clinicId === 7);
    expect(stray).toMatchObject({ clinicId: 7, name: null, subscribed: false });
    expect(stray!.sentCount).toBeGreaterThan(0);
  }, 120_000);

  it('answers 400 for an invalid month and serves readiness as health+json', async () => {
    const bad = await fetch(`${stack.daemon.statusUrl}/status?month=2026-13`);
    expect(bad.status).toBe(400);
    const ready = await fetch(`${stack.daemon.statusUrl}/readyz`);
    expect(ready.headers.get('content-type')).toContain('application/health+json');
    const doc = (await ready.json()) as { status: string; checks: Record<string, unknown[]> };
    expect(Object.keys(doc.checks)).toEqual(expect.arrayContaining(['redis', 'database', 'hq:receipts', 'hq:inbound']));
    expect(ready.status).toBe(200);
    expect((await fetch(`${stack.daemon.statusUrl}/healthz`)).status).toBe(200);
  });
});
