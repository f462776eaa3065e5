/** What the office API's route modules share (api.ts registers them all in one scope). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalid } from '../../office/errors';
import type { StatusServerDeps } from '../server-deps';

/** The largest request body the API takes: a 1,600-character text is at most ~10 KB of JSON. */
export const API_BODY_LIMIT_BYTES = 16 * 1024;

/** Answers 401/403 unless the request carries the API token (an onRequest hook). */
export type TokenCheck = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | void>;

/** What the route modules registered inside the API's scope get. */
export interface ApiRouteDeps extends StatusServerDeps {
  requireToken: TokenCheck;
}

/** A positive id from the path (`/api/clinics/:id/…`, `/api/patients/:id`), or a 400 naming `id`. */
export function pathId(raw: unknown, what: string): number {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) {
    throw invalid('id', `the ${what} id in the path must be a positive integer`);
  }
  return Number(raw);
}
