/**
 * The HQ mock as a real HTTP server (fastify): wires the HQ state, the /v1 and /sim routes, bearer
 * auth and fault injection together, and owns start-up and shutdown. The daemon starts it when
 * HQ_URL is unset; tests start it on port 0.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { MockClock } from './clock';
import { DEV_API_KEY } from '../config/dev-hq';
import { startDemo, type DemoOptions } from './demo';
import { FaultInjector, type EndpointKind } from './faults';
import { HqState } from './hq';
import { deferredFaults, destroyConnection } from './http-util';
import { registerSimRoutes } from './routes-sim';
import { registerV1Routes } from './routes-v1';

export interface HqMockOptions {
  /** 0 = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEV_API_KEY. */
  apiKey?: string;
  /** Lease of a served item, ms of mock time (default 60 000). */
  leaseMs?: number;
  /** Mock-clock delay before a POSTed message's first receipt (default 2 000). */
  receiptDelayMs?: number;
  /** Default "50.00". */
  monthlyLimitUsd?: string;
  /** Where the mock clock starts, as an offset from real time in ms (default 0; may be negative). */
  clockOffsetMs?: number;
  /** Seeds receipt outcomes, default traffic and faults (default 1). */
  seed?: number;
  demo?: DemoOptions | false;
  logger?: { info(msg: string, meta?: object): void; warn(msg: string, meta?: object): void };
}

export interface HqMock {
  url: string;
  port: number;
  apiKey: string;
  /** The mock's state: in-process tests may drive it directly instead of through /sim. */
  hq: HqState;
  clock: MockClock;
  faults: FaultInjector;
  close(): Promise<void>;
}

/** Request body cap: the largest legitimate body is an ack of 1000 ids (~30 KB). */
const BODY_LIMIT = 1024 * 1024;

/** Which /v1 endpoints exist and which faults may hit them. */
const V1_ENDPOINTS: Readonly<Record<string, EndpointKind>> = {
  'GET /v1/account': 'read',
  'GET /v1/receipts': 'read',
  'GET /v1/inbound': 'read',
  'POST /v1/messages': 'write',
  'POST /v1/receipts/ack': 'ack',
  'POST /v1/inbound/ack': 'ack',
};

const silent = { info: () => undefined, warn: () => undefined };

export async function startHqMock(opts: HqMockOptions = {}): Promise<HqMock> {
  const log = opts.logger ?? silent;
  const apiKey = opts.apiKey ?? DEV_API_KEY;
  const expectedAuth = Buffer.from(`Bearer ${apiKey}`);
  const seed = (opts.seed ?? 1) >>> 0;
  const clock = new MockClock(Date.now, opts.clockOffsetMs ?? 0);
  const hq = new HqState({
    clock,
    seed,
    ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
    ...(opts.receiptDelayMs !== undefined ? { receiptDelayMs: opts.receiptDelayMs } : {}),
    ...(opts.monthlyLimitUsd !== undefined ? { monthlyLimitUsd: opts.monthlyLimitUsd } : {}),
  });
  const faults = new FaultInjector(seed ^ 0xfa17);
  let requests = 0;
  const hangs = new Set<NodeJS.Timeout>();

  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Longer than any sane client's idle timeout, so the client closes an idle socket first and
    // never reuses one that the server is closing at that very moment.
    keepAliveTimeout: 65_000,
    // close() must not wait for hung requests or idle keep-alive sockets.
    forceCloseConnections: true,
  });

  const authorized = (header: string | undefined): boolean => {
    if (header === undefined) return false;
    const got = Buffer.from(header);
    return got.length === expectedAuth.length && timingSafeEqual(got, expectedAuth);
  };

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?', 1)[0]!;
    const isV1 = path === '/v1' || path.startsWith('/v1/');
    if (!isV1 && path !== '/sim' && !path.startsWith('/sim/')) return;
    if (!authorized(req.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
    }
    if (!isV1) return; // faults never apply to /sim
    requests++;
    const kind = V1_ENDPOINTS[`${req.method} ${path}`];
    if (kind === undefined) return;
    const fault = faults.decide(req.method, path, kind, req.raw.socket);
    if (fault === null) return;
    switch (fault.kind) {
      case 'http429':
      case 'retryAfterViolation':
        return reply.code(429).header('retry-after', String(fault.retryAfterSeconds)).send({ error: 'rate_limited' });
      case 'http500':
        return reply.code(500).send({ error: 'internal_error' });
      case 'http503':
      case 'outage':
        return reply.code(503).send({ error: 'service_unavailable' });
      case 'reset':
        return destroyConnection(req, reply);
      case 'hang': {
        // Keep the request open, then drop it: the client's own timeout must fire first.
        reply.hijack();
        const timer = setTimeout(() => {
          hangs.delete(timer);
          req.raw.socket?.destroy();
        }, fault.hangMs);
        timer.unref();
        hangs.add(timer);
        return reply;
      }
      default:
        deferredFaults.set(req.raw, fault.kind); // acted out by the handler
        return;
    }
  });

  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not_found' }));
  app.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.warn('hq mock: request failed', { error: err.message });
    // Fastify's own 4xx (bad JSON, body too large, wrong content type) become contract-style errors.
    return reply.code(status).send({ error: status === 500 ? 'internal_error' : 'bad_request', message: status === 500 ? 'internal error' : err.message });
  });

  registerV1Routes(app, hq);
  registerSimRoutes(app, {
    hq,
    faults,
    requests: () => requests,
    resetRequests: () => {
      requests = 0;
    },
    log,
  });

  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('hq mock: server has no TCP address');
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${urlHost}:${address.port}`;

  const stopDemo = opts.demo ? startDemo(hq, opts.demo, seed, log) : () => undefined;
  log.info('hq mock listening', { url, leaseMs: hq.settings.leaseMs, demo: Boolean(opts.demo) });

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    apiKey,
    hq,
    clock,
    faults,
    close: () =>
      (closing ??= (async () => {
        stopDemo();
        for (const t of hangs) clearTimeout(t);
        hangs.clear();
        await app.close();
      })()),
  };
}
