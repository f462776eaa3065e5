/**
 * The office side end to end: the API on the status server, the send worker against the HQ mock,
 * receipts bringing the charge, inbound keywords, against real Redis and SQLite.
 */
import { upsertPatients } from '../../src/office/patients';
import { helpReplyGuid } from '../../src/office/uuid';
import { OFFICE_RECEIPT_DELAY_MS, officeClient, startOfficeStack } from '../support/office-client';
import { Deadline, waitFor, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

const TOKEN = 'office-test-token';
const LONG = `${'a'.repeat(152)}€${'a'.repeat(152)}`; // 306 septets, yet 3 parts

describe('office side of texting', () => {
  let stack: TestStack;

  const { api, q, atHq } = officeClient(() => stack, TOKEN);
  const send = (body: unknown, token: string | null = TOKEN) => api('POST', '/api/messages', body, token);
  const message = (guid: string) => api<Record<string, unknown>>('GET', `/api/messages/${guid}`);
  const clinicUsage = async (clinicId: number) => (await stack.status<StatusDocument>()).clinics.find((c) => c.clinicId === clinicId);

  beforeAll(async () => {
    // Every receipt a plain 'delivered' at the full price, so charges are exact.
    stack = await startOfficeStack(TOKEN);
    await upsertPatients(stack.daemon.app.db.knex, [
      { patientId: 1001, name: 'Ana', wirelessPhone: '+15035550142', phoneKey: '15035550142', clinicId: 1, guarantorId: 1001, textOk: 'yes' },
      { patientId: 1004, name: 'Dev', wirelessPhone: '+15035550177', phoneKey: '15035550177', clinicId: 1, guarantorId: 1004, textOk: 'yes' },
      { patientId: 1006, name: 'Frank', wirelessPhone: '+15035550190', phoneKey: '15035550190', clinicId: 2, guarantorId: 1006, textOk: 'no' },
      { patientId: 1011, name: 'Kai', wirelessPhone: '+15035550155', phoneKey: '15035550155', clinicId: null, guarantorId: 1011, textOk: 'yes' },
    ]);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses changes without the right token (401) and reads without one', async () => {
    expect((await send({ clinicId: 1, toPhone: '5035550142', body: 'hi' }, null)).status).toBe(401);
    expect((await send({ clinicId: 1, toPhone: '5035550142', body: 'hi' }, 'wrong-token')).status).toBe(401);
    expect((await api('PUT', '/api/clinics/default', { clinicId: 1 }, null)).status).toBe(401);
    expect((await api('PUT', '/api/practice', { title: 'x' }, 'nope')).status).toBe(401);
    // Before the body is even read: a huge body without a token is still a 401.
    expect((await send({ clinicId: 1, toPhone: '5035550142', body: 'x'.repeat(100_000) }, null)).status).toBe(401);
    expect(await api('GET', '/api/clinics/default', undefined, null)).toEqual({ status: 200, body: { defaultClinicId: null } });
  });

  it('answers bad input with 400 naming the field, an oversized body with 413, and writes nothing', async () => {
    const cases: Array<[unknown, string | null]> = [
      [{ clinicId: 1, body: 'hi' }, 'toPhone'],
      [{ clinicId: 1, toPhone: '555-0142', body: 'hi' }, 'toPhone'],
      [{ clinicId: 1, toPhone: 5035550142, body: 'hi' }, 'toPhone'],
      [{ clinicId: 1, toPhone: '5035550142', body: '' }, 'body'],
      [{ clinicId: 1, toPhone: '5035550142', body: '   ' }, 'body'],
      [{ clinicId: 1, toPhone: '5035550142', body: 'x'.repeat(1601) }, 'body'],
      [{ clinicId: 1, toPhone: '5035550142' }, 'body'],
      [{ clinicId: '1', toPhone: '5035550142', body: 'hi' }, 'clinicId'],
      [{ clinicId: 0, toPhone: '5035550142', body: 'hi' }, 'clinicId'],
      [{ patientId: 1.5, toPhone: '5035550142', body: 'hi' }, 'patientId'],
      [{ clinicId: 1, toPhone: '5035550142', body: 'hi', urgent: true }, 'urgent'],
      [[1, 2], null],
      // No clinicId, no patient clinic, no default texting clinic.
      [{ toPhone: '5035550142', body: 'hi' }, 'clinicId'],
      [{ patientId: 1011, toPhone: '5035550155', body: 'hi' }, 'clinicId'],
    ];
    for (const [body, field] of cases) {
      const res = await send(body);
      expect({ body, status: res.status, error: res.body.error, field: res.body.field ?? null }).toEqual({ body, status: 400, error: 'invalid_request', field });
      expect(typeof res.body.message).toBe('string');
    }
    const bad = await send({ clinicId: 1, toPhone: '555-0142', body: 'hi' });
    expect(JSON.stringify(bad.body)).not.toContain('0142');
    expect((await send('{"clinicId": 1, "toPhone": ')).body).toMatchObject({ error: 'invalid_request' });
    const big = await send({ clinicId: 1, toPhone: '5035550142', body: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect((await api('PUT', '/api/clinics/1/optin', { optinTitle: 'x' })).body).toMatchObject({ error: 'invalid_request', field: 'promptForOptin' });
    expect((await api('GET', '/api/clinics/abc/optin')).body).toMatchObject({ error: 'invalid_request', field: 'id' });
    expect(await q('SELECT COUNT(*) AS n FROM outbound_messages')).toEqual([{ n: 0 }]);
    expect(await q('SELECT COUNT(*) AS n FROM outbox')).toEqual([{ n: 0 }]);
  });

  it('sends: 202 pending at once, counted with no charge; HQ gets it with its parts; the receipt brings the charge', async () => {
    const before = (await clinicUsage(1))!;
    const res = await send({ clinicId: 1, patientId: 1001, toPhone: '(503) 555-0142', body: LONG });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'pending', segments: 3, encoding: 'GSM-7', clinicId: 1, patientId: 1001, toPhone: '+15035550142' });
    const guid = res.body.guid as string;
    expect(guid).toMatch(/^[0-9a-f-]{36}$/);

    // Pending: in Sent for Month at once, with no charge yet.
    await waitFor('pending message counted', async () => {
      const c = await clinicUsage(1);
      return c!.sentCount === before.sentCount + 1 && c!.sentChargesUsd === before.sentChargesUsd;
    }, 15_000);

    // The worker handed it to HQ, which counted 3 parts too.
    await waitFor('HQ to accept it', async () => (await message(guid)).body.acceptedAt !== null && atHq(guid) !== undefined, 15_000);
    expect(atHq(guid)).toEqual({ segments: 3, clinicId: 1 });
    expect((await message(guid)).body).toMatchObject({ guid, status: 'pending', segments: 3, chargeUsd: null, origin: 'office', queued: false });

    // HQ's receipt is due OFFICE_RECEIPT_DELAY_MS of mock time after the POST: only now.
    await stack.sim('POST', '/sim/clock/advance', { ms: OFFICE_RECEIPT_DELAY_MS + 1_000 });
    await waitFor('the receipt', async () => (await message(guid)).body.status === 'delivered', 15_000);
    expect((await message(guid)).body).toMatchObject({ status: 'delivered', chargeUsd: '0.0237', segments: 3 });
    await waitFor('charge counted', async () => {
      const c = await clinicUsage(1);
      return c!.sentCount === before.sentCount + 1 && Number(c!.sentChargesUsd) === Number((Number(before.sentChargesUsd) + 0.0237).toFixed(6));
    }, 15_000);

    // The receipt's upsert left the office's columns alone.
    expect(await q('SELECT origin, to_phone, body, patient_id FROM outbound_messages WHERE guid = ?', [guid])).toEqual([
      { origin: 'office', to_phone: '+15035550142', body: LONG, patient_id: 1001 },
    ]);
    // No phone number or text in the logs.
    const logText = JSON.stringify(stack.logs);
    expect(logText).not.toContain('5550142');
    expect(logText).not.toContain('aaaaaaaaaa€');
  });

  it('default texting clinic: set, read, no-op warning, unknown 404, clear; a patient without a clinic is texted from it', async () => {
    expect((await api('PUT', '/api/clinics/default', { clinicId: 99 })).status).toBe(404);
    expect(await api('PUT', '/api/clinics/default', { clinicId: 2 })).toEqual({ status: 200, body: { changed: true, defaultClinicId: 2 } });
    const again = await api('PUT', '/api/clinics/default', { clinicId: 2 });
    expect(again.body).toMatchObject({ changed: false, defaultClinicId: 2 });
    expect(typeof again.body.warning).toBe('string');
    expect((await api('GET', '/api/clinics/default')).body).toEqual({ defaultClinicId: 2 });
    const status = await stack.status<StatusDocument>();
    expect(status.defaultClinicId).toBe(2);
    expect(status.clinics.filter((c) => c.isDefault).map((c) => c.clinicId)).toEqual([2]);

    const res = await send({ patientId: 1011, toPhone: '503 555 0155', body: 'Your cleaning is due.' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ clinicId: 2, patientId: 1011 });
    // An explicit clinicId beats the default.
    expect((await send({ clinicId: 3, toPhone: '+16045550123', body: 'Hi' })).body).toMatchObject({ clinicId: 3 });

    expect((await send({ patientId: 4242, toPhone: '5035550155', body: 'x' })).body).toMatchObject({ error: 'unknown_patient', field: 'patientId' });
    expect((await send({ patientId: 1006, toPhone: '5035550190', body: 'x' })).body).toMatchObject({ error: 'text_not_ok', field: 'patientId' });
    // Text OK = No holds by number too: leaving patientId out does not get around it.
    expect(await send({ clinicId: 2, toPhone: '5035550190', body: 'x' })).toMatchObject({ status: 409, body: { error: 'text_not_ok' } });
    expect((await send({ clinicId: 99, toPhone: '5035550190', body: 'x' })).status).toBe(404);
    expect((await send({ clinicId: 4, toPhone: '5035550190', body: 'x' })).body).toMatchObject({ error: 'clinic_not_subscribed' });

    expect(await api('PUT', '/api/clinics/default', { clinicId: null })).toEqual({ status: 200, body: { changed: true, defaultClinicId: null } });
    expect((await api('PUT', '/api/clinics/default', { clinicId: null })).body).toMatchObject({ changed: false });
    expect((await stack.status<StatusDocument>()).defaultClinicId).toBeNull();
  });

  it('opt-in settings and the practice title', async () => {
    expect((await api('GET', '/api/clinics/1/optin')).body).toEqual({ clinicId: 1, optinTitle: null, titleInEffect: 'Your Dentist', promptForOptin: true });
    expect((await api('GET', '/api/clinics/99/optin')).status).toBe(404);
    expect((await api('PUT', '/api/clinics/99/optin', { optinTitle: null, promptForOptin: true })).status).toBe(404);

    expect(await api('PUT', '/api/practice', { title: 'Smile Dental Group' })).toEqual({ status: 200, body: { changed: true, title: 'Smile Dental Group' } });
    expect((await api('PUT', '/api/practice', { title: 'Smile Dental Group' })).body).toMatchObject({ changed: false });
    expect((await api('GET', '/api/practice')).body).toEqual({ title: 'Smile Dental Group' });
    expect((await api('GET', '/api/clinics/1/optin')).body).toMatchObject({ optinTitle: null, titleInEffect: 'Smile Dental Group' });

    const saved = await api('PUT', '/api/clinics/1/optin', { optinTitle: '  Main Street Dental ', promptForOptin: false });
    expect(saved).toEqual({ status: 200, body: { changed: true, clinicId: 1, optinTitle: 'Main Street Dental', titleInEffect: 'Main Street Dental', promptForOptin: false } });
    const same = await api('PUT', '/api/clinics/1/optin', { optinTitle: 'Main Street Dental', promptForOptin: false });
    expect(same.body).toMatchObject({ changed: false, optinTitle: 'Main Street Dental' });
    expect(typeof same.body.warning).toBe('string');
    // Blank is no title: the practice's is in effect again.
    expect((await api('PUT', '/api/clinics/1/optin', { optinTitle: ' ', promptForOptin: false })).body).toMatchObject({ changed: true, optinTitle: null, titleInEffect: 'Smile Dental Group' });
    expect((await api('PUT', '/api/practice', { title: null })).body).toEqual({ changed: true, title: null });
    expect((await api('GET', '/api/clinics/1/optin')).body).toMatchObject({ titleInEffect: 'Your Dentist', promptForOptin: false });
    // HQ's account sync leaves the office's settings alone: wait for a sync that ran after this.
    const syncedBefore = (await stack.status<StatusDocument>()).econnector.lastAccountSyncAt;
    stack.daemon.app.queues.kick('sync-account');
    await waitFor('an account sync after the change', async () => {
      const at = (await stack.status<StatusDocument>()).econnector.lastAccountSyncAt;
      return typeof at === 'string' && at !== syncedBefore;
    }, 15_000, 50);
    expect((await api('GET', '/api/clinics/1/optin')).body).toMatchObject({ promptForOptin: false });
  });

  it('STOP opts a number out (sends refused), START opts it back in; HELP gets one automatic reply', async () => {
    const stop = await stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 1, fromPhone: '+15035550177', body: 'Stop' });
    await waitFor('the STOP to be recorded', async () => (await q('SELECT 1 FROM inbound_messages WHERE inbound_id = ?', [stop.inboundId])).length === 1, 15_000);
    expect(await q('SELECT patient_id, match_count, keyword FROM inbound_messages WHERE inbound_id = ?', [stop.inboundId])).toEqual([{ patient_id: 1004, match_count: 1, keyword: 'stop' }]);
    expect(await q('SELECT text_ok FROM patients WHERE patient_id = 1004')).toEqual([{ text_ok: 'no' }]);
    const refused = await send({ clinicId: 1, toPhone: '503-555-0177', body: 'Reminder' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'opted_out', field: 'toPhone' });

    await stack.sim('POST', '/sim/clock/advance', { ms: 1_000 });
    const start = await stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 1, fromPhone: '+15035550177', body: 'START' });
    await waitFor('the START to be recorded', async () => (await q('SELECT 1 FROM inbound_messages WHERE inbound_id = ?', [start.inboundId])).length === 1, 15_000);
    expect(await q('SELECT text_ok FROM patients WHERE patient_id = 1004')).toEqual([{ text_ok: 'yes' }]);
    expect((await send({ clinicId: 1, patientId: 1004, toPhone: '503-555-0177', body: 'Reminder' })).status).toBe(202);

    const help = await stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 2, fromPhone: '+15035550142', body: 'help' });
    const guid = helpReplyGuid(help.inboundId);
    await waitFor('the help reply to reach HQ', async () => atHq(guid) !== undefined, 15_000);
    expect(atHq(guid)).toMatchObject({ clinicId: 2, segments: 1 });
    expect((await message(guid)).body).toMatchObject({ origin: 'office', patientId: 1001, clinicId: 2 });
    expect(await q("SELECT COUNT(*) AS n FROM outbound_messages WHERE guid = ?", [guid])).toEqual([{ n: 1 }]);
  });

  it('HQ refusing a message (403) marks it failed with the reason, and it is not counted', async () => {
    // HQ stops texting clinic 3 without the daemon knowing yet (no account sync in between).
    const clinics = (await stack.sim<{ clinics: Array<Record<string, unknown>> }>('GET', '/sim/config')).clinics;
    await stack.sim('POST', '/sim/config', { clinics: clinics.map((c) => (c.clinicId === 3 ? { ...c, subscribed: false } : c)) });
    try {
      await waitFor('clinic 3 recounted', async () => (await q('SELECT 1 FROM usage_dirty')).length === 0, 15_000);
      const before = (await clinicUsage(3))!.sentCount;
      const res = await send({ clinicId: 3, toPhone: '+16045550124', body: 'Hello from Lakeside' });
      expect(res.status).toBe(202);
      const guid = res.body.guid as string;
      await waitFor('the refusal', async () => (await message(guid)).body.status === 'failed', 15_000);
      expect((await message(guid)).body).toMatchObject({ status: 'failed', failureReason: 'hq_403_clinic_not_subscribed', queued: false, chargeUsd: null });
      await waitFor('it not to count', async () => (await clinicUsage(3))!.sentCount === before && (await q('SELECT 1 FROM usage_dirty')).length === 0, 15_000);
      expect((await clinicUsage(3))!.sentCount).toBe(before);
    } finally {
      await stack.sim('POST', '/sim/config', { clinics });
    }
  });

  it('retries transient HQ failures and honours 429 Retry-After', async () => {
    // One deadline for the three waits, inside jest's limit: their own budgets added up to more
    // than it, so a slow run ended on jest's timeout instead of naming what it waited for.
    const deadline = new Deadline(55_000, 'the retries test');
    await stack.sim('POST', '/sim/faults', { rates: { http429: 1 }, retryAfterSeconds: 1 });
    const res = await send({ clinicId: 1, toPhone: '5035550142', body: 'After the rate limit' });
    expect(res.status).toBe(202);
    const guid = res.body.guid as string;
    await waitFor('a 429', async () => (await stack.sim<{ faults: Record<string, number> }>('GET', '/sim/stats')).faults.http429! > 0, deadline, 50);
    const before503 = (await stack.sim<{ faults: Record<string, number> }>('GET', '/sim/stats')).faults.http503 ?? 0;
    await stack.sim('POST', '/sim/faults', { rates: { http503: 1 } });
    await waitFor('a 503', async () => ((await stack.sim<{ faults: Record<string, number> }>('GET', '/sim/stats')).faults.http503 ?? 0) > before503, deadline, 50);
    await stack.sim('POST', '/sim/faults', {});
    await waitFor('HQ to accept it', async () => atHq(guid) !== undefined, deadline);
    const stats = await stack.sim<{ faults: Record<string, number>; retryAfterViolationsByEndpoint: Record<string, number> }>('GET', '/sim/stats');
    expect(stats.faults.http503).toBeGreaterThan(0);
    expect(stats.retryAfterViolationsByEndpoint['POST /v1/messages'] ?? 0).toBe(0);
    expect((await message(guid)).body).toMatchObject({ queued: false, status: 'pending' });
  }, 60_000);

  it('refuses with 402 once the month\'s charges reach the limit', async () => {
    await stack.sim('POST', '/sim/config', { monthlyLimitUsd: '0.01' });
    stack.daemon.app.queues.kick('sync-account');
    try {
      await waitFor('the new limit', async () => (await stack.status<StatusDocument>()).limitUsd === '0.01', 15_000);
      const res = await send({ clinicId: 1, toPhone: '5035550142', body: 'Over the limit' });
      expect(res.status).toBe(402);
      expect(res.body).toMatchObject({ error: 'monthly_limit_reached' });
    } finally {
      await stack.sim('POST', '/sim/config', { monthlyLimitUsd: '50.00' });
      stack.daemon.app.queues.kick('sync-account');
      await waitFor('the limit back', async () => (await stack.status<StatusDocument>()).limitUsd === '50.00', 15_000);
    }
  });
});
