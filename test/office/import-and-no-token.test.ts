/**
 * The patients import (npm run import:patients, run as the compiled script, as npm runs it) into a
 * running daemon's database, replies matched to the imported patients, and a daemon without an
 * API_TOKEN refusing every change.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { startStack, waitFor, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

const ROOT = join(__dirname, '../..');
const SCRIPT = join(ROOT, 'dist/src/cli/import-patients.js');

describe('patients import and a daemon without API_TOKEN', () => {
  let stack: TestStack;

  const importCsv = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [SCRIPT, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, NODE_ENV: 'test', DATA_DIR: stack.dir, INIT_CWD: stack.dir, OFFICE_TZ: 'America/Chicago' },
      }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  const q = async <T>(sql: string, b: unknown[] = []): Promise<T[]> => rowsOf<T>(await stack.daemon.app.db.knex.raw(sql, b as never));

  beforeAll(async () => {
    stack = await startStack();
    await waitFor('account sync', async () => (await stack.status<StatusDocument>()).clinics.length >= 4);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses every change with 403 when API_TOKEN is unset, and still answers reads', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/messages', { clinicId: 1, toPhone: '5035550142', body: 'hi' }],
      ['PUT', '/api/clinics/default', { clinicId: 1 }],
      ['PUT', '/api/clinics/1/optin', { optinTitle: null, promptForOptin: true }],
      ['PUT', '/api/practice', { title: 'x' }],
    ] as const) {
      const res = await fetch(`${stack.daemon.statusUrl}${path}`, {
        method, headers: { 'content-type': 'application/json', authorization: 'Bearer anything' }, body: JSON.stringify(body),
      });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(await res.json()).toMatchObject({ error: 'api_token_not_set', message: expect.stringContaining('API_TOKEN') });
    }
    expect((await fetch(`${stack.daemon.statusUrl}/api/clinics/1/optin`)).status).toBe(200);
    expect(await q('SELECT COUNT(*) AS n FROM outbound_messages')).toEqual([{ n: 0 }]);
  });

  it('imports nothing from a file with bad rows and lists each; --skip-bad-rows imports the good ones', async () => {
    const file = join(stack.dir, 'bad.csv');
    writeFileSync(file, [
      'patientId,name,wirelessPhone,clinicId,guarantorId,textOk',
      '1,Ana,(503) 555-0101,1,,yes',
      '2,Ben,555-0102,1,,yes',
      '3,Cy,5035550103,8,,yes',
      '4,Di,5035550104,1,,perhaps',
      '5,Ed,5035550105,1,1,no',
    ].join('\n'));
    const strict = await importCsv(['bad.csv']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('line 3: wirelessPhone: not a phone number');
    expect(strict.stderr).toContain('line 4: clinicId: clinic 8 is not a clinic of this office');
    expect(strict.stderr).toContain('line 5: textOk: must be yes, no or unknown');
    expect(strict.stderr).toContain('nothing imported');
    expect(strict.stderr + strict.stdout).not.toContain('555-0102');
    expect(await q('SELECT COUNT(*) AS n FROM patients')).toEqual([{ n: 0 }]);

    const lenient = await importCsv([file, '--skip-bad-rows']);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('imported 2 new');
    expect(await q('SELECT patient_id, guarantor_id, text_ok FROM patients ORDER BY patient_id')).toEqual([
      { patient_id: 1, guarantor_id: 1, text_ok: 'yes' },
      { patient_id: 5, guarantor_id: 1, text_ok: 'no' },
    ]);
    expect((await importCsv(['missing.csv'])).code).toBe(2);
    expect((await importCsv([file, '--frobnicate'])).code).toBe(2);
  });

  it('imports the demo patients (again: updates, nothing new), and replies are matched to them', async () => {
    const demo = join(ROOT, 'scripts/demo-patients.csv');
    const first = await importCsv([demo]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('imported 15 new and updated 0');
    expect((await importCsv([demo])).stdout).toContain('imported 0 new and updated 15');

    // The Alvarez family shares (503) 555-0142 at clinic 1, guarantor 1001; Nora Smith is two
    // patients (one per clinic) on one number; nobody has +15035550999.
    const ids = await Promise.all([
      stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 1, fromPhone: '+15035550142', body: 'Yes, see you then' }),
      stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 2, fromPhone: '+15035550163', body: 'Confirmed' }),
      stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 3, fromPhone: '+15035550163', body: 'Confirmed' }),
      stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId: 1, fromPhone: '+15035550999', body: 'Who is this?' }),
    ]);
    await waitFor('the replies', async () => (await q('SELECT 1 FROM inbound_messages')).length === 4, 15_000);
    const got = await Promise.all(ids.map(async ({ inboundId }) =>
      (await q<{ patient_id: number | null; match_count: number }>('SELECT patient_id, match_count FROM inbound_messages WHERE inbound_id = ?', [inboundId]))[0]));
    expect(got).toEqual([
      { patient_id: 1001, match_count: 3 },
      { patient_id: 1015, match_count: 1 },
      { patient_id: null, match_count: 2 },
      { patient_id: null, match_count: 0 },
    ]);
  });
});
