import { randomUUID } from 'node:crypto';
import { startHqMock, type HqMock } from '../../src/hq-mock/server';
import { IN_FLIGHT_GRACE_MS } from '../../src/hq-mock/faults';
import { waitFor } from '../support/stack';

type Json = Record<string, any>;

let mock: HqMock;
let auth: Record<string, string>;
/** A whole second ten days before the mock's now: recent enough that retention keeps the items. */
let base: number;
const isoAt = (offsetMs: number) => new Date(base + offsetMs).toISOString();

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<{ status: number; headers: Headers; text: string; json: Json }> {
  const res = await fetch(mock.url + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    /* left empty: some tests look at the raw text */
  }
  return { status: res.status, headers: res.headers, text, json };
}
const get = (path: string) => call('GET', path);
const post = (path: string, body: unknown = {}) => call('POST', path, body);

async function injectReceipts(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < n; k++) {
    const sentAt = isoAt(k * 1000);
    const r = await post('/sim/message', { clinicId: 1, sentAt, receipts: [{ status: 'delivered', statusAt: sentAt }] });
    expect(r.status).toBe(200);
    ids.push(...(r.json.receiptIds as string[]));
  }
  return ids;
}

beforeEach(async () => {
  mock = await startHqMock({ port: 0, seed: 11 });
  auth = { authorization: `Bearer ${mock.apiKey}` };
  base = Math.floor((mock.clock.now() - 10 * 86_400_000) / 1000) * 1000;
});
afterEach(async () => {
  await mock.close();
});

describe('HQ mock over HTTP', () => {
  test('listens on a free loopback port with the dev key by default', () => {
    expect(mock.url).toBe(`http://127.0.0.1:${mock.port}`);
    expect(mock.apiKey).toBe('dev-econnector-key');
  });

  test('401 without the right bearer key on /v1 and /sim', async () => {
    for (const path of ['/v1/account', '/v1/receipts', '/v1/inbound', '/sim/stats', '/sim/clock']) {
      expect((await call('GET', path, undefined, {})).status).toBe(401);
      expect((await call('GET', path, undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await call('GET', path, undefined, { authorization: mock.apiKey })).status).toBe(401);
    }
    expect((await call('POST', '/v1/messages', {}, {})).status).toBe(401);
    expect((await call('POST', '/v1/receipts/ack', { receiptIds: [] }, {})).status).toBe(401);
  });

  test('GET /v1/account', async () => {
    const r = await get('/v1/account');
    expect(r.status).toBe(200);
    expect(r.json.monthlyLimitUsd).toBe('50.00');
    expect(r.json.clinics).toEqual([
      { clinicId: 1, name: 'Main Street', subscribed: true, primaryPhone: '+15035550100', countryCode: 'US' },
      { clinicId: 2, name: 'Riverside', subscribed: true, primaryPhone: '+15035550101', countryCode: 'US' },
      { clinicId: 3, name: 'Lakeside', subscribed: true, primaryPhone: '+16045550102', countryCode: 'CA' },
      { clinicId: 4, name: 'Harbor', subscribed: false, primaryPhone: '+15035550103', countryCode: 'US' },
    ]);
    expect(typeof r.json.officeId).toBe('string');
  });

  test('paging with more, leases, acks and redelivery', async () => {
    const ids = await injectReceipts(5);
    const p1 = await get('/v1/receipts?limit=2');
    expect(p1.json.more).toBe(true);
    expect(p1.json.receipts.map((r: Json) => r.receiptId)).toEqual(ids.slice(0, 2));
    expect(p1.json.receipts[0]).toEqual({
      receiptId: ids[0],
      guid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      clinicId: 1,
      status: 'delivered',
      chargeUsd: '0.0079',
      segments: 1,
      countryCode: 'US',
      sentAt: isoAt(0),
      statusAt: isoAt(0),
    });
    const p2 = await get('/v1/receipts?limit=2');
    expect(p2.json.receipts.map((r: Json) => r.receiptId)).toEqual(ids.slice(2, 4));
    const p3 = await get('/v1/receipts?limit=2');
    expect(p3.json).toEqual({ receipts: [expect.objectContaining({ receiptId: ids[4] })], more: false });
    expect((await get('/v1/receipts')).json).toEqual({ receipts: [], more: false });

    // Ack the first page (twice: idempotent); unknown ids are ignored.
    expect((await post('/v1/receipts/ack', { receiptIds: ids.slice(0, 2) })).json).toEqual({ acked: 2 });
    expect((await post('/v1/receipts/ack', { receiptIds: [...ids.slice(0, 2), 'r-nope-000000001', 'x'] })).json).toEqual({ acked: 0 });

    // After the lease, the unacked ones come back, oldest first.
    await post('/sim/clock/advance', { ms: 60_000 });
    const again = await get('/v1/receipts?limit=1000');
    expect(again.json.receipts.map((r: Json) => r.receiptId)).toEqual(ids.slice(2));
    expect((await post('/v1/receipts/ack', { receiptIds: ids })).json).toEqual({ acked: 3 });

    const stats = (await get('/sim/stats')).json;
    expect(stats.receipts).toMatchObject({ available: 0, leased: 0, acked: 5, expired: 0, served: 8, ackCalls: 3 });
  });

  test('inbound is served and acked the same way', async () => {
    const { json } = await post('/sim/inbound', { clinicId: 2, fromPhone: '+15035550199', body: 'Yes, see you then', receivedAt: isoAt(3600_000) });
    const page = await get('/v1/inbound?limit=10');
    expect(page.json).toEqual({
      messages: [
        {
          inboundId: json.inboundId,
          clinicId: 2,
          fromPhone: '+15035550199',
          toPhone: '+15035550101',
          body: 'Yes, see you then',
          receivedAt: isoAt(3600_000),
          chargeUsd: '0.0079',
          segments: 1,
        },
      ],
      more: false,
    });
    expect((await post('/v1/inbound/ack', { inboundIds: [json.inboundId] })).json).toEqual({ acked: 1 });
    expect((await post('/v1/inbound/ack', { inboundIds: [json.inboundId] })).json).toEqual({ acked: 0 });
  });

  test('limit and ack validation', async () => {
    for (const bad of ['0', '1001', 'abc', '-1', '1.5', '', '10&limit=20']) {
      const r = await get(`/v1/receipts?limit=${bad}`);
      expect([bad, r.status]).toEqual([bad, 400]);
    }
    expect((await get('/v1/inbound?limit=1000')).status).toBe(200);
    expect((await get('/v1/inbound?limit=0')).status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, (_, k) => `r-x-${k}`);
    expect((await post('/v1/receipts/ack', { receiptIds: tooMany })).status).toBe(400);
    expect((await post('/v1/receipts/ack', { receiptIds: tooMany.slice(0, 1000) })).json).toEqual({ acked: 0 });
    expect((await post('/v1/receipts/ack', { receiptIds: [1, 2] })).status).toBe(400);
    expect((await post('/v1/inbound/ack', { receiptIds: [] })).status).toBe(400);
    const raw = await fetch(`${mock.url}/v1/receipts/ack`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"receiptIds": [' });
    expect(raw.status).toBe(400);
  });

  test('default page is 500', async () => {
    await post('/sim/traffic', { messages: 700, from: isoAt(0), to: isoAt(86_400_000), seed: 1 });
    const r = await get('/v1/receipts');
    expect(r.json.receipts).toHaveLength(500);
    expect(r.json.more).toBe(true);
  });

  test('POST /v1/messages: 202, idempotent 200, 409, 400, 404, 403, 402', async () => {
    const msg = { guid: randomUUID(), clinicId: 1, toPhone: '+15035550199', body: 'Your cleaning is tomorrow at 3pm' };
    const first = await post('/v1/messages', msg);
    expect(first.status).toBe(202);
    expect(first.json).toEqual({ guid: msg.guid, segments: 1, status: 'pending', acceptedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    const again = await post('/v1/messages', msg);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect((await post('/v1/messages', { ...msg, body: 'changed' })).status).toBe(409);

    for (const bad of [{}, { ...msg, guid: 'nope' }, { ...msg, clinicId: 0 }, { ...msg, toPhone: '5035550199' }, { ...msg, body: '' }, { ...msg, clinicId: '1' }]) {
      expect((await post('/v1/messages', { ...bad, guid: (bad as Json).guid === 'nope' ? 'nope' : randomUUID() })).status).toBe(400);
    }
    expect((await post('/v1/messages', { ...msg, guid: randomUUID(), clinicId: 9 })).json).toEqual({ error: 'unknown_clinic' });
    expect((await post('/v1/messages', { ...msg, guid: randomUUID(), clinicId: 4 })).status).toBe(403);

    // Its receipt arrives ~2 s of mock time later.
    expect((await get('/v1/receipts')).json.receipts).toEqual([]);
    await post('/sim/clock/advance', { ms: 2000 });
    const receipts = (await get('/v1/receipts')).json.receipts as Json[];
    expect(receipts.length).toBeGreaterThanOrEqual(1);
    expect(receipts[0]!.guid).toBe(msg.guid);

    await post('/sim/config', { monthlyLimitUsd: '0.00' });
    const over = await post('/v1/messages', { ...msg, guid: randomUUID() });
    expect(over.status).toBe(402);
    expect(over.json).toEqual({ error: 'monthly_limit_reached' });
    expect((await post('/v1/messages', msg)).status).toBe(200); // a replay is still a replay
    expect((await get('/v1/account')).json.monthlyLimitUsd).toBe('0.00');
  });

  test('the mock clock advances on demand and drives retention', async () => {
    const before = Date.parse((await get('/sim/clock')).json.now);
    const after = await post('/sim/clock/advance', { ms: 61 * 86_400_000 });
    expect(Date.parse(after.json.now) - before).toBeGreaterThanOrEqual(61 * 86_400_000);
    expect((await post('/sim/clock/advance', { ms: -5 })).status).toBe(400);

    const sentAt = new Date(Date.parse(after.json.now) - 59 * 86_400_000).toISOString();
    await post('/sim/message', { clinicId: 1, sentAt, receipts: [{ status: 'delivered', statusAt: sentAt }] });
    expect((await get('/sim/stats')).json.receipts.available).toBe(1);
    await post('/sim/clock/advance', { ms: 86_400_000 });
    expect((await get('/v1/receipts')).json).toEqual({ receipts: [], more: false });
    expect((await get('/sim/stats')).json.receipts).toMatchObject({ available: 0, expired: 1 });
  });

  test('fault: 429 with Retry-After, and calls inside the window are counted as violations', async () => {
    // The window is real time: long enough that the call below, made just past the in-flight
    // grace, is still inside it on a loaded machine (a 3 s window left it under 2 s for a timer
    // that fires late and two requests).
    const windowSeconds = 6;
    expect((await post('/sim/faults', { rates: { http429: 1 }, retryAfterSeconds: windowSeconds })).status).toBe(200);
    const first = await get('/v1/receipts');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe(String(windowSeconds));
    const toldAt = Date.now();
    await post('/sim/faults', {}); // clearing faults does not cancel an announced window
    // Past the moment a request could still have been on the wire (whichever connection it takes),
    // well inside the window.
    await new Promise((r) => setTimeout(r, IN_FLIGHT_GRACE_MS + 100));
    const early = await get('/v1/receipts');
    expect(early.status).toBe(429);
    expect((await get('/v1/inbound')).status).toBe(200); // another endpoint is not affected
    let stats = (await get('/sim/stats')).json;
    expect(stats.retryAfterViolations).toBe(1);
    expect(stats.retryAfterViolationsByEndpoint).toEqual({ 'GET /v1/receipts': 1 });
    expect(stats.faults.http429).toBe(1);

    await new Promise((r) => setTimeout(r, Math.max(0, toldAt + windowSeconds * 1000 + 50 - Date.now())));
    expect((await get('/v1/receipts')).status).toBe(200);
    stats = (await get('/sim/stats')).json;
    expect(stats.retryAfterViolations).toBe(1);
  });

  test('fault: truncatedJson answers 200 with a cut body (and leases what it would have served)', async () => {
    const ids = await injectReceipts(3);
    await post('/sim/faults', { rates: { truncatedJson: 1 } });
    const cut = await get('/v1/receipts');
    expect(cut.status).toBe(200);
    expect(cut.headers.get('content-type')).toMatch(/application\/json/);
    expect(() => JSON.parse(cut.text)).toThrow();
    expect((await get('/v1/account')).status).toBe(200);
    await post('/sim/faults', {});
    expect((await get('/sim/stats')).json.faults.truncatedJson).toBe(2);
    expect((await get('/v1/receipts')).json).toEqual({ receipts: [], more: false });
    await post('/sim/clock/advance', { ms: 60_000 });
    expect((await get('/v1/receipts')).json.receipts.map((r: Json) => r.receiptId)).toEqual(ids);
  });

  test('faults: 500, 503, reset, hang, outage', async () => {
    await post('/sim/faults', { rates: { http500: 1 } });
    expect((await get('/v1/receipts')).status).toBe(500);
    await post('/sim/faults', { rates: { http503: 1 } });
    expect((await get('/v1/account')).status).toBe(503);
    expect((await get('/sim/stats')).status).toBe(200); // never on /sim

    await post('/sim/faults', { rates: { reset: 1 } });
    await expect(fetch(`${mock.url}/v1/receipts`, { headers: auth })).rejects.toThrow();

    await post('/sim/faults', { rates: { hang: 1 }, hangMs: 300 });
    const started = Date.now();
    await expect(fetch(`${mock.url}/v1/inbound`, { headers: auth })).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    // An outage long enough that a stalled machine still sees it, then waited out (not slept).
    await post('/sim/faults', { outageMs: 2000 });
    const outageFrom = Date.now();
    expect((await get('/v1/receipts')).status).toBe(503);
    let outageAnswers = 1; // every request during the outage is one outage answer
    await waitFor('the outage to end', async () => {
      const status = (await get('/v1/receipts')).status;
      if (status === 503) outageAnswers++;
      return status === 200;
    }, 15_000, 50);
    expect(Date.now() - outageFrom).toBeGreaterThanOrEqual(1900);

    const stats = (await get('/sim/stats')).json;
    expect(stats.faults).toMatchObject({ http500: 1, http503: 1, reset: 1, hang: 1, outage: outageAnswers });
  });

  test('faults: lostAck answers but records nothing; ackResponseLost records but never answers', async () => {
    const ids = await injectReceipts(2);
    await get('/v1/receipts');
    await post('/sim/faults', { rates: { lostAck: 1 } });
    expect((await post('/v1/receipts/ack', { receiptIds: [ids[0]] })).json).toEqual({ acked: 1 });
    expect((await get('/sim/stats')).json.receipts.acked).toBe(0);

    await post('/sim/faults', { rates: { ackResponseLost: 1 } });
    await expect(
      fetch(`${mock.url}/v1/receipts/ack`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ receiptIds: [ids[1]] }) }),
    ).rejects.toThrow();
    await post('/sim/faults', {});
    expect((await get('/sim/stats')).json.receipts.acked).toBe(1);

    await post('/sim/clock/advance', { ms: 60_000 });
    expect((await get('/v1/receipts')).json.receipts.map((r: Json) => r.receiptId)).toEqual([ids[0]]);
  });

  test('/sim/traffic, /sim/truth, /sim/config and /sim/reset', async () => {
    const gen = await post('/sim/traffic', { messages: 200, inbound: 50, malformed: 4, from: isoAt(0), to: isoAt(86_400_000), seed: 3 });
    expect(gen.json).toMatchObject({ messages: 200, inbound: 50, malformed: { receipts: 2, inbound: 2 }, seed: 3 });
    expect((await post('/sim/traffic', { messages: -1 })).status).toBe(400);
    expect((await post('/sim/traffic', { mesages: 1 })).status).toBe(400);

    const truth = (await get('/sim/truth?tz=America/Chicago')).json;
    expect(Object.keys(truth.months).length).toBeGreaterThanOrEqual(1);
    let sent = 0;
    let received = 0;
    for (const m of Object.values(truth.months) as Json[]) {
      sent += m.totals.sentCount;
      received += m.totals.receivedCount;
    }
    expect(sent).toBe(200);
    expect(received).toBe(50);
    expect(truth.quarantinable).toBe(4);
    expect((await get('/sim/truth?tz=Mars/Olympus')).status).toBe(400);

    const cfg = await post('/sim/config', { leaseMs: 1000, receiptDelayMs: 0 });
    expect(cfg.json).toMatchObject({ leaseMs: 1000, receiptDelayMs: 0, monthlyLimitUsd: '50.00' });
    expect((await post('/sim/config', { leaseMS: 1 })).status).toBe(400);

    const runTag = (await get('/sim/stats')).json.runTag;
    const reset = await post('/sim/reset');
    expect(reset.json.runTag).not.toBe(runTag);
    expect((await get('/sim/stats')).json.receipts).toMatchObject({ available: 0, acked: 0, served: 0 });
    expect((await get('/sim/truth')).json).toEqual({ months: {}, quarantinable: 0 });
  });
});

describe('demo mode', () => {
  test('seeds a backlog, then trickles new traffic until closed', async () => {
    const demo = await startHqMock({ port: 0, demo: { backlogMessages: 300, backlogInbound: 100, backlogDays: 75, perMinute: 60_000 } });
    try {
      const stats0 = demo.hq.stats();
      expect(stats0.messages).toBe(300);
      // 75 days reach past the 60-day retention: the oldest part of the backlog is already gone.
      expect(stats0.receipts.expired).toBeGreaterThan(0);
      expect(stats0.receipts.available).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 400));
      expect(demo.hq.stats().messages).toBeGreaterThan(300);
    } finally {
      await demo.close();
    }
    const after = demo.hq.stats().messages;
    await new Promise((r) => setTimeout(r, 250));
    expect(demo.hq.stats().messages).toBe(after);
  });
});
