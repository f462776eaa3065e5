/**
 * The status server: GET /status, /healthz and /readyz exactly as CONTRACT.md §3.
 * Fastify gives keep-alive, body limits and structured errors for free.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppContext } from '../daemon/context';
import { readStreamStates } from '../ingest/stream-state';
import { isMonthKey } from '../usage/month';
import { healthDocument, pollAgeCheck, probe, type CheckResult } from './readiness';
import { buildStatus } from './usage-report';

export interface StatusServerDeps {
  app: AppContext;
  /** Pings Redis (the queues' connection). */
  pingRedis: () => Promise<unknown>;
}

const PROBE_TIMEOUT_MS = 1000;

export function buildStatusServer({ app, pingRedis }: StatusServerDeps): FastifyInstance {
  const server = Fastify({ logger: false, bodyLimit: 64 * 1024, keepAliveTimeout: 65_000 });

  server.get('/healthz', async (_req, reply) => reply.code(200).send({ status: 'pass' }));

  server.get<{ Querystring: { month?: string } }>('/status', async (req, reply) => {
    const month = req.query.month ?? app.months.current();
    if (typeof month !== 'string' || !isMonthKey(month)) {
      return reply.code(400).send({ error: 'invalid_month', message: 'month must be YYYY-MM' });
    }
    return reply.send(await buildStatus(app.db.knex, month, app.months.tz));
  });

  server.get('/readyz', async (_req, reply) => {
    const now = Date.now();
    const [redis, database, streams] = await Promise.all([
      probe(pingRedis, PROBE_TIMEOUT_MS),
      probe(() => app.db.knex.raw('SELECT 1'), PROBE_TIMEOUT_MS),
      readStreamStates(app.db.knex).catch(() => null),
    ]);
    const { pollWarnSeconds, pollFailSeconds } = app.config.readiness;
    const stream = (name: 'receipts' | 'inbound'): CheckResult =>
      streams === null
        ? { status: 'fail', output: 'database unreadable', time: new Date(now).toISOString() }
        : pollAgeCheck({
            lastOkAt: streams.get(name)?.lastOkAt ?? null,
            lastError: streams.get(name)?.lastError ?? null,
            startedAt: app.startedAt,
            now,
            warnSeconds: pollWarnSeconds,
            failSeconds: pollFailSeconds,
          });
    const doc = healthDocument({ redis, database, 'hq:receipts': stream('receipts'), 'hq:inbound': stream('inbound') });
    return reply
      .code(doc.status === 'fail' ? 503 : 200)
      .header('content-type', 'application/health+json')
      .header('cache-control', 'no-store')
      .send(JSON.stringify(doc));
  });

  server.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not_found' }));
  server.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (code === 500) app.logger.error('status server error', { error: err.message });
    return reply.code(code).send({ error: code === 500 ? 'internal_error' : 'bad_request', message: code === 500 ? 'internal error' : err.message });
  });
  return server;
}
