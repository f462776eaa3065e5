/**
 * The HQ client's transport on node:http (src/hq/http-transport.ts), against a real server on
 * loopback: what the client relied on from fetch still holds (UTF-8 decoding, no redirect, a cut
 * answer is an error and never a short body), and connections are kept alive between requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLargeError, HttpTransport, RedirectRefusedError } from '../../src/hq/http-transport';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('HQ HTTP transport', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  const transport = new HttpTransport();
  const ports: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    server.on('connection', (socket) => ports.push(socket.remotePort ?? -1));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    transport.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const get = (path = '/x', maxBytes = 1_000_000, signal = AbortSignal.timeout(5000)) => transport.request(`${url}${path}`, 'GET', { accept: 'application/json' }, undefined, signal, maxBytes);

  it('answers status, headers and the body as UTF-8 (a byte-order mark dropped, invalid bytes U+FFFD)', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"é'), Buffer.from([0xff]), Buffer.from('"}')]));
    };
    const answer = await get();
    expect(answer.status).toBe(429);
    expect(answer.header('Retry-After')).toBe('3');
    expect(answer.header('x-missing')).toBeNull();
    expect(answer.text).toBe('{"a":"é\ufffd"}');
  });

  it('sends a POST body with its length, and keeps the connection for the next request', async () => {
    const bodies: string[] = [];
    handler = (req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.headers['content-length']} ${b}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    };
    const before = ports.length;
    await transport.request(`${url}/p`, 'POST', { 'content-type': 'application/json' }, '{"ids":["é"]}', AbortSignal.timeout(5000), 1000);
    await transport.request(`${url}/p`, 'POST', { 'content-type': 'application/json' }, '{}', AbortSignal.timeout(5000), 1000);
    expect(bodies).toEqual(['POST 14 {"ids":["é"]}', 'POST 2 {}']);
    expect(ports.length - before).toBeLessThanOrEqual(1);
  });

  it('refuses a redirect without following it', async () => {
    handler = (_req, res) => res.writeHead(307, { location: '/elsewhere' }).end();
    await expect(get()).rejects.toBeInstanceOf(RedirectRefusedError);
  });

  it('fails, never answers a short body, when the connection closes mid-answer', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"receipts":[');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await expect(get()).rejects.toThrow();
  });

  it('stops reading past the cap, declared or not', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
    await expect(get('/x', 1000)).rejects.toBeInstanceOf(BodyTooLargeError);
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('x'.repeat(800));
      res.end('x'.repeat(800));
    };
    await expect(get('/x', 1000)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it('fails, never hangs, on an answer of 101 (an upgrade nobody asked for)', async () => {
    const raw = createServer();
    raw.on('connection', (socket) => socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n')));
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    try {
      // A signal far off: the failure must come from the close itself, not from the timeout.
      await expect(transport.request(`http://127.0.0.1:${(raw.address() as AddressInfo).port}/x`, 'GET', {}, undefined, AbortSignal.timeout(30_000), 1000)).rejects.toThrow(/closed without an answer/);
    } finally {
      raw.closeAllConnections();
      await new Promise((r) => raw.close(r));
    }
  });

  it('is cut by its signal while the body trickles in', async () => {
    const timers: NodeJS.Timeout[] = [];
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('{');
      timers.push(setInterval(() => res.write(' '), 20));
    };
    try {
      await expect(get('/x', 1_000_000, AbortSignal.timeout(200))).rejects.toThrow();
      // The signal's own error, or the cut body it leaves (never a short body read as whole, never a size error).
      await expect(get('/x', 1_000_000, AbortSignal.timeout(200))).rejects.toMatchObject({ name: expect.stringMatching(/^(AbortError|TimeoutError|AnswerCutError)$/) });
    } finally {
      timers.forEach(clearInterval);
    }
  });

  it('is cut by its signal while the answer is awaited', async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(get('/x', 1000, controller.signal)).rejects.toThrow();
  });
});
