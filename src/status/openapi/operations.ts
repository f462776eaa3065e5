/**
 * What /openapi.json says about each route of the status server: ONE entry per route, keyed
 * "METHOD /path" exactly as the route is registered with fastify (`:name` for a path parameter).
 * A test (test/ops/openapi.test.ts) fails for a registered route without an entry here, so adding
 * a route means adding its line:
 *
 *   'GET /api/things': { summary: 'List the things', auth: 'token', query: ThingsQuery },
 *
 * `query` and `body` are the zod schemas the route itself validates with (export them from the
 * route module); `ok` is the success answer (schema from ./schemas.ts when it has one). Error
 * answers follow from the entry: 400 when it takes a query, parameters or a body, 401 and 403 for
 * `auth: 'token'`, 413 for a body; `errors` adds others (404, 409, ...).
 */
import type { z } from 'zod';
import { DefaultBody, OptinBody, PracticeBody, SendBody } from '../routes/api';
import { CommlogQuery } from '../routes/commlog';
import { ConversationListQuery, ReplyChangeBody, ThreadQuery } from '../routes/messages';
import { HistoryQuery } from '../routes/history';
import { OptinRequestBody, PatientPutBody, PatientSearchQuery } from '../routes/patients';
import { StatusQuery } from '../routes/usage';
import {
  BlockAnswerSchema, BlockedListSchema, CommlogPageSchema, ConversationsPageSchema, DefaultClinicChangeSchema, DefaultClinicSchema, HealthDocument, MarkedReadSchema,
  MessageStatusSchema, OptinRequestSchema, OptinSettingsChangeSchema, OptinSettingsSchema, PatientChangeSchema, PatientPageSchema, PatientSchema, PracticeChangeSchema,
  PracticeSchema, ReceivedInThreadSchema, SentMessageSchema, StatusDocumentSchema, ThreadDocumentSchema, UnblockAnswerSchema, UnreadDocumentSchema, UsageHistorySchema,
} from './schemas';

export interface Operation {
  summary: string;
  /** Needs `Authorization: Bearer <API_TOKEN>`. */
  auth?: 'token';
  tag?: 'usage' | 'office' | 'messages' | 'patients' | 'operations' | 'page';
  query?: z.ZodType;
  body?: z.ZodType;
  ok?: { status?: number; description?: string; schema?: z.ZodType; type?: string };
  /** Error answers besides the ones the entry implies. */
  errors?: Partial<Record<number, string>>;
}

const JSON_OK = (description: string, schema?: z.ZodType, status = 200): Operation['ok'] => ({ status, description, ...(schema ? { schema } : {}) });

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  // Usage and the connector's state: no token (counts and charges only, no patient data).
  'GET /status': { tag: 'usage', summary: "A month's texting usage per clinic, and the connector's state", query: StatusQuery, ok: JSON_OK('the status document', StatusDocumentSchema) },
  'GET /status/history': { tag: 'usage', summary: 'Usage per month, all clinics together, the last N months (default 12)', query: HistoryQuery, ok: JSON_OK('oldest month first', UsageHistorySchema) },

  // Operations.
  'GET /healthz': { tag: 'operations', summary: 'Liveness: 200 while the process answers', ok: { description: 'alive', schema: HealthDocument, type: 'application/health+json' } },
  'GET /readyz': { tag: 'operations', summary: 'Readiness: redis, database, and the age of the last good poll of each stream', ok: { description: 'pass or warn', schema: HealthDocument, type: 'application/health+json' }, errors: { 503: 'fail (same document)' } },
  'GET /metrics': { tag: 'operations', summary: 'Prometheus metrics (text exposition format)', ok: { description: 'metrics', type: 'text/plain' } },
  'GET /openapi.json': { tag: 'operations', summary: 'This document', ok: { description: 'OpenAPI 3.1' } },

  // The Texting Services page.
  'GET /': { tag: 'page', summary: 'The Texting Services page (HTML)', ok: { description: 'the page', type: 'text/html' } },
  'GET /page/:name': { tag: 'page', summary: "The page's script, style sheet and icon", ok: { description: 'the asset', type: 'application/octet-stream' }, errors: { 404: 'not an asset', 503: 'the asset is not built (npm run build)' } },

  // The office API.
  'POST /api/messages': { tag: 'office', summary: 'Send a text (recorded at once, sent by a job)', auth: 'token', body: SendBody, ok: JSON_OK('recorded as pending and queued', SentMessageSchema, 202), errors: { 402: 'monthly_limit_reached', 404: 'unknown clinic or patient', 409: 'the number opted out or is blocked, or the patient\'s Text OK is No (or unknown, with texting.unknownTextOk refuse)' } },
  'GET /api/messages/:guid': { tag: 'office', summary: "A text's status and charge (no number, no text)", ok: JSON_OK('the text', MessageStatusSchema), errors: { 404: 'no message has that guid' } },
  'GET /api/clinics/default': { tag: 'office', summary: 'The default texting clinic', ok: JSON_OK('the clinic, or null', DefaultClinicSchema) },
  'PUT /api/clinics/default': { tag: 'office', summary: 'Set or clear the default texting clinic', auth: 'token', body: DefaultBody, ok: JSON_OK('the setting as it is now', DefaultClinicChangeSchema), errors: { 404: 'not a clinic of this office' } },
  'GET /api/clinics/:id/optin': { tag: 'office', summary: "A clinic's opt-in preferences", ok: JSON_OK('the preferences', OptinSettingsSchema), errors: { 404: 'not a clinic of this office' } },
  'PUT /api/clinics/:id/optin': { tag: 'office', summary: "Change a clinic's opt-in preferences", auth: 'token', body: OptinBody, ok: JSON_OK('the preferences as they are now', OptinSettingsChangeSchema), errors: { 404: 'not a clinic of this office' } },
  'GET /api/practice': { tag: 'office', summary: "The practice's title", ok: JSON_OK('the title, or null', PracticeSchema) },
  'PUT /api/practice': { tag: 'office', summary: "Change the practice's title", auth: 'token', body: PracticeBody, ok: JSON_OK('the title as it is now', PracticeChangeSchema) },

  // Text messages (src/status/routes/messages.ts): every one answers phone numbers or texts.
  'GET /api/conversations': {
    tag: 'messages', summary: 'Conversations, newest activity first (keyset pages)', auth: 'token', query: ConversationListQuery, ok: JSON_OK('a page of conversations', ConversationsPageSchema),
  },
  'GET /api/conversations/:phone': {
    tag: 'messages', summary: "A number's texts, sent and received", auth: 'token', query: ThreadQuery, ok: JSON_OK('a page of the thread', ThreadDocumentSchema),
    errors: { 404: 'no conversation with that number' },
  },
  'POST /api/conversations/:phone/read': {
    tag: 'messages', summary: "Mark a conversation's replies read", auth: 'token', ok: JSON_OK('marked', MarkedReadSchema), errors: { 404: 'no conversation with that number' },
  },
  'PUT /api/inbound/:inboundId': {
    tag: 'messages', summary: 'Mark a reply read or hidden, or move it to a patient', auth: 'token', body: ReplyChangeBody, ok: JSON_OK('the reply as it is now', ReceivedInThreadSchema),
    errors: { 404: 'no reply with that id, or no patient with that patientId' },
  },
  'GET /api/inbound/unread': { tag: 'messages', summary: 'Unread replies, in all and per clinic', auth: 'token', ok: JSON_OK('the counts', UnreadDocumentSchema) },
  'GET /api/blocked': { tag: 'messages', summary: 'Blocked numbers', auth: 'token', ok: JSON_OK('newest first', BlockedListSchema) },
  'PUT /api/blocked/:phone': { tag: 'messages', summary: 'Block a number', auth: 'token', ok: JSON_OK('blocked', BlockAnswerSchema) },
  'DELETE /api/blocked/:phone': { tag: 'messages', summary: 'Unblock a number', auth: 'token', ok: JSON_OK('unblocked', UnblockAnswerSchema), errors: { 404: 'that number is not blocked' } },

  // Patients and the communication log (src/status/routes/patients.ts, commlog.ts): names, numbers, texts.
  'GET /api/patients': { tag: 'patients', summary: 'Find patients by phone (any form) and/or name prefix, greatest patientId first (keyset pages)', auth: 'token', query: PatientSearchQuery, ok: JSON_OK('a page of patients', PatientPageSchema) },
  'GET /api/patients/:id': { tag: 'patients', summary: 'A patient, with Text OK, opt-out and opt-in state', auth: 'token', ok: JSON_OK('the patient', PatientSchema), errors: { 404: 'no patient with that id' } },
  'PUT /api/patients/:id': { tag: 'patients', summary: "Change a patient's name, wireless phone, clinic, guarantor or Text OK (replies re-matched)", auth: 'token', body: PatientPutBody, ok: JSON_OK('the patient as it is now', PatientChangeSchema), errors: { 404: 'no patient with that id' } },
  'POST /api/patients/:id/optin-request': {
    tag: 'patients', summary: 'Text a patient the opt-in request (at most one a day)', auth: 'token', body: OptinRequestBody, ok: JSON_OK('recorded and queued', OptinRequestSchema, 202),
    errors: { 402: 'monthly_limit_reached', 403: 'clinic_not_subscribed', 404: 'no patient with that id', 409: 'opted out, blocked, Text OK No or unknown with refuse, no wireless phone, no clinic, or asked less than a day ago' },
  },
  'GET /api/commlog': { tag: 'patients', summary: 'The communication log after a cursor, oldest first: {"rows", "next"}', auth: 'token', query: CommlogQuery, ok: JSON_OK('a page of the log', CommlogPageSchema) },
};
