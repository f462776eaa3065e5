/**
 * Text messages through the office API against a whole stack: replies injected at the
 * HQ mock are recorded by the daemon and read, changed, counted, blocked and answered through
 * /api, with real Redis and SQLite.
 */
import { rowsOf } from '../../src/db/bulk-sql';
import type { ConversationJson as Conversation, ThreadDocument } from '../../src/office/conversation-document';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import { pendingEntries } from '../../src/office/conversation-fold';
import { upsertPatients } from '../../src/office/patients';
import { MonthBucketer } from '../../src/usage/month';
import { startStack, waitFor, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';
import { answerProblems } from '../support/openapi-answers';

const TOKEN = 'messages-test-token';

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

type Json = Record<string, unknown>;
/** The thread as the tests read it: its messages looked at field by field. */
type Thread = Omit<ThreadDocument, 'messages' | 'patients'> & { patients: Json[]; messages: Json[] };

const ANA = '+15035550142'; // patient 1001 at clinic 1
const UNKNOWN = '+15035550999'; // no patient
const FAMILY = '+15035550160'; // patients 1020 and 1021, no shared guarantor: matched to nobody

async function call<T = Json>(base: string, method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<Answer<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = { status: res.status, body: (await res.json()) as T };
  // Every answer is what /openapi.json says it is.
  expect(answerProblems(method, path, answer.status, answer.body)).toEqual([]);
  return answer;
}

/** Every GET and change route of the feature, for the token checks. */
const ROUTES: Array<[string, string, unknown?]> = [
  ['GET', '/api/conversations'],
  ['GET', `/api/conversations/${encodeURIComponent(ANA)}`],
  ['POST', `/api/conversations/${encodeURIComponent(ANA)}/read`],
  ['PUT', '/api/inbound/i-000001', { read: true }],
  ['GET', '/api/inbound/unread'],
  ['GET', '/api/blocked'],
  ['PUT', `/api/blocked/${encodeURIComponent(ANA)}`],
  ['DELETE', `/api/blocked/${encodeURIComponent(ANA)}`],
];

describe('text messages through the office API', () => {
  let stack: TestStack;
  const api = <T = Json>(method: string, path: string, body?: unknown, token: string | null = TOKEN) => call<T>(stack.daemon.statusUrl, method, path, body, token);
  const q = async <T>(sql: string, b: unknown[] = []): Promise<T[]> => rowsOf<T>(await stack.daemon.app.db.knex.raw(sql, b as never));
  const inject = (clinicId: number, fromPhone: string, body: string, at?: number) =>
    stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId, fromPhone, body, ...(at === undefined ? {} : { receivedAt: new Date(at).toISOString() }) });
  const recorded = (inboundId: string) => waitFor(`reply ${inboundId} recorded`, async () =>
    (await q('SELECT 1 AS x FROM inbound_messages WHERE inbound_id = ?', [inboundId])).length > 0, 20_000);
  const unread = async () => (await api<{ total: number; byClinic: Record<string, number> }>('GET', '/api/inbound/unread')).body;
  const enc = encodeURIComponent;

  beforeAll(async () => {
    stack = await startStack({ env: { API_TOKEN: TOKEN } });
    await stack.sim('POST', '/sim/config', { outcomes: { delivered: 1, unconfirmedThenDelivered: 0, tie: 0, failedWithCharge: 0, failedNoCharge: 0 } });
    await waitFor('account sync', async () => (await stack.status<StatusDocument>()).clinics.length >= 4);
    await upsertPatients(stack.daemon.app.db.knex, [
      { patientId: 1001, name: 'Ana Lopez', wirelessPhone: ANA, phoneKey: '15035550142', clinicId: 1, guarantorId: 1001, textOk: 'yes' },
      { patientId: 1020, name: 'Bo Chen', wirelessPhone: FAMILY, phoneKey: '15035550160', clinicId: 1, guarantorId: 1020, textOk: 'yes' },
      { patientId: 1021, name: 'Cy Chen', wirelessPhone: FAMILY, phoneKey: '15035550160', clinicId: 1, guarantorId: 1021, textOk: 'yes' },
    ]);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('needs the token on every route, reads included (401 without it or with a wrong one)', async () => {
    for (const [method, path, body] of ROUTES) {
      for (const token of [null, 'wrong']) {
        const res = await api(method, path, body, token);
        expect({ method, path, token, status: res.status }).toEqual({ method, path, token, status: 401 });
      }
    }
  });

  it('lists conversations newest first with unread counts, shows a thread, and counts unread per clinic and in /status', async () => {
    const base = stack.now() - 3_600_000;
    const a1 = await inject(1, ANA, 'Can we move it to Thursday?', base);
    const a2 = await inject(2, ANA, 'At Riverside please', base + 60_000);
    const u1 = await inject(1, UNKNOWN, 'who is this', base + 120_000);
    const f1 = await inject(1, FAMILY, 'ok', base + 30_000);
    for (const r of [a1, a2, u1, f1]) await recorded(r.inboundId);

    expect(await unread()).toEqual({ total: 4, byClinic: { 1: 3, 2: 1 } });
    const status = await stack.status<StatusDocument>();
    expect(status.totals.unreadCount).toBe(4);
    expect(status.clinics.find((c) => c.clinicId === 1)?.unreadCount).toBe(3);
    expect(status.clinics.find((c) => c.clinicId === 2)?.unreadCount).toBe(1);
    expect(status.clinics.find((c) => c.clinicId === 3)?.unreadCount).toBe(0);

    const list = await api<{ conversations: Conversation[]; next: string | null }>('GET', '/api/conversations');
    expect(list.status).toBe(200);
    expect(list.body.next).toBeNull();
    expect(list.body.conversations.map((c) => [c.phone, c.unread, c.clinicId, c.lastDirection, c.patientId, c.patientName, c.lastBody])).toEqual([
      [UNKNOWN, 1, 1, 'in', null, null, 'who is this'],
      [ANA, 2, 2, 'in', 1001, 'Ana Lopez', 'At Riverside please'],
      [FAMILY, 1, 1, 'in', null, null, 'ok'],
    ]);
    expect(list.body.conversations[1]!.lastAt).toBe(new Date(base + 60_000).toISOString());

    // Filters: a clinic, unread only.
    expect((await api<{ conversations: Conversation[] }>('GET', '/api/conversations?clinicId=2')).body.conversations.map((c) => c.phone)).toEqual([ANA]);
    // Keyset pages of one: every conversation once, in order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Answer<{ conversations: Conversation[]; next: string | null }> = await api('GET', `/api/conversations?limit=1${cursor ? `&before=${cursor}` : ''}`);
      seen.push(...page.body.conversations.map((c) => c.phone));
      cursor = page.body.next;
    } while (cursor !== null && seen.length < 10);
    expect(seen).toEqual([UNKNOWN, ANA, FAMILY]);

    const thread = await api<Thread>('GET', `/api/conversations/${enc(ANA)}`);
    expect(thread.status).toBe(200);
    expect(thread.body.phone).toBe(ANA);
    expect(thread.body.patients).toEqual([{ patientId: 1001, name: 'Ana Lopez', clinicId: 1, textOk: 'yes' }]);
    expect(thread.body.messages).toEqual([
      { direction: 'in', inboundId: a1.inboundId, at: new Date(base).toISOString(), clinicId: 1, body: 'Can we move it to Thursday?', read: false, hidden: false, patientId: 1001, matchCount: 1, segments: 1, keyword: null },
      { direction: 'in', inboundId: a2.inboundId, at: new Date(base + 60_000).toISOString(), clinicId: 2, body: 'At Riverside please', read: false, hidden: false, patientId: 1001, matchCount: 1, segments: 1, keyword: null },
    ]);
    // 10 NANP digits name the same conversation; thread pages of one, oldest first within each.
    const first = await api<Thread>('GET', '/api/conversations/5035550142?limit=1');
    expect(first.body.messages.map((m) => m.inboundId)).toEqual([a2.inboundId]);
    const second = await api<Thread>('GET', `/api/conversations/5035550142?limit=1&before=${first.body.next}`);
    expect(second.body.messages.map((m) => m.inboundId)).toEqual([a1.inboundId]);
    expect(second.body.next).toBeNull();
  });

  it('marks a reply read and unread, hides it, moves it to another patient, and keeps the counts', async () => {
    const thread = (await api<Thread>('GET', `/api/conversations/${enc(FAMILY)}`)).body;
    const id = thread.messages[0]!.inboundId as string;
    const before = await unread();

    const read = await api('PUT', `/api/inbound/${id}`, { read: true });
    expect(read).toMatchObject({ status: 200, body: { inboundId: id, read: true, hidden: false } });
    expect((await unread()).total).toBe(before.total - 1);
    expect((await api('PUT', `/api/inbound/${id}`, { read: true })).status).toBe(200); // again: no change, counts unmoved
    expect((await unread()).total).toBe(before.total - 1);
    await api('PUT', `/api/inbound/${id}`, { read: false });
    expect(await unread()).toEqual(before);

    // Hidden replies do not count, even unread; unhiding counts it again.
    expect((await api('PUT', `/api/inbound/${id}`, { hidden: true })).body).toMatchObject({ read: false, hidden: true });
    expect((await unread()).total).toBe(before.total - 1);
    await api('PUT', `/api/inbound/${id}`, { hidden: false });
    expect(await unread()).toEqual(before);

    const moved = await api('PUT', `/api/inbound/${id}`, { patientId: 1021 });
    expect(moved.body).toMatchObject({ patientId: 1021, matchCount: 2 });
    expect(await q('SELECT patient_set_by_office FROM inbound_messages WHERE inbound_id = ?', [id])).toEqual([{ patient_set_by_office: 1 }]);
    expect(await q("SELECT kind, patient_id FROM commlog WHERE kind = 'reply_moved' AND inbound_id = ?", [id])).toEqual([{ kind: 'reply_moved', patient_id: 1021 }]);
    const list = (await api<{ conversations: Conversation[] }>('GET', '/api/conversations')).body.conversations;
    expect(list.find((c) => c.phone === FAMILY)).toMatchObject({ patientId: 1021, patientName: 'Cy Chen' });
    expect((await api('PUT', `/api/inbound/${id}`, { patientId: null })).body).toMatchObject({ patientId: null });

    // The unread filter, then a whole conversation marked read.
    const unreadList = (await api<{ conversations: Conversation[] }>('GET', '/api/conversations?unread=true')).body.conversations;
    expect(unreadList.every((c) => c.unread > 0)).toBe(true);
    expect(unreadList.map((c) => c.phone)).toContain(ANA);
    expect(await api('POST', `/api/conversations/${enc(ANA)}/read`)).toEqual({ status: 200, body: { phone: ANA, marked: 2 } });
    expect((await unread()).byClinic['2']).toBeUndefined();
    expect((await api<{ conversations: Conversation[] }>('GET', '/api/conversations?unread=true')).body.conversations.map((c) => c.phone)).not.toContain(ANA);
    expect((await api<{ conversations: Conversation[] }>('GET', '/api/conversations?clinicId=2&unread=true')).body.conversations).toEqual([]);
  });

  it('answers a conversation from the clinic of its latest reply, and shows the text with its delivery status', async () => {
    const sent = await api<Json>('POST', '/api/messages', { toPhone: ANA, body: 'Thursday 10am works' });
    expect(sent.status).toBe(202);
    expect(sent.body.clinicId).toBe(2); // Ana's latest reply came to clinic 2, her own clinic is 1
    const guid = sent.body.guid as string;
    const delivered = await waitFor('the receipt of the answer', async () => {
      const t = (await api<Thread>('GET', `/api/conversations/${enc(ANA)}`)).body;
      const m = t.messages.find((x) => x.guid === guid);
      return m && m.status === 'delivered' ? m : undefined;
    }, 30_000);
    expect(delivered).toMatchObject({ direction: 'out', guid, clinicId: 2, body: 'Thursday 10am works', segments: 1, origin: 'office', patientId: null });
    expect(delivered.chargeUsd).toMatch(/^\d+\.\d+$/);
    // Naming a clinic still wins.
    expect((await api<Json>('POST', '/api/messages', { toPhone: ANA, body: 'From Main', clinicId: 1 })).body.clinicId).toBe(1);
  });

  it('blocks a number: its replies are recorded and counted in usage but hidden and never unread; texts to it are refused 409', async () => {
    const before = await unread();
    const receivedBefore = Number((await stack.status<StatusDocument>()).totals.receivedCount);
    expect(await api('PUT', `/api/blocked/${enc(UNKNOWN)}`)).toMatchObject({ status: 200, body: { changed: true, phone: UNKNOWN } });
    expect((await api('PUT', '/api/blocked/5035550999')).body).toMatchObject({ changed: false });
    expect((await unread()).total).toBe(before.total - 1); // its unread reply is marked read
    expect((await api<{ blocked: Json[] }>('GET', '/api/blocked')).body.blocked).toEqual([{ phone: UNKNOWN, blockedAt: expect.any(String) }]);

    const spam = await inject(1, UNKNOWN, 'buy now');
    await recorded(spam.inboundId);
    expect((await unread()).total).toBe(before.total - 1);
    const thread = (await api<Thread>('GET', `/api/conversations/${enc(UNKNOWN)}`)).body;
    expect(thread.messages.find((m) => m.inboundId === spam.inboundId)).toMatchObject({ read: true, hidden: true });
    await waitFor('the blocked reply counted in usage', async () => Number((await stack.status<StatusDocument>()).totals.receivedCount) === receivedBefore + 1, 20_000);
    expect((await api<{ conversations: Conversation[] }>('GET', '/api/conversations')).body.conversations.find((c) => c.phone === UNKNOWN)).toMatchObject({ blocked: true, unread: 0 });

    const refused = await api<Json>('POST', '/api/messages', { toPhone: UNKNOWN, body: 'hello', clinicId: 1 });
    expect(refused).toMatchObject({ status: 409, body: { error: 'blocked', field: 'toPhone' } });
    expect(JSON.stringify(refused.body)).not.toContain('0999');

    expect(await api('DELETE', `/api/blocked/${enc(UNKNOWN)}`)).toEqual({ status: 200, body: { changed: true, phone: UNKNOWN } });
    expect(await api('DELETE', `/api/blocked/${enc(UNKNOWN)}`)).toMatchObject({ status: 404, body: { error: 'not_blocked', field: 'phone' } });
    const after = await inject(1, UNKNOWN, 'sorry, wrong number');
    await recorded(after.inboundId);
    expect((await unread()).total).toBe(before.total);
  });

  it('answers bad input with 400 naming the field and unknown things with 404, never repeating a number or a text', async () => {
    const cases: Array<[string, string, unknown, number, string | null]> = [
      ['GET', '/api/conversations?limit=0', undefined, 400, 'limit'],
      ['GET', '/api/conversations?limit=201', undefined, 400, 'limit'],
      ['GET', '/api/conversations?limit=abc', undefined, 400, 'limit'],
      ['GET', '/api/conversations?clinicId=x', undefined, 400, 'clinicId'],
      ['GET', '/api/conversations?unread=maybe', undefined, 400, 'unread'],
      ['GET', '/api/conversations?before=not-a-cursor', undefined, 400, 'before'],
      ['GET', '/api/conversations?sort=asc', undefined, 400, 'sort'],
      ['GET', '/api/conversations/555-0142', undefined, 400, 'phone'],
      ['GET', `/api/conversations/${enc(ANA)}?before=eA`, undefined, 400, 'before'],
      ['GET', `/api/conversations/${enc('+15035550111')}`, undefined, 404, 'phone'],
      ['POST', `/api/conversations/${enc('+15035550111')}/read`, undefined, 404, 'phone'],
      ['PUT', '/api/inbound/i-999999', { read: true }, 404, 'inboundId'],
      ['PUT', '/api/inbound/i-000001', {}, 400, null],
      ['PUT', '/api/inbound/i-000001', { read: 'yes' }, 400, 'read'],
      ['PUT', '/api/inbound/i-000001', { hidden: 1 }, 400, 'hidden'],
      ['PUT', '/api/inbound/i-000001', { patientId: 1.5 }, 400, 'patientId'],
      ['PUT', '/api/inbound/i-000001', { starred: true }, 400, 'starred'],
      ['PUT', '/api/blocked/12', undefined, 400, 'phone'],
    ];
    for (const [method, path, body, status, field] of cases) {
      const res = await api(method, path, body);
      expect({ path, body, status: res.status, field: res.body.field ?? null }).toEqual({ path, body, status, field });
      expect(JSON.stringify(res.body)).not.toMatch(/0142|0111|555-/);
    }
    const reply = (await q<{ inbound_id: string }>('SELECT inbound_id FROM inbound_messages ORDER BY received_at LIMIT 1'))[0]!.inbound_id;
    expect((await api('PUT', `/api/inbound/${reply}`, { patientId: 99999 })).body).toMatchObject({ error: 'unknown_patient', field: 'patientId' });
  });

  it('lists a backlog\'s conversations exactly while its activity is only appended, and finds and marks a number known only from it', async () => {
    const db = stack.daemon.app.db;
    const months = new MonthBucketer('America/Chicago');
    const at = stack.now() - 600_000;
    // A page of a backlog (150 numbers): its conversations' activity is appended, not folded (src/office/conversation-fold.ts).
    const numbers = Array.from({ length: 150 }, (_, i) => `+1503557${String(i).padStart(4, '0')}`);
    await recordInboundPage(db.knex, numbers.map((fromPhone, i) => ({
      inboundId: `i-backlog-${String(i).padStart(4, '0')}`, clinicId: 1 + (i % 2), fromPhone, toPhone: '+15035550100', body: 'see you', receivedAtMs: at + i * 1000, chargeMicros: 7900, segments: 1,
    })), [], months);
    const before = (await unread()).total;
    // A number the conversations table may not know yet has its thread, and can be marked read.
    const last = numbers[149]!;
    expect((await api<Thread>('GET', `/api/conversations/${enc(last)}`)).body.messages.map((m) => m.inboundId)).toEqual(['i-backlog-0149']);
    expect((await api('POST', `/api/conversations/${enc(last)}/read`)).body).toEqual({ phone: last, marked: 1 });
    expect((await unread()).total).toBe(before - 1);

    const list = (await api<{ conversations: Conversation[] }>('GET', '/api/conversations?limit=200')).body.conversations;
    const mine = list.filter((c) => numbers.includes(c.phone));
    expect(mine.map((c) => [c.phone, c.unread, c.clinicId, c.lastBody])).toEqual(
      [...numbers].reverse().map((phone) => [phone, phone === last ? 0 : 1, 1 + (numbers.indexOf(phone) % 2), 'see you']));
    expect(await pendingEntries(db.knex)).toBe(0);
  });

  it('never writes a phone number or a text into a log line at info or above', () => {
    const lines = stack.logs.filter((l) => ['info', 'warn', 'error'].includes(String(l.level))).map((l) => JSON.stringify(l));
    for (const secret of ['5035550142', '5035550999', '5035550160', 'Thursday', 'Riverside please', 'buy now']) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});

describe('text messages on a connector without API_TOKEN', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses every route, reads included, with 403', async () => {
    for (const [method, path, body] of ROUTES) {
      const res = await call(stack.daemon.statusUrl, method, path, body);
      expect({ method, path, status: res.status, error: res.body.error }).toEqual({ method, path, status: 403, error: 'api_token_not_set' });
    }
  });
});
