import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isMonthKey } from '../../usage/month';
import type { StatusServerDeps } from '../server-deps';
import { buildStatus } from '../usage-report';

/** GET /status's query (also its OpenAPI description). Other keys are ignored. */
export const StatusQuery = z.object({
  month: z.string().regex(/^2\d{3}-(0[1-9]|1[0-2])$/).refine(isMonthKey).optional().describe('YYYY-MM; default: this month in OFFICE_TZ'),
});

/** GET /status?month=YYYY-MM (docs/office-api.md, "Reading /status"). */
export function registerUsageRoutes(server: FastifyInstance, { app }: StatusServerDeps): void {
  server.get('/status', async (req, reply) => {
    const query = StatusQuery.safeParse(req.query);
    if (!query.success) return reply.code(400).send({ error: 'invalid_month', message: 'month must be YYYY-MM' });
    // The reader connection: /status never waits behind a page being written.
    return reply.send(await buildStatus(app.db.reader, query.data.month ?? app.months.current(), app.months.tz));
  });
}
