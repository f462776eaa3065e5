/**
 * The office API, for the Texting Services page and the practice software:
 *
 *   POST /api/messages                 send a text                           (token)
 *   GET  /api/messages/:guid           its status and charge, no number or text
 *   GET  /api/clinics/default          {"defaultClinicId": n|null}
 *   PUT  /api/clinics/default          {"clinicId": n|null}                  (token)
 *   GET  /api/clinics/:id/optin        opt-in preferences of a clinic
 *   PUT  /api/clinics/:id/optin        {"optinTitle": s|null, "promptForOptin": b} (token)
 *   GET  /api/practice                 {"title": s|null}
 *   PUT  /api/practice                 {"title": s|null}                     (token)
 *   /api/patients…, /api/commlog       patients, opt-in requests, the communication log
 *                                      (./patients.ts, ./commlog.ts; token on every route)
 *
 * State-changing requests carry `Authorization: Bearer <API_TOKEN>`: 401 without it or with a
 * wrong one; 403 when the daemon has no API_TOKEN at all (then it accepts no change). Bad input
 * answers 400 `{"error": "invalid_request", "field", "message"}`, a body over the limit 413; a
 * refused request writes nothing. Errors never quote a phone number or a message body.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { OfficeError, invalid } from '../../office/errors';
import { normalizePhone } from '../../office/phone';
import { createOfficeMessage, MAX_BODY_CHARS, readMessageStatus } from '../../office/send';
import {
  getDefaultClinicId, getOptin, getPracticeTitle, MAX_TITLE_LENGTH, setDefaultClinicId, setOptin, setPracticeTitle,
} from '../../office/settings';
import { parseRequest } from '../../office/validation';
import { formatMicros } from '../../money';
import { bearerTokenCheck } from '../access';
import type { StatusServerDeps } from '../server-deps';
import { registerMessagesRoutes } from './messages';
import { API_BODY_LIMIT_BYTES, pathId, type TokenCheck } from './api-common';
import { registerCommlogRoutes } from './commlog';
import { registerPatientRoutes } from './patients';



const id = z.number().int().positive().max(2_147_483_647);

export const SendBody = z
  .object({
    clinicId: id.nullable().optional(),
    patientId: id.nullable().optional(),
    toPhone: z.string().max(40).refine((s) => normalizePhone(s) !== null, {
      message: 'toPhone must be an E.164 number (+15035550123) or a North American number of 10 digits, or 1 and 10 digits',
    }),
    body: z.string().min(1).max(MAX_BODY_CHARS).refine((s) => s.trim().length > 0, { message: 'body must not be blank' }),
  })
  .strict();

export const DefaultBody = z.object({ clinicId: id.nullable() }).strict();
const title = z.string().max(MAX_TITLE_LENGTH).nullable();
export const OptinBody = z.object({ optinTitle: title, promptForOptin: z.boolean() }).strict();
export const PracticeBody = z.object({ title }).strict();

function sendError(reply: FastifyReply, err: OfficeError): FastifyReply {
  return reply.code(err.status).send(err.toJSON());
}

const clinicIdParam = (raw: unknown): number => pathId(raw, 'clinic');

export function registerApiRoutes(server: FastifyInstance, deps: StatusServerDeps): void {
  const { app } = deps;
  const knex = app.db.knex;
  const tokenMatches = app.config.apiToken === null ? null : bearerTokenCheck(app.config.apiToken);

  /** onRequest, so it runs before the body is read: no token, no parsing (and no 413 to learn from). */
  const requireToken: TokenCheck = async (req, reply) => {
    if (tokenMatches === null) {
      return reply.code(403).send({
        error: 'api_token_not_set',
        message: 'this connector has no API_TOKEN set, so it refuses every change: set API_TOKEN and restart it',
      });
    }
    if (!tokenMatches(req.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid "Authorization: Bearer <API_TOKEN>" header is required' });
    }
  };

  void server.register(
    async (api) => {
      api.setErrorHandler((err: { statusCode?: number; code?: string; message?: string }, _req, reply) => {
        if (err instanceof OfficeError) return sendError(reply, err);
        const status = err.statusCode ?? 500;
        if (status === 413) return reply.code(413).send({ error: 'payload_too_large', message: `the request body is over ${API_BODY_LIMIT_BYTES} bytes` });
        if (status === 415) return reply.code(415).send({ error: 'unsupported_media_type', message: 'send the body as application/json' });
        if (status >= 400 && status < 500) {
          // Fastify's own: malformed JSON, empty JSON body. Its message names no input.
          return reply.code(400).send({ error: 'invalid_request', field: null, message: err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the request body is empty' : 'the request body is not valid JSON' });
        }
        app.logger.error('office API error', { error: err.message });
        return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
      });

      // Text messages: conversations, replies, blocked numbers (./messages.ts).
      registerMessagesRoutes(api, app, requireToken);

      api.post('/messages', { onRequest: requireToken, bodyLimit: API_BODY_LIMIT_BYTES }, async (req, reply) => {
        const input = parseRequest(SendBody, req.body);
        const toPhone = normalizePhone(input.toPhone)!;
        const sent = await createOfficeMessage(knex, app.months, { clinicId: input.clinicId ?? null, patientId: input.patientId ?? null, toPhone, body: input.body }, app.config.texting);
        // Recorded and counted already: a send that cannot be queued now is queued by the outbox sweep.
        await app.followUp({ sendGuids: [sent.guid], recomputeUsage: true });
        app.logger.info('office message queued', { guid: sent.guid, clinicId: sent.clinicId, segments: sent.segments, encoding: sent.encoding });
        return reply.code(202).send(sent);
      });

      api.get<{ Params: { guid: string } }>('/messages/:guid', async (req, reply) => {
        const guid = req.params.guid;
        if (!/^[0-9A-Za-z-]{1,200}$/.test(guid)) throw invalid('guid', 'guid must be a message id');
        const found = await readMessageStatus(knex, guid);
        if (!found) return reply.code(404).send({ error: 'unknown_message', field: 'guid', message: 'no message has that guid' });
        const { chargeMicros, ...rest } = found;
        return reply.send({ ...rest, chargeUsd: chargeMicros === null ? null : formatMicros(chargeMicros) });
      });

      api.get('/clinics/default', async () => ({ defaultClinicId: await getDefaultClinicId(knex) }));

      api.put('/clinics/default', { onRequest: requireToken, bodyLimit: API_BODY_LIMIT_BYTES }, async (req) => {
        const { clinicId } = parseRequest(DefaultBody, req.body);
        const result = await setDefaultClinicId(knex, clinicId);
        return { changed: result.changed, ...(result.warning ? { warning: result.warning } : {}), defaultClinicId: result.value };
      });

      api.get<{ Params: { id: string } }>('/clinics/:id/optin', async (req) => getOptin(knex, clinicIdParam(req.params.id)));

      api.put<{ Params: { id: string } }>('/clinics/:id/optin', { onRequest: requireToken, bodyLimit: API_BODY_LIMIT_BYTES }, async (req) => {
        const clinicId = clinicIdParam(req.params.id);
        const wanted = parseRequest(OptinBody, req.body);
        const result = await setOptin(knex, clinicId, wanted);
        return { changed: result.changed, ...(result.warning ? { warning: result.warning } : {}), ...result.value };
      });

      api.get('/practice', async () => ({ title: await getPracticeTitle(knex) }));

      api.put('/practice', { onRequest: requireToken, bodyLimit: API_BODY_LIMIT_BYTES }, async (req) => {
        const { title: wanted } = parseRequest(PracticeBody, req.body);
        const result = await setPracticeTitle(knex, wanted);
        return { changed: result.changed, ...(result.warning ? { warning: result.warning } : {}), title: result.value };
      });

      // Inside this scope, so they share its error handler (400 naming the field, 413, 500).
      registerPatientRoutes(api, { ...deps, requireToken });
      registerCommlogRoutes(api, { ...deps, requireToken });
    },
    { prefix: '/api' },
  );
}
