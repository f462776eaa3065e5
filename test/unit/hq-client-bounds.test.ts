/**
 * The HQ client is bounded: whatever HQ (or something pretending to be HQ) answers,
 * the client reads at most a capped body, refuses a page larger than it asked for, waits at most
 * an hour for a Retry-After (and understands the HTTP-date form), follows no redirect, cuts a body
 * that trickles in at its timeout, and measures its waits on a monotonic clock.
 * A real HTTP server on loopback plays HQ.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HqClient, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/hq/client';
import { HqBackoffError, HqRateLimitedError, HqUnavailableError } from '../../src/hq/errors';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, server, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const client = (url: string, over: Partial<ConstructorParameters<typeof HqClient>[0]> = {}): HqClient =>
  new HqClient({ baseUrl: url, apiKey: 'k'.repeat(20), timeoutMs: 2000, backoff: { baseMs: 100, maxMs: 1000 }, random: () => 0, ...over });

const receipt = (n: number): Record<string, unknown> => ({ receiptId: `r-${n}`, note: 'x' });

describe('HQ client bounds', () => {
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of servers.splice(0)) await close();
    jest.restoreAllMocks();
  });
  const start = async (handler: Handler): Promise<string> => {
    const s = await serve(handler);
    servers.push(s.close);
    return s.url;
  };

  it('refuses a body larger than the cap, declared or chunked, as a transient bad body', async () => {
    const big = JSON.stringify({ receipts: [{ receiptId: 'r-1', pad: 'p'.repeat(200_000) }], more: false });
    const declared = await start((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big));
    const chunked = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 16_384) res.write(big.slice(i, i + 16_384));
      res.end();
    });
    for (const url of [declared, chunked]) {
      const hq = client(url, { maxBodyBytes: 100_000 });
      await expect(hq.getPage('receipts', 10)).rejects.toThrow(/GET \/v1\/receipts: a body of .*more than 100000.* next try in/);
      expect(hq.waitMs('GET', '/v1/receipts')).toBeGreaterThan(0);
    }
    // Under the cap, the same body is a good page.
    await expect(client(declared, { maxBodyBytes: 1_000_000 }).getPage('receipts', 10)).resolves.toMatchObject({ more: false });
  });

  it('refuses a page with more items than the limit asked for', async () => {
    const url = await start((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipts: [receipt(1), receipt(2), receipt(3)], more: true })));
    await expect(client(url).getPage('receipts', 2)).rejects.toThrow(/not of the expected shape/);
    await expect(client(url).getPage('receipts', 3)).resolves.toMatchObject({ more: true });
  });

  it('clamps Retry-After to an hour and understands the HTTP-date form', async () => {
    const wall = Date.parse('2026-11-15T12:00:00.000Z');
    expect(parseRetryAfter('86400', wall)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('30', wall)).toBe(30_000);
    expect(parseRetryAfter('Sun, 15 Nov 2026 12:00:30 GMT', wall)).toBe(30_000);
    expect(parseRetryAfter('Sun, 15 Nov 2026 11:00:00 GMT', wall)).toBe(0);
    expect(parseRetryAfter('Fri, 15 Nov 2036 12:00:00 GMT', wall)).toBe(MAX_RETRY_AFTER_MS);
    for (const junk of ['-5', 'soon', '', '1e9', 'Sun, soon']) expect(parseRetryAfter(junk, wall)).toBeNull();

    const url = await start((_req, res) => res.writeHead(429, { 'retry-after': '31536000' }).end());
    const hq = client(url);
    await expect(hq.getPage('receipts', 10)).rejects.toThrow(HqRateLimitedError);
    const wait = hq.waitMs('GET', '/v1/receipts');
    expect(wait).toBeGreaterThan(MAX_RETRY_AFTER_MS - 5_000);
    expect(wait).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 100);
  });

  it('follows no redirect: the key never goes to where it points', async () => {
    const elsewhere: string[] = [];
    const target = await start((req, res) => {
      elsewhere.push(String(req.headers.authorization));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ receipts: [], more: false }));
    });
    const url = await start((_req, res) => res.writeHead(302, { location: `${target}/v1/receipts?limit=10` }).end());
    await expect(client(url).getPage('receipts', 10)).rejects.toThrow(HqUnavailableError);
    expect(elsewhere).toEqual([]);
  });

  it('cuts a body that trickles in at the timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    const url = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"receipts":[');
      timers.push(setInterval(() => res.write(' '), 50));
    });
    try {
      await expect(client(url, { timeoutMs: 400 }).getPage('receipts', 10)).rejects.toThrow(/no whole answer within 400 ms/);
    } finally {
      timers.forEach(clearInterval);
    }
  });

  it('measures waits on a monotonic clock: a wall-clock jump neither skips nor stretches a Retry-After', async () => {
    let calls = 0;
    const url = await start((_req, res) => {
      calls++;
      res.writeHead(429, { 'retry-after': '2' }).end();
    });
    // The wall clock, as the process sees it, from before the client exists.
    const realNow = Date.now.bind(Date);
    let jump = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + jump);
    const hq = client(url);
    await expect(hq.getPage('receipts', 10)).rejects.toThrow(HqRateLimitedError);
    expect(calls).toBe(1);
    // The wall clock jumps an hour ahead: the wait is still there, nothing is sent.
    jump = 3_600_000;
    await expect(hq.getPage('receipts', 10)).rejects.toThrow(HqBackoffError);
    expect(calls).toBe(1);
    // ...and an hour back: the wait is not stretched by an hour.
    jump = -3_600_000;
    const wait = hq.waitMs('GET', '/v1/receipts');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2_100);
  });
});
