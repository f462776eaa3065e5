/**
 * Malformed items: money as "1e-3", "-0.01" and "abc", an unknown status, missing
 * fields, wrongly typed fields, and items with no id at all. Each is stored verbatim in
 * quarantine, acknowledged (when it has an id), and counted once in econnector.quarantined however
 * often HQ hands it out again: the id-less ones can never be acknowledged and come back after
 * every lease. A valid item with unknown extra fields is accepted as valid.
 */
import { FaultRig, reportFigures } from '../support/fault-rig';
import { waitFor } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

const DAY = 86_400_000;

describe('malformed items', () => {
  let rig: FaultRig | undefined;

  afterAll(async () => {
    const leftovers = await rig?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('quarantines each bad item verbatim, acknowledges it, and counts it once however often it comes back', async () => {
    rig = await FaultRig.start({ mock: { leaseMs: 1000, seed: 13 }, config: { hq: { pageSize: 30 } } });
    const r = rig;
    const now = r.mock.clock.now(); // traffic placed in the mock's time
    // 16 malformed items: per stream one of each kind (money 1e-3, unknown status / mistyped
    // clinicId, missing field, wrong type, no id, money -0.01, money "abc", another missing field).
    const traffic = await r.sim<{ receipts: number; inbound: number; withExtraFields: number; malformed: { receipts: number; inbound: number; withoutId: number } }>(
      'POST', '/sim/traffic', {
        messages: 400, inbound: 150, malformed: 16, extraFieldRate: 0.3,
        from: new Date(now - 20 * DAY).toISOString(), to: new Date(now - 7 * 3_600_000).toISOString(), seed: 31,
      });
    expect(traffic.malformed).toEqual({ receipts: 8, inbound: 8, withoutId: 2 });
    expect(traffic.withExtraFields).toBeGreaterThan(50);
    await r.startDaemon();
    expect(await r.waitConverged(90_000)).toEqual([]);

    // The id-less items keep coming back, lease after lease: wait for several redeliveries.
    await waitFor('id-less items to be redelivered several times', async () => {
      const seen = r.withDb((db) => db.prepare("SELECT MIN(times_seen) AS n FROM quarantine WHERE item_key LIKE 'sha256:%'").get() as { n: number | null });
      return (seen.n ?? 0) >= 4;
    }, 60_000, 250);

    const status = await r.status<StatusDocument>();
    const truth = await r.sim<{ quarantinable: number }>('GET', `/sim/truth?tz=${encodeURIComponent(r.tz)}`);
    expect(truth.quarantinable).toBe(16);
    expect(status.econnector.quarantined).toBe(16);
    expect(await r.truthDiff()).toEqual([]);

    // Verbatim: the stored text is exactly what HQ served, for every malformed item; every one
    // that has an id is acknowledged at HQ; the id-less ones are keyed by their content's hash.
    const rows = r.withDb((db) => db.prepare('SELECT kind, item_key, ack_id, raw, reason, times_seen FROM quarantine ORDER BY kind, item_key').all() as
      Array<{ kind: string; item_key: string; ack_id: string | null; raw: string; reason: string; times_seen: number }>);
    expect(rows).toHaveLength(16);
    const { hq } = r.mock;
    const served = new Map<string, { raw: string; acked: boolean }>();
    for (const [kind, stream] of [['receipt', hq.receipts], ['inbound', hq.inbound]] as const) {
      for (const [i, item] of stream.malformed) served.set(`${kind}|${JSON.stringify(item)}`, { raw: JSON.stringify(item), acked: stream.queue.stateOf(i) === 3 });
    }
    for (const row of rows) {
      const at = served.get(`${row.kind}|${row.raw}`);
      expect(at).toBeDefined();
      expect(row.reason).not.toContain('+1'); // reasons name fields, never values (phones)
      if (row.ack_id !== null) {
        expect(at!.acked).toBe(true);
        expect(row.item_key).toBe(row.ack_id);
      } else {
        expect(row.item_key).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(row.times_seen).toBeGreaterThanOrEqual(4);
      }
    }
    const kinds = rows.map((row) => row.raw);
    for (const needle of ['"chargeUsd":"1e-3"', '"chargeUsd":"-0.01"', '"chargeUsd":"abc"', '"status":"lost"', '"segments":"2"', '"clinicId":"2"']) {
      expect(kinds.some((raw) => raw.includes(needle))).toBe(true);
    }
    expect(rows.filter((row) => row.ack_id === null)).toHaveLength(2);

    // Valid items with unknown extra fields are stored as valid: every valid receipt and reply is in.
    // (Receipts of texts the office sent itself, e.g. automatic replies to keywords in the
    // traffic's replies, are not part of the generated traffic.)
    const counts = r.counts();
    const ownReceipts = r.withDb((db) => Number((db.prepare("SELECT COUNT(*) AS n FROM receipts WHERE guid IN (SELECT guid FROM outbound_messages WHERE origin = 'office')").get() as { n: number }).n));
    expect(counts.receipts - ownReceipts).toBe(traffic.receipts);
    expect(counts.inbound).toBe(traffic.inbound);
    expect(r.duplicates()).toEqual({ receipts: 0, inbound: 0, quarantine: 0 });
    expect(r.ackedButNotStored()).toEqual([]);
    reportFigures('malformed', {
      malformed: 16, withoutId: 2, withExtraFields: traffic.withExtraFields, quarantined: status.econnector.quarantined,
      idlessTimesSeen: rows.filter((row) => row.ack_id === null).map((row) => row.times_seen),
    });
  }, 180_000);
});
