/**
 * Consent that acts, patients that can be edited, and the communication log, end to end: the
 * daemon in this process against real Redis, a real SQLite file and the HQ mock (replies injected
 * through /sim/inbound, redelivery through its lostAck fault).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { importPatientsCsv, upsertPatients } from '../../src/office/patients';
import { startConfirmationGuid, stopConfirmationGuid } from '../../src/office/uuid';
import { officeClient, startOfficeStack, type Json } from '../support/office-client';
import { startStack, waitFor, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

const TOKEN = 'consent-test-token';
const ROOT = join(__dirname, '..', '..');

interface PatientJson extends Json {
  patientId: number;
  textOk: string;
  optedOut: boolean;
  optin: null | { status: string; at: string | null; guid: string | null };
}

function client(stack: () => TestStack) {
  const { api, q, atHq } = officeClient(stack, TOKEN);
  const inject = (fromPhone: string, body: string, clinicId = 1) => stack().sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId, fromPhone, body });
  const recorded = (inboundId: string) =>
    waitFor(`reply ${inboundId} to be recorded`, async () => (await q('SELECT 1 FROM inbound_messages WHERE inbound_id = ?', [inboundId])).length === 1, 20_000);
  return { api, q, atHq, inject, recorded };
}

describe('consent, patients and the commlog', () => {
  let stack: TestStack;
  const { api, q, atHq, inject, recorded } = client(() => stack);
  const patient = async (id: number) => (await api<PatientJson>('GET', `/api/patients/${id}`)).body;

  beforeAll(async () => {
    stack = await startOfficeStack(TOKEN, { mock: { leaseMs: 1000 } });
    // Clinic 1 prompts for opt-in (the default), clinic 2 does not.
    expect((await api('PUT', '/api/clinics/2/optin', { optinTitle: null, promptForOptin: false })).status).toBe(200);
    const p = (patientId: number, name: string, phone: string | null, clinicId: number | null, textOk: 'yes' | 'no' | 'unknown') => ({
      patientId, name, wirelessPhone: phone, phoneKey: phone === null ? null : phone.slice(1), clinicId, guarantorId: patientId, textOk,
    });
    await upsertPatients(stack.daemon.app.db.knex, [
      p(2001, 'Ana Alvarez', '+15035550201', 1, 'unknown'),
      p(2002, 'Anabel Brook', '+15035550202', 1, 'yes'),
      p(2003, 'Ben Carter', '+15035550203', 2, 'yes'),
      p(2004, 'Dee Evans', '+15035550204', 1, 'yes'),
      p(2005, 'Émile Durand', null, 1, 'yes'),
    ]);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('an import suggests asking the new Text OK Yes patients with a wireless number, where their clinic prompts for it', async () => {
    const optins = await q<{ patient_id: number; optin_status: string | null }>('SELECT patient_id, optin_status FROM patients ORDER BY patient_id');
    expect(optins).toEqual([
      { patient_id: 2001, optin_status: null }, // Text OK unknown
      { patient_id: 2002, optin_status: 'suggested' },
      { patient_id: 2003, optin_status: null }, // clinic 2 does not prompt
      { patient_id: 2004, optin_status: 'suggested' },
      { patient_id: 2005, optin_status: null }, // no wireless number
    ]);
  });

  it('needs the token on every patients and commlog route, reads included', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/patients'], ['GET', '/api/patients?phone=5035550201'], ['GET', '/api/patients/2001'],
      ['PUT', '/api/patients/2001', { name: 'x' }], ['POST', '/api/patients/2001/optin-request'], ['GET', '/api/commlog'],
    ] as Array<[string, string, unknown?]>) {
      const res = await api(method, path, body, null);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
      expect(JSON.stringify(res.body)).not.toContain('Ana');
    }
    expect((await api('GET', '/api/patients/2001', undefined, 'wrong')).status).toBe(401);
  });

  it('finds patients by phone in any form the send path takes, or by name prefix, in keyset pages', async () => {
    for (const phone of ['(503) 555-0201', '503.555.0201', '15035550201', '+1 503 555 0201']) {
      const res = await api<{ patients: PatientJson[]; next: number | null }>('GET', `/api/patients?phone=${encodeURIComponent(phone)}`);
      expect({ phone, ids: res.body.patients.map((x) => x.patientId), next: res.body.next }).toEqual({ phone, ids: [2001], next: null });
    }
    const one = (await api<{ patients: PatientJson[] }>('GET', '/api/patients?phone=5035550201')).body.patients[0]!;
    expect(one).toEqual({
      patientId: 2001, name: 'Ana Alvarez', wirelessPhone: '+15035550201', clinicId: 1, guarantorId: 2001, textOk: 'unknown',
      optedOut: false, optin: null, updatedAt: expect.any(String),
    });
    // A name prefix, any case; greatest patientId first, `limit` a page, `next` the cursor.
    const page1 = await api<{ patients: PatientJson[]; next: number | null }>('GET', '/api/patients?q=aN&limit=1');
    expect(page1.body.patients.map((x) => x.patientId)).toEqual([2002]);
    expect(page1.body.next).toBe(2002);
    const page2 = await api<{ patients: PatientJson[]; next: number | null }>('GET', `/api/patients?q=an&limit=1&before=${page1.body.next}`);
    expect(page2.body).toMatchObject({ patients: [{ patientId: 2001 }], next: null });
    expect((await api<{ patients: PatientJson[] }>('GET', '/api/patients?q=%C3%A9mile')).body.patients.map((x) => x.patientId)).toEqual([2005]);
    // A LIKE wildcard is a letter like any other.
    expect((await api<{ patients: PatientJson[] }>('GET', '/api/patients?q=%25')).body.patients).toEqual([]);
    const all = await api<{ patients: PatientJson[]; next: number | null }>('GET', '/api/patients?limit=200');
    expect(all.body.patients.map((x) => x.patientId)).toEqual([2005, 2004, 2003, 2002, 2001]);
    expect((await api('GET', '/api/patients?phone=5035550299')).body).toEqual({ patients: [], next: null });
  });

  it('answers every bad input with 400 naming the field (and 404 for an unknown patient), writing nothing', async () => {
    const before = await q('SELECT COUNT(*) AS n FROM commlog');
    const gets: Array<[string, string | null]> = [
      ['/api/patients?phone=555-0201', 'phone'],
      ['/api/patients?q=', 'q'],
      ['/api/patients?q=%20%20', 'q'],
      ['/api/patients?limit=0', 'limit'],
      ['/api/patients?limit=201', 'limit'],
      ['/api/patients?limit=ten', 'limit'],
      ['/api/patients?before=-1', 'before'],
      ['/api/patients?phone=5035550201&phone=5035550202', 'phone'],
      ['/api/patients?name=Ana', 'name'],
      ['/api/patients/abc', 'id'],
      ['/api/patients/0', 'id'],
      ['/api/commlog?after=-1', 'after'],
      ['/api/commlog?after=x', 'after'],
      ['/api/commlog?limit=0', 'limit'],
      ['/api/commlog?limit=1001', 'limit'],
      ['/api/commlog?since=1', 'since'],
    ];
    for (const [path, field] of gets) {
      const res = await api('GET', path);
      expect({ path, status: res.status, error: res.body.error, field: res.body.field ?? null }).toEqual({ path, status: 400, error: 'invalid_request', field });
    }
    const puts: Array<[unknown, string | null]> = [
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ name: 42 }, 'name'],
      [{ wirelessPhone: '555-0201' }, 'wirelessPhone'],
      [{ wirelessPhone: 5035550201 }, 'wirelessPhone'],
      [{ clinicId: -1 }, 'clinicId'],
      [{ clinicId: '1' }, 'clinicId'],
      [{ clinicId: 99 }, 'clinicId'],
      [{ guarantorId: 1.5 }, 'guarantorId'],
      [{ guarantorId: 999999 }, 'guarantorId'],
      [{ textOk: 'maybe' }, 'textOk'],
      [{ textOk: true }, 'textOk'],
      [{ patientId: 3 }, 'patientId'],
      [[1, 2], null],
    ];
    for (const [body, field] of puts) {
      const res = await api('PUT', '/api/patients/2004', body);
      expect({ body, status: res.status, error: res.body.error, field: res.body.field ?? null }).toEqual({ body, status: 400, error: 'invalid_request', field });
      expect(typeof res.body.message).toBe('string');
    }
    expect(JSON.stringify((await api('PUT', '/api/patients/2004', { wirelessPhone: '555-0201' })).body)).not.toContain('0201');
    expect(await api('POST', '/api/patients/2004/optin-request', { please: true })).toMatchObject({ status: 400, body: { error: 'invalid_request', field: 'please' } });
    for (const [method, path] of [['GET', '/api/patients/9999'], ['PUT', '/api/patients/9999'], ['POST', '/api/patients/9999/optin-request']] as const) {
      const res = await api(method, path, method === 'PUT' ? { name: 'Nobody' } : undefined);
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 404, error: 'unknown_patient' });
    }
    expect(await patient(2004)).toMatchObject({ name: 'Dee Evans', wirelessPhone: '+15035550204', clinicId: 1, textOk: 'yes' });
    expect(await q('SELECT COUNT(*) AS n FROM commlog')).toEqual(before);
  });

  it('PUT changes a patient; a PUT that changes nothing says so; a Text OK change goes to the commlog once', async () => {
    const renamed = await api<PatientJson & { changed: boolean; rematched: number }>('PUT', '/api/patients/2004', { name: '  Dee Evans-Ford ' });
    expect(renamed.status).toBe(200);
    // A new name is no reason to ask again: the import's suggestion stands.
    expect(renamed.body).toMatchObject({ changed: true, rematched: 0, patientId: 2004, name: 'Dee Evans-Ford', optin: { status: 'suggested' } });
    const again = await api('PUT', '/api/patients/2004', { name: 'Dee Evans-Ford', textOk: 'yes', clinicId: 1 });
    expect(again.body).toMatchObject({ changed: false, warning: expect.stringContaining('nothing was saved'), name: 'Dee Evans-Ford' });
    expect((await api('PUT', '/api/patients/2004', {})).body).toMatchObject({ changed: false });

    const no = await api<PatientJson>('PUT', '/api/patients/2004', { textOk: 'no' });
    expect(no.body).toMatchObject({ changed: true, textOk: 'no' });
    const refused = await api('POST', '/api/messages', { patientId: 2004, toPhone: '5035550204', body: 'Reminder' });
    expect(refused).toMatchObject({ status: 409, body: { error: 'text_not_ok', field: 'patientId' } });
    const rows = await q<{ kind: string; patient_id: number; summary: string }>("SELECT kind, patient_id, summary FROM commlog WHERE kind = 'text_ok_changed' AND patient_id = 2004");
    expect(rows).toEqual([{ kind: 'text_ok_changed', patient_id: 2004, summary: 'Text OK changed from yes to no by the office' }]);
    // Back to Yes, by the office (clinic 1 prompts for opt-in: the answer suggests asking).
    expect((await api<PatientJson>('PUT', '/api/patients/2004', { textOk: 'yes' })).body).toMatchObject({ textOk: 'yes', optin: { status: 'suggested', guid: null } });
  });

  it('the opt-in round trip: suggested, the text sent once a day from the clinic, YES confirms (Text OK Yes) with one confirmation', async () => {
    expect((await api('PUT', '/api/clinics/1/optin', { optinTitle: 'Main Street Dental', promptForOptin: true })).status).toBe(200);
    // Text OK changed to Yes at a clinic that prompts: the answer suggests asking.
    const put = await api<PatientJson>('PUT', '/api/patients/2001', { textOk: 'yes' });
    expect(put.body.optin).toEqual({ status: 'suggested', at: expect.any(String), guid: null });

    const req = await api<{ patient: PatientJson; message: Json }>('POST', '/api/patients/2001/optin-request');
    expect(req.status).toBe(202);
    const guid = req.body.message.guid as string;
    expect(req.body.message).toMatchObject({ clinicId: 1, patientId: 2001, toPhone: '+15035550201', status: 'pending' });
    expect(req.body.patient.optin).toEqual({ status: 'sent', at: expect.any(String), guid });
    expect(await q('SELECT body, purpose FROM outbound_messages WHERE guid = ?', [guid])).toEqual([{
      body: 'Main Street Dental: reply YES to receive texts from us, STOP to opt out. Msg & data rates may apply.', purpose: 'optin_request',
    }]);
    await waitFor('the opt-in text to reach HQ', async () => atHq(guid), 15_000);
    // At most one a day.
    const second = await api('POST', '/api/patients/2001/optin-request');
    expect(second).toMatchObject({ status: 409, body: { error: 'optin_recently_requested' } });

    const yes = await inject('+15035550201', 'Yes');
    await recorded(yes.inboundId);
    expect(await patient(2001)).toMatchObject({ textOk: 'yes', optedOut: false, optin: { status: 'confirmed', guid } });
    const confirmation = startConfirmationGuid(yes.inboundId);
    expect(await q('SELECT body, purpose, to_phone, clinic_id FROM outbound_messages WHERE guid = ?', [confirmation])).toEqual([{
      body: 'Main Street Dental: you are resubscribed. Reply STOP to opt out.', purpose: 'start_confirmation', to_phone: '+15035550201', clinic_id: 1,
    }]);
    await waitFor('the confirmation to reach HQ', async () => atHq(confirmation), 15_000);
    // The patient's record, in order.
    const log = await q<{ kind: string; guid: string | null; inbound_id: string | null }>(
      'SELECT kind, guid, inbound_id FROM commlog WHERE patient_id = 2001 ORDER BY id');
    expect(log).toEqual([
      { kind: 'text_ok_changed', guid: null, inbound_id: null },
      { kind: 'text_sent', guid, inbound_id: null },
      { kind: 'reply_received', guid: null, inbound_id: yes.inboundId },
      { kind: 'opt_in', guid: null, inbound_id: yes.inboundId },
      { kind: 'text_sent', guid: confirmation, inbound_id: null },
    ]);
    // A YES from a number never asked, and not opted out, is an answer, not a keyword to confirm.
    const plain = await inject('+15035550203', 'YES', 2);
    await recorded(plain.inboundId);
    expect(await q('SELECT COUNT(*) AS n FROM outbound_messages WHERE guid = ?', [startConfirmationGuid(plain.inboundId)])).toEqual([{ n: 0 }]);
  });

  it('STOP declines a pending request (Text OK No) and gets one confirmation, the only text that may go to the number then', async () => {
    // A new number for a Text OK Yes patient: suggested, then asked.
    expect((await api<PatientJson>('PUT', '/api/patients/2002', { wirelessPhone: '(503) 555-0212' })).body.optin?.status).toBe('suggested');
    const req = await api<{ message: Json }>('POST', '/api/patients/2002/optin-request');
    expect(req.status).toBe(202);
    const stop = await inject('+15035550212', 'stop');
    await recorded(stop.inboundId);
    expect(await patient(2002)).toMatchObject({ textOk: 'no', optedOut: true, optin: { status: 'declined' } });
    const confirmation = stopConfirmationGuid(stop.inboundId);
    expect(await q('SELECT body, purpose FROM outbound_messages WHERE guid = ?', [confirmation])).toEqual([{
      body: 'Main Street Dental: you are unsubscribed and will get no more texts. Reply START to resubscribe.', purpose: 'stop_confirmation',
    }]);
    await waitFor('the STOP confirmation to reach HQ', async () => atHq(confirmation), 15_000);
    // Nothing else goes to it: office texts, the opt-in text, a HELP answer.
    expect((await api('POST', '/api/messages', { clinicId: 1, toPhone: '5035550212', body: 'Hi' })).body).toMatchObject({ error: 'opted_out' });
    await stack.daemon.app.db.knex.raw('UPDATE patients SET optin_requested_at = 0 WHERE patient_id = 2002');
    expect((await api('POST', '/api/patients/2002/optin-request')).body).toMatchObject({ error: 'opted_out' });
    const help = await inject('+15035550212', 'HELP');
    await recorded(help.inboundId);
    expect(await q("SELECT purpose FROM outbound_messages WHERE to_phone = '+15035550212' ORDER BY sent_at")).toEqual([{ purpose: 'optin_request' }, { purpose: 'stop_confirmation' }]);
    // The office setting Text OK back to Yes cannot opt the number in: the answer warns.
    expect((await api('PUT', '/api/patients/2002', { textOk: 'yes' })).body).toMatchObject({ changed: true, warning: expect.stringContaining('opted out') });
  });

  it('with Prompt for OptIn unchecked nothing is suggested and the change stands as given', async () => {
    const moved = await api<PatientJson>('PUT', '/api/patients/2003', { wirelessPhone: '5035550213' });
    expect(moved.body).toMatchObject({ changed: true, wirelessPhone: '+15035550213', textOk: 'yes', optin: null });
    expect((await api('POST', '/api/messages', { patientId: 2003, toPhone: '5035550213', body: 'Hi Ben' })).status).toBe(202);
  });

  it('STOP and START: each confirmed once, and each fact in the commlog once, however often HQ redelivers the replies', async () => {
    const stats = () => stack.sim<{ inbound: { served: number; acked: number } }>('GET', '/sim/stats');
    await stack.sim('POST', '/sim/faults', { rates: { lostAck: 1 } });
    const stop = await inject('+15035550204', 'STOP');
    await recorded(stop.inboundId);
    const start = await inject('+15035550204', 'Start');
    await recorded(start.inboundId);
    // Acks are lost: the lease runs out and HQ hands both replies out again, several times.
    const served = (await stats()).inbound.served;
    await waitFor('HQ to redeliver the replies twice more', async () => (await stats()).inbound.served >= served + 4, 30_000);
    await stack.sim('POST', '/sim/faults', { rates: { lostAck: 0 } });
    await waitFor('HQ to have every reply acknowledged', async () => {
      const s = await stack.sim<{ inbound: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.inbound.available === 0 && s.inbound.leased === 0;
    }, 30_000);

    const texts = await q<{ guid: string; purpose: string }>("SELECT guid, purpose FROM outbound_messages WHERE to_phone = '+15035550204' AND purpose IS NOT NULL ORDER BY purpose");
    expect(texts).toEqual([
      { guid: startConfirmationGuid(start.inboundId), purpose: 'start_confirmation' },
      { guid: stopConfirmationGuid(stop.inboundId), purpose: 'stop_confirmation' },
    ]);
    for (const t of texts) await waitFor(`${t.purpose} to reach HQ`, async () => atHq(t.guid), 15_000);
    const facts = await q<{ kind: string; n: number }>(
      'SELECT kind, COUNT(*) AS n FROM commlog WHERE inbound_id IN (?, ?) OR guid IN (?, ?) GROUP BY kind ORDER BY kind',
      [stop.inboundId, start.inboundId, texts[0]!.guid, texts[1]!.guid]);
    // Two replies; the opt-out and the opt-in; Text OK to No and back to Yes; two confirmations.
    expect(facts).toEqual([
      { kind: 'opt_in', n: 1 }, { kind: 'opt_out', n: 1 }, { kind: 'reply_received', n: 2 }, { kind: 'text_ok_changed', n: 2 }, { kind: 'text_sent', n: 2 },
    ]);
    expect(await patient(2004)).toMatchObject({ textOk: 'yes', optedOut: false });
    expect(await q('SELECT COUNT(*) AS n FROM inbound_messages WHERE inbound_id IN (?, ?)', [stop.inboundId, start.inboundId])).toEqual([{ n: 2 }]);
  }, 90_000);

  it('replies that came before their patient are matched again by an import, and by a PUT, with a commlog row', async () => {
    const early = await inject('+15035550299', 'Running late, sorry');
    await recorded(early.inboundId);
    expect(await q('SELECT patient_id, match_count FROM inbound_messages WHERE inbound_id = ?', [early.inboundId])).toEqual([{ patient_id: null, match_count: 0 }]);

    const result = await importPatientsCsv(stack.daemon.app.db.knex, 'patientId,name,wirelessPhone,clinicId,textOk\n2099,Gil Hart,503-555-0299,1,unknown\n');
    expect(result.imported).toMatchObject({ inserted: 1, updated: 0, rematched: 1 });
    expect(await q('SELECT patient_id, match_count FROM inbound_messages WHERE inbound_id = ?', [early.inboundId])).toEqual([{ patient_id: 2099, match_count: 1 }]);
    expect(await q("SELECT patient_id, summary FROM commlog WHERE kind = 'reply_moved' AND inbound_id = ?", [early.inboundId])).toEqual([
      { patient_id: 2099, summary: 'Reply matched again after a patient change: from no patient to patient 2099' },
    ]);
    // The same file again changes nothing, and matches nothing again.
    expect((await importPatientsCsv(stack.daemon.app.db.knex, 'patientId,name,wirelessPhone,clinicId,textOk\n2099,Gil Hart,503-555-0299,1,unknown\n')).imported)
      .toMatchObject({ inserted: 0, updated: 1, rematched: 0, textOkChanged: 0 });

    // The number moves to another patient by a PUT: its replies follow.
    const moved = await api<{ rematched: number }>('PUT', '/api/patients/2099', { wirelessPhone: null });
    expect(moved.body.rematched).toBe(1);
    const put = await api<{ rematched: number }>('PUT', '/api/patients/2005', { wirelessPhone: '+15035550299' });
    expect(put.body.rematched).toBe(1);
    expect(await q('SELECT patient_id FROM inbound_messages WHERE inbound_id = ?', [early.inboundId])).toEqual([{ patient_id: 2005 }]);
    expect(await q("SELECT COUNT(*) AS n FROM commlog WHERE kind = 'reply_moved' AND inbound_id = ?", [early.inboundId])).toEqual([{ n: 3 }]);
  });

  it('GET /api/commlog pages through the log by id; export-commlog writes the same rows as CSV or JSON lines', async () => {
    const all: Json[] = [];
    let after = 0;
    for (;;) {
      const page = await api<{ rows: Json[]; next: number | null }>('GET', `/api/commlog?after=${after}&limit=7`);
      expect(page.status).toBe(200);
      all.push(...page.body.rows);
      if (page.body.next === null) break;
      expect(page.body.rows).toHaveLength(7);
      after = page.body.next;
    }
    const ids = all.map((r) => r.id as number);
    expect(ids.length).toBeGreaterThan(20);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(await q('SELECT COUNT(*) AS n FROM commlog')).toEqual([{ n: ids.length }]);
    const reply = all.find((r) => r.kind === 'reply_received')!;
    expect(Object.keys(reply).sort()).toEqual(['at', 'body', 'clinicId', 'guid', 'id', 'inboundId', 'kind', 'patientId', 'phone', 'summary']);
    expect((await api('GET', `/api/commlog?after=${ids[ids.length - 1]}`)).body).toEqual({ rows: [], next: null });

    const env = { ...process.env, NODE_ENV: 'test', DATA_DIR: stack.dir, OFFICE_TZ: 'America/Chicago' };
    const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'econnector.js'), 'export-commlog', ...args], { env, encoding: 'utf8' });
    const jsonl = run('--after', '0', '--format', 'jsonl');
    expect(jsonl.status).toBe(0);
    expect(jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Json)).toEqual(all);
    expect(jsonl.stderr).toContain(`${ids.length} row(s) after id 0; last id ${ids[ids.length - 1]}`);
    const csv = run('--after', String(ids[2]));
    expect(csv.status).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('id,at,kind,patientId,clinicId,phone,guid,inboundId,summary,body');
    expect(lines[1]!.startsWith(`${ids[3]},`)).toBe(true);
    // RFC 4180: quotes only where a value needs them.
    expect(csv.stdout).toContain(',Reply matched again after a patient change: from no patient to patient 2099,\n');
    expect(csv.stdout).toContain(',"Running late, sorry"\n');
    expect(run('--after', String(ids[ids.length - 1])).stdout).toBe('id,at,kind,patientId,clinicId,phone,guid,inboundId,summary,body\n');
    for (const args of [[], ['--after', 'x'], ['--after', '0', '--format', 'xml'], ['--since', '0']]) {
      const bad = run(...args);
      expect({ args, status: bad.status, out: bad.stdout }).toEqual({ args, status: 2, out: '' });
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('texting.unknownTextOk = refuse', () => {
  let stack: TestStack;
  const { api } = client(() => stack);

  beforeAll(async () => {
    stack = await startStack({ env: { API_TOKEN: TOKEN }, config: { texting: { unknownTextOk: 'refuse' } } });
    await waitFor('account sync', async () => (await stack.status<StatusDocument>()).clinics.length >= 4);
    await upsertPatients(stack.daemon.app.db.knex, [
      { patientId: 1, name: 'Unknown', wirelessPhone: '+15035550301', phoneKey: '15035550301', clinicId: 1, guarantorId: 1, textOk: 'unknown' },
      { patientId: 2, name: 'Known', wirelessPhone: '+15035550302', phoneKey: '15035550302', clinicId: 1, guarantorId: 2, textOk: 'yes' },
    ]);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses texts and the opt-in text to a patient whose Text OK is unknown (409 text_ok_unknown), allows them once it is Yes', async () => {
    const refused = await api('POST', '/api/messages', { patientId: 1, toPhone: '5035550301', body: 'Hi' });
    expect(refused).toMatchObject({ status: 409, body: { error: 'text_ok_unknown', field: 'patientId' } });
    expect((await api('POST', '/api/patients/1/optin-request')).body).toMatchObject({ error: 'text_ok_unknown' });
    expect((await api('POST', '/api/messages', { patientId: 2, toPhone: '5035550302', body: 'Hi' })).status).toBe(202);
    expect((await api('PUT', '/api/patients/1', { textOk: 'yes' })).status).toBe(200);
    expect((await api('POST', '/api/messages', { patientId: 1, toPhone: '5035550301', body: 'Hi' })).status).toBe(202);
    expect(rowsOf(await stack.daemon.app.db.knex.raw("SELECT COUNT(*) AS n FROM commlog WHERE kind = 'text_sent'"))).toEqual([{ n: 2 }]);
  });
});
