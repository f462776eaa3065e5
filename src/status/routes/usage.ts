import type { FastifyInstance } from 'fastify';
import { isMonthKey } from '../../usage/month';
import type { StatusServerDeps } from '../server';
import { buildStatus } from '../usage-report';

/** GET /status?month=YYYY-MM (CONTRACT.md §3). */
export function registerUsageRoutes(server: FastifyInstance, { app }: StatusServerDeps): void {
  server.get<{ Querystring: { month?: string } }>('/status', async (req, reply) => {
    const month = req.query.month ?? app.months.current();
    if (typeof month !== 'string' || !isMonthKey(month)) {
      return reply.code(400).send({ error: 'invalid_month', message: 'month must be YYYY-MM' });
    }
    // The reader connection: /status never waits behind a page being written.
    return reply.send(await buildStatus(app.db.reader, month, app.months.tz));
  });
}
