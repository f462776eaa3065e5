/**
 * The HTTP side under bad input: a wrong Host header (DNS rebinding) answers 421; the
 * bearer scheme is matched case-insensitively; oversized and deeply nested bodies, and NUL
 * characters in a body or a title, answer 400 or 2xx, never 500. The bad settings (a short
 * API_TOKEN, a non-loopback STATUS_HOST without API_TOKEN, a plain-http HQ_URL off loopback) stop
 * the real daemon's start-up with exit 2 and one line.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { DAEMON_MAIN, ROOT } from '../support/daemon-spawn';
import { startStack, type TestStack } from '../support/stack';

const TOKEN = 'bad-input-test-token-7d1e';

interface Answer { status: number; body: string }

/** A raw HTTP request, so that the Host header can be anything. */
function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('the status server under bad input', () => {
  let stack: TestStack;
  let base: string;
  beforeAll(async () => {
    stack = await startStack({ tz: 'America/Chicago', env: { API_TOKEN: TOKEN, OFFICE_TZ: 'America/Chicago' }, config: { status: { allowedHosts: ['office-pc.local'] } } });
    base = stack.daemon.statusUrl;
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const host = (h: string): Record<string, string> => ({ host: h });

  it('answers 421 to a Host it does not serve, and serves loopback, IP addresses and status.allowedHosts', async () => {
    for (const h of ['attacker.example', 'attacker.example:7380', 'localhost.attacker.example', '127.0.0.1.attacker.example']) {
      const res = await send(base, 'GET', '/status', host(h));
      expect([h, res.status]).toEqual([h, 421]);
      expect(res.body).toContain('status.allowedHosts');
    }
    // A rebound page's writes are turned away before the token is even looked at.
    expect((await send(base, 'PUT', '/api/practice', { ...host('attacker.example'), ...auth }, '{"title":"x"}')).status).toBe(421);
    for (const h of ['localhost', 'LOCALHOST:7380', '127.0.0.1:7380', '[::1]:7380', '10.0.0.5', 'Office-PC.local:7380']) {
      expect([h, (await send(base, 'GET', '/healthz', host(h))).status]).toEqual([h, 200]);
    }
  });

  it('matches the bearer scheme case-insensitively, and only the right token', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await send(base, 'PUT', '/api/practice', { authorization: `${scheme} ${TOKEN}` }, '{"title":"Smile Dental"}');
      expect([scheme, res.status]).toEqual([scheme, 200]);
    }
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer`, `Bearer  `, '']) {
      expect([header, (await send(base, 'PUT', '/api/practice', { authorization: header }, '{"title":"x"}')).status]).toEqual([header, 401]);
    }
  });

  it('answers an oversized body 413 and a deeply nested one 400, never 500', async () => {
    const big = JSON.stringify({ toPhone: '+15035550123', body: 'x'.repeat(2_000_000) });
    expect((await send(base, 'POST', '/api/messages', auth, big)).status).toBe(413);
    for (const depth of [1_000, 20_000]) {
      const nested = `{"title":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const res = await send(base, 'PUT', '/api/practice', auth, nested);
      expect([depth, res.status]).toEqual([depth, res.status === 413 ? 413 : 400]);
      const nestedObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const res2 = await send(base, 'POST', '/api/messages', auth, nestedObject);
      expect([depth, res2.status === 400 || res2.status === 413]).toEqual([depth, true]);
    }
  });

  it('takes a NUL character in a body or a title with 400 or 2xx, never 500', async () => {
    const answers: Array<[string, number]> = [];
    const check = async (what: string, method: string, path: string, body?: string): Promise<void> => {
      const res = await send(base, method, path, auth, body);
      answers.push([what, res.status]);
    };
    await check('title', 'PUT', '/api/practice', JSON.stringify({ title: 'Smile\u0000Dental' }));
    await check('opt-in title', 'PUT', '/api/clinics/1/optin', JSON.stringify({ optinTitle: 'Opt\u0000in', promptForOptin: true }));
    await check('message body', 'POST', '/api/messages', JSON.stringify({ toPhone: '+15035550123', clinicId: 1, body: 'see you\u0000then' }));
    await check('phone', 'POST', '/api/messages', JSON.stringify({ toPhone: '+1503555\u00000123', clinicId: 1, body: 'hi' }));
    await check('month', 'GET', '/status?month=2026-1%00');
    await check('guid', 'GET', '/api/messages/abc%00def');
    await check('patient search', 'GET', '/api/patients?q=a%00b');
    for (const [what, status] of answers) expect([what, status < 300 || (status >= 400 && status < 500)]).toEqual([what, true]);
    expect(answers.filter(([, s]) => s >= 500)).toEqual([]);
  });
});

describe('bad settings of the status server and HQ stop start-up: exit 2, one line', () => {
  const run = (env: Record<string, string>): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [DAEMON_MAIN], {
      cwd: ROOT, encoding: 'utf8', timeout: 30_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'test', OFFICE_TZ: 'America/Chicago', DATA_DIR: '/nonexistent/never-created', ...env },
    });
    return { status: r.status, stderr: r.stderr };
  };

  it.each<[string, Record<string, string>, string]>([
    ['a non-loopback STATUS_HOST without API_TOKEN', { STATUS_HOST: '0.0.0.0' }, 'econnector: STATUS_HOST: 0.0.0.0 is not a loopback address, so API_TOKEN must be set (or bind STATUS_HOST to 127.0.0.1)\n'],
    ['an API_TOKEN shorter than 16 characters', { API_TOKEN: 'short-token' }, 'econnector: API_TOKEN: must be at least 16 characters long (e.g. openssl rand -hex 24)\n'],
    ['a plain-http HQ_URL off loopback', { HQ_URL: 'http://hq.example.com', HQ_API_KEY: 'k' }, 'econnector: HQ_URL: must be an https:// URL (http:// only to a loopback address: 127.0.0.1, ::1, localhost)\n'],
  ])('%s', (_what, env, line) => {
    const r = run(env);
    expect(r).toEqual({ status: 2, stderr: line });
  });
});
