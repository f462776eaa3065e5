/**
 * The communication log for the practice software (token: rows carry numbers and texts):
 *
 *   GET /api/commlog?after=<id>&limit=<n>   {"rows": [...], "next": <id>|null}
 *
 * Rows with an id greater than `after` (default 0: from the start), oldest first, at most `limit`
 * (1 to 1000, default 100). `next` is the id to pass as `after` for the following page, null when
 * this page is the last one for now; a client keeps the greatest id it stored and asks again later.
 * Rules of the log: src/db/commlog.ts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_COMMLOG_PAGE, readCommlog } from '../../db/commlog';
import { parseRequest } from '../../office/validation';
import type { ApiRouteDeps } from './api-common';

export const CommlogQuery = z
  .object({
    after: z.string().regex(/^(0|[1-9]\d{0,15})$/, { message: 'after must be a commlog id (0 or a positive integer)' }).transform(Number).optional(),
    limit: z.string().regex(/^[1-9]\d{0,9}$/, { message: 'limit must be a positive integer' }).transform(Number)
      .refine((n) => n <= MAX_COMMLOG_PAGE, { message: `limit must be at most ${MAX_COMMLOG_PAGE}` }).optional(),
  })
  .strict();

export function registerCommlogRoutes(api: FastifyInstance, { app, requireToken }: ApiRouteDeps): void {
  api.get('/commlog', { onRequest: requireToken }, async (req) => {
    const query = parseRequest(CommlogQuery, req.query);
    const limit = query.limit ?? 100;
    const rows = await readCommlog(app.db.reader, query.after ?? 0, limit + 1);
    const page = rows.slice(0, limit);
    return { rows: page, next: rows.length > limit ? page[page.length - 1]!.id : null };
  });
}
