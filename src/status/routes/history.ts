import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { StatusServerDeps } from '../server-deps';
import { HISTORY_MONTHS_DEFAULT, HISTORY_MONTHS_MAX, readUsageHistory } from '../usage-history';

/** GET /status/history?months=N: the query it accepts (also its OpenAPI description). */
export const HistoryQuery = z
  .object({
    months: z
      .string()
      .regex(/^[1-9]\d?$/)
      .refine((s) => Number(s) <= HISTORY_MONTHS_MAX)
      .optional()
      .describe(`how many months, ending with this one (1-${HISTORY_MONTHS_MAX}, default ${HISTORY_MONTHS_DEFAULT})`),
  })
  .strict();

/** GET /status/history?months=12: usage per month for the chart and `econnector status --history`. */
export function registerHistoryRoutes(server: FastifyInstance, { app }: StatusServerDeps): void {
  server.get('/status/history', async (req, reply) => {
    const query = HistoryQuery.safeParse(req.query);
    if (!query.success) {
      return reply.code(400).send({ error: 'invalid_months', message: `months must be an integer from 1 to ${HISTORY_MONTHS_MAX}` });
    }
    const count = query.data.months === undefined ? HISTORY_MONTHS_DEFAULT : Number(query.data.months);
    return reply.send(await readUsageHistory(app.db.reader, app.months.current(), count, app.months.tz));
  });
}
