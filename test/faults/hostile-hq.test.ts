/**
 * A hostile (or careless) HQ: items within the contract's letter that no database
 * column can hold (a clinicId above 2^31-1, ids longer than 255 characters, a NUL character or a
 * lone surrogate in an id or a body, 3,000,000,000 segments, charges of 5,000,000,000 USD that
 * add up past 2^53 micro-dollars), sprinkled among ordinary traffic, served by the HQ mock to the
 * REAL daemon, on SQLite and on PostgreSQL.
 *
 * Each one must end committed (quarantined verbatim) and acknowledged; its page-mates recorded;
 * /status answering 200 for every month, exact to the micro-dollar against the mock's truth for
 * every other clinic; nothing acknowledged before it was committed; nothing stored twice.
 * Before this suite existed, on PostgreSQL the pages holding them failed for ever (never acknowledged,
 * their page-mates never recorded), and on SQLite /status answered 500 for the month of the
 * two large charges.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { HqStream } from '../../src/texting/streams';
import { FaultRig, hookHq, reportFigures } from '../support/fault-rig';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { waitFor } from '../support/stack';
import { DAY, HOUR, iso } from '../support/clock';
import type { StatusDocument } from '../support/status-client';

type Item = Record<string, unknown>;

/** A good receipt of the mock's clinic 1, with `over` applied: each hostile item breaks one field. */
const receiptOf = (id: string, sentAt: number, over: Item): Item => ({
  receiptId: id, guid: randomUUID(), clinicId: 1, status: 'delivered', chargeUsd: '0.0079', segments: 1, countryCode: 'US',
  sentAt: iso(sentAt), statusAt: iso(sentAt + 4000), ...over,
});
const inboundOf = (id: string, receivedAt: number, over: Item): Item => ({
  inboundId: id, clinicId: 1, fromPhone: '+15035550199', toPhone: '+15035550100', body: 'Yes, see you then',
  receivedAt: iso(receivedAt), chargeUsd: '0.0079', segments: 1, ...over,
});

const HOSTILE_RECEIPTS: Array<[string, (id: string) => Item]> = [
  ['clinicId above 2^31-1', () => ({ clinicId: 2 ** 31 })],
  ['receiptId of 300 characters', () => ({ receiptId: `r-${'x'.repeat(298)}` })],
  ['guid of 300 characters', () => ({ guid: 'g'.repeat(300) })],
  ['NUL in the receiptId', (id) => ({ receiptId: `${id}\u0000` })],
  ['NUL in the guid', () => ({ guid: `g-\u0000-${randomUUID()}` })],
  ['lone surrogate in the guid', () => ({ guid: `g-\ud800-${randomUUID()}` })],
  ['3,000,000,000 segments', () => ({ segments: 3_000_000_000 })],
  ['a charge of 5,000,000,000 USD', () => ({ chargeUsd: '5000000000' })],
  ['another charge of 5,000,000,000 USD in the same month', () => ({ chargeUsd: '5000000000' })],
];
const HOSTILE_INBOUND: Array<[string, (id: string) => Item]> = [
  ['clinicId above 2^31-1', () => ({ clinicId: 2 ** 31 })],
  ['inboundId of 300 characters', () => ({ inboundId: `i-${'y'.repeat(298)}` })],
  ['NUL in the inboundId', (id) => ({ inboundId: `${id}\u0000` })],
  ['NUL in the body', () => ({ body: 'see you\u0000then' })],
  ['lone surrogate in the body', () => ({ body: 'smile \udc00' })],
  ['3,000,000,000 segments', () => ({ segments: 3_000_000_000 })],
  ['a charge of 5,000,000,000 USD', () => ({ chargeUsd: '5000000000' })],
];

interface QuarantineRow { kind: string; item_key: string; ack_id: string | null; raw: string; reason: string }

describe.each(['sqlite', 'postgresql'] as const)('a hostile HQ, on %s', (engine) => {
  let rig: FaultRig | undefined;
  let pg: TestPostgres | undefined;
  let pgClient: Client | undefined;

  afterAll(async () => {
    await pgClient?.end();
    const leftovers = await rig?.stop();
    await pg?.stop();
    expect(leftovers ?? []).toEqual([]);
  });

  it('quarantines every item no column can hold, records its page-mates, acknowledges all, and /status stays exact', async () => {
    rig = await FaultRig.start({ tz: 'America/Chicago', mock: { leaseMs: 1500, seed: 41 }, config: { hq: { pageSize: 40 } } });
    const r = rig;
    if (engine === 'postgresql') {
      pg = await startPostgres();
      const url = await pg.createDatabase('hostile_hq');
      const env = r.env.bind(r);
      r.env = () => ({ ...env(), DATABASE_URL: url });
      pgClient = new Client({ connectionString: url });
    }
    const query = async <T>(sql: string): Promise<T[]> => (pgClient ? (await pgClient.query(sql)).rows as T[] : r.withDb((db) => db.prepare(sql).all() as T[]));

    // Ordinary traffic over three weeks of the mock's clock, and the hostile items among it.
    const now = r.mock.hq.now();
    const from = now - 21 * DAY;
    const to = now - 7 * HOUR;
    const traffic = await r.sim<{ receipts: number; inbound: number }>('POST', '/sim/traffic', { messages: 500, inbound: 160, from: iso(from), to: iso(to), seed: 43 });
    const hostile = new Map<string, { kind: 'receipt' | 'inbound'; what: string; item: Item }>();
    const at = (k: number, of: number): number => from + Math.round(((k + 1) / (of + 1)) * (to - from));
    HOSTILE_RECEIPTS.forEach(([what, over], k) => {
      // The two large charges share one month: together they pass 2^53 micro-dollars.
      const sentAt = what.includes('5,000,000,000') ? to - 2 * HOUR - k * 60_000 : at(k, HOSTILE_RECEIPTS.length);
      r.mock.hq.addMalformedReceipt(sentAt, sentAt + 4000, (id) => {
        const item = receiptOf(id, sentAt, over(id));
        hostile.set(`receipt|${JSON.stringify(item)}`, { kind: 'receipt', what, item });
        return item;
      });
    });
    HOSTILE_INBOUND.forEach(([what, over], k) => {
      const receivedAt = at(k, HOSTILE_INBOUND.length);
      r.mock.hq.addMalformedInbound(receivedAt, (id) => {
        const item = inboundOf(id, receivedAt, over(id));
        hostile.set(`inbound|${JSON.stringify(item)}`, { kind: 'inbound', what, item });
        return item;
      });
    });
    expect(hostile.size).toBe(HOSTILE_RECEIPTS.length + HOSTILE_INBOUND.length);

    // The one rule, checked at every acknowledgement on SQLite (a synchronous read of committed rows).
    const ackedBeforeCommit: string[] = [];
    const unhook = engine === 'sqlite'
      ? hookHq(r.mock, {
        beforeAck: (stream, ids) => {
          const stored = storedIds(r.withDb((db) => ({
            ids: db.prepare(stream === 'receipts' ? 'SELECT receipt_id FROM receipts WHERE receipt_id IN (SELECT value FROM json_each(?))'
              : 'SELECT inbound_id FROM inbound_messages WHERE inbound_id IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(ids)) as string[],
            quarantine: db.prepare('SELECT kind, item_key, ack_id, raw, reason FROM quarantine').all() as QuarantineRow[],
          })), stream);
          for (const id of ids) if (!stored.has(id)) ackedBeforeCommit.push(id);
          return true;
        },
      })
      : () => undefined;

    await r.startDaemon();
    if (pgClient) await pgClient.connect();
    const started = Date.now();
    expect(await r.waitConverged(150_000)).toEqual([]);
    const convergedMs = Date.now() - started;
    unhook();

    // Every hostile item: in quarantine, verbatim, once, with a reason naming the field.
    const rows = await query<QuarantineRow>('SELECT kind, item_key, ack_id, raw, reason FROM quarantine ORDER BY kind, item_key');
    expect(rows).toHaveLength(hostile.size);
    for (const row of rows) {
      const h = hostile.get(`${row.kind}|${row.raw}`);
      expect(h).toBeDefined();
      expect(row.reason).not.toContain('see you');
    }
    const reasons = Object.fromEntries(rows.map((row) => [hostile.get(`${row.kind}|${row.raw}`)!.what + ` (${row.kind})`, row.reason]));
    expect(reasons['clinicId above 2^31-1 (receipt)']).toContain('clinicId');
    expect(reasons['a charge of 5,000,000,000 USD (receipt)']).toContain('chargeUsd');
    expect(reasons['NUL in the body (inbound)']).toContain('body');

    // Every item acknowledged (none left at HQ), and each acknowledged one committed.
    const stats = await r.stats();
    expect({ r: stats.receipts.available + stats.receipts.leased, i: stats.inbound.available + stats.inbound.leased }).toEqual({ r: 0, i: 0 });
    expect(ackedBeforeCommit).toEqual([]);
    const { hq } = r.mock;
    const stored = {
      receipts: storedIds({ ids: (await query<{ id: string }>('SELECT receipt_id AS id FROM receipts')).map((x) => x.id), quarantine: rows }, 'receipts'),
      inbound: storedIds({ ids: (await query<{ id: string }>('SELECT inbound_id AS id FROM inbound_messages')).map((x) => x.id), quarantine: rows }, 'inbound'),
    };
    const notStored: string[] = [];
    for (const [name, stream] of [['receipts', hq.receipts], ['inbound', hq.inbound]] as const) {
      for (let i = 0; i < stream.queue.size; i++) {
        if (stream.queue.stateOf(i) !== 3 /* ACKED */) continue;
        const raw = stream.malformed.get(i);
        const id = String(raw ? (raw.receiptId ?? raw.inboundId) : stream.ids.format(i));
        if (!stored[name].has(id)) notStored.push(JSON.stringify(id));
      }
    }
    expect(notStored).toEqual([]);

    // Page-mates recorded: every ordinary item HQ holds (the traffic, and receipts of the daemon's own
    // automatic replies) is stored, once.
    const count = async (sql: string): Promise<number> => Number((await query<{ n: number | string }>(sql))[0]!.n);
    expect(hq.receipts.queue.size - HOSTILE_RECEIPTS.length).toBeGreaterThanOrEqual(traffic.receipts);
    expect(await count('SELECT COUNT(*) AS n FROM receipts')).toBe(hq.receipts.queue.size - HOSTILE_RECEIPTS.length);
    expect(await count('SELECT COUNT(*) AS n FROM inbound_messages')).toBe(traffic.inbound);
    expect(await count('SELECT COUNT(*) - COUNT(DISTINCT receipt_id) AS n FROM receipts')).toBe(0);

    // /status: 200 for every month (waitConverged compared each with the truth); the quarantine counted once each.
    const status = await r.status<StatusDocument>();
    expect(status.econnector.quarantined).toBe(hostile.size);
    for (const month of new Set([...hostile.values()].map((h) => String(h.item.sentAt ?? h.item.receivedAt).slice(0, 7)))) {
      const res = await fetch(`${r.requireDaemon().statusUrl}/status?month=${month}`);
      expect(res.status).toBe(200);
    }
    // The daemon's database gates never closed for good: both streams kept polling to the end.
    await waitFor('both streams to poll again after convergence', async () => {
      const s = await r.status<StatusDocument>();
      return Date.parse(String(s.econnector.lastReceiptsPollAt)) > started + convergedMs && Date.parse(String(s.econnector.lastInboundPollAt)) > started + convergedMs;
    }, 30_000, 250);
    reportFigures(`hostile-hq-${engine}`, { hostile: hostile.size, receipts: traffic.receipts, inbound: traffic.inbound, convergedMs });
  }, 240_000);
});

/** Ids an office database holds for a stream: recorded items, and quarantined ones by the id in their verbatim text. */
function storedIds(from: { ids: readonly string[]; quarantine: readonly QuarantineRow[] }, stream: HqStream): Set<string> {
  const out = new Set(from.ids);
  for (const q of from.quarantine) {
    if (q.kind !== (stream === 'receipts' ? 'receipt' : 'inbound')) continue;
    const id = (JSON.parse(q.raw) as Item)[stream === 'receipts' ? 'receiptId' : 'inboundId'];
    if (typeof id === 'string') out.add(id);
  }
  return out;
}
