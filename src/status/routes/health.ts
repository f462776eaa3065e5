import type { FastifyInstance } from 'fastify';
import { readStreamStates } from '../../db/store/stream-state';
import type { QueueSnapshot } from '../../queues/progress';
import type { HqStream } from '../../texting/streams';
import { healthDocument, pollAgeCheck, probe, queueProgressCheck, type CheckResult } from '../readiness';
import type { StatusServerDeps } from '../server-deps';
import { readSqliteSchemaPage } from '../../db/sqlite-check';
import { probeDatabase } from '../../db/errors';

const PROBE_TIMEOUT_MS = 1000;

/** GET /healthz (liveness) and GET /readyz (readiness, application/health+json), as docs/office-api.md, "Reading /status", describes them. */
export function registerHealthRoutes(server: FastifyInstance, { app, pingRedis, queueSnapshot }: StatusServerDeps): void {
  server.get('/healthz', async (_req, reply) => reply.code(200).send({ status: 'pass' }));

  server.get('/readyz', async (_req, reply) => {
    const now = Date.now();
    const [redis, database, streams, queues] = await Promise.all([
      probe(pingRedis, PROBE_TIMEOUT_MS),
      probe(() => probeDatabase(async () => {
        await app.db.knex.raw('SELECT 1');
        // The file itself, on a fresh connection: a damaged or overwritten file fails here, with its code.
        if (app.config.database.driver === 'sqlite') await readSqliteSchemaPage(app.config.database.path);
      }), PROBE_TIMEOUT_MS),
      readStreamStates(app.db.knex).catch(() => null),
      queueSnapshot ? queueSnapshot().catch((err: Error) => err) : Promise.resolve(null),
    ]);
    const { pollWarnSeconds, pollFailSeconds } = app.config.readiness;
    const stream = (name: HqStream): CheckResult =>
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
    // Queue progress: one check per queue, judged from Redis (the workers may run in other processes).
    const { queueWarnSeconds, queueFailSeconds } = app.config.readiness;
    const queueChecks: Record<string, CheckResult> = {};
    if (queues instanceof Error) {
      for (const name of app.queues.names()) {
        queueChecks[`queue:${name}`] = { status: 'fail', componentId: name, componentType: 'queue', output: `queue state unreadable: ${queues.message.slice(0, 200)}`, time: new Date(now).toISOString() };
      }
    } else if (queues) {
      for (const q of queues as QueueSnapshot[]) {
        queueChecks[`queue:${q.queue}`] = queueProgressCheck({
          queue: q.queue, waiting: q.waiting, oldestWaitingAt: q.oldestWaitingAt, lastCompletedAt: q.lastCompletedAt,
          now, warnSeconds: queueWarnSeconds, failSeconds: queueFailSeconds,
        });
      }
    }
    const doc = healthDocument({ redis, database, 'hq:receipts': stream('receipts'), 'hq:inbound': stream('inbound'), ...queueChecks });
    return reply
      .code(doc.status === 'fail' ? 503 : 200)
      .header('content-type', 'application/health+json')
      .header('cache-control', 'no-store')
      .send(JSON.stringify(doc));
  });
}
