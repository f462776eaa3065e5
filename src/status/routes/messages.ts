/**
 * The office's text messages, registered inside the office API (api.ts), whose token
 * check and error handler they share. Every route here answers message bodies or patients' phone
 * numbers, so every one, reads included, needs `Authorization: Bearer <API_TOKEN>`:
 *
 *   GET    /api/conversations?clinicId=&unread=true&limit=&before=   newest activity first, keyset pages
 *   GET    /api/conversations/:phone?limit=&before=                  sent and received, oldest first in the page
 *   POST   /api/conversations/:phone/read                            marks all its replies read
 *   PUT    /api/inbound/:inboundId   {"read"?, "hidden"?, "patientId"?}
 *   GET    /api/inbound/unread       {"total", "byClinic"}
 *   GET    /api/blocked              blocked numbers
 *   PUT    /api/blocked/:phone       block a number
 *   DELETE /api/blocked/:phone       unblock it
 *
 * `:phone` is a URL-encoded E.164 number or 10 North American digits. Errors name the field,
 * never the number or a text (docs/text-messages.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { StatusApp } from '../server-deps';
import { formatMicros } from '../../money';
import {
  conversationExists, DEFAULT_PAGE, encodeCursor, listConversations, listCursorOf, MAX_PAGE, readThread, threadCursorOf, unreadCounts,
  type ConversationSummary, type ThreadMessage,
} from '../../office/conversation-queries';
import type { BlockedJson, ConversationJson, ConversationsPage, ThreadDocument, ThreadMessageJson, UnreadDocument } from '../../office/conversation-document';
import { foldPending } from '../../office/conversation-fold';
import { invalid, OfficeError } from '../../office/errors';
import { normalizePhone } from '../../office/phone';
import { blockNumber, changeReply, listBlocked, markConversationRead, unblockNumber } from '../../office/replies';
import { parseRequest } from '../../office/validation';

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | void>;

const limit = z.string().regex(/^\d{1,4}$/, { message: `limit must be a whole number from 1 to ${MAX_PAGE}` }).transform(Number)
  .refine((v) => v >= 1 && v <= MAX_PAGE, { message: `limit must be a whole number from 1 to ${MAX_PAGE}` });
const before = z.string().max(400);

/** GET /api/conversations (exported for the OpenAPI document, src/status/openapi/operations.ts). */
export const ConversationListQuery = z.object({
  clinicId: z.string().regex(/^[1-9]\d{0,9}$/, { message: 'clinicId must be a positive integer' }).transform(Number).optional(),
  unread: z.enum(['true', 'false'], { message: 'unread must be true or false' }).optional(),
  limit: limit.optional(),
  before: before.optional(),
}).strict();
/** GET /api/conversations/:phone. */
export const ThreadQuery = z.object({ limit: limit.optional(), before: before.optional() }).strict();

const id = z.number().int().positive().max(2_147_483_647);
/** PUT /api/inbound/:inboundId. */
export const ReplyChangeBody = z.object({ read: z.boolean().optional(), hidden: z.boolean().optional(), patientId: id.nullable().optional() })
  .strict()
  .refine((b) => b.read !== undefined || b.hidden !== undefined || b.patientId !== undefined, { message: 'give at least one of read, hidden, patientId' });

const BODY_LIMIT = 1024;

/** The phone of the path, or a 400 on `phone` (the value is never repeated). */
function phoneParam(raw: unknown): string {
  const phone = typeof raw === 'string' ? normalizePhone(raw) : null;
  if (phone === null) throw invalid('phone', 'phone must be an E.164 number (+15035550123, URL-encoded) or 10 North American digits');
  return phone;
}

function inboundIdParam(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(raw)) throw invalid('inboundId', 'inboundId must be a reply id');
  return raw;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function conversationJson(c: ConversationSummary): ConversationJson {
  return {
    phone: c.phone, patientId: c.patientId, patientName: c.patientName, clinicId: c.clinicId, lastAt: iso(c.lastAtMs),
    lastDirection: c.lastDirection, lastBody: c.lastBody, unread: c.unread, blocked: c.blocked,
  };
}

export function messageJson(m: ThreadMessage): ThreadMessageJson {
  if (m.direction === 'in') {
    const { atMs, ...rest } = m;
    return { ...rest, at: iso(atMs) };
  }
  const { atMs, chargeMicros, ...rest } = m;
  return { ...rest, at: iso(atMs), chargeUsd: chargeMicros === null ? null : formatMicros(chargeMicros) };
}

export function registerMessagesRoutes(api: FastifyInstance, app: StatusApp, requireToken: Guard): void {
  const knex = app.db.knex;
  const reader = app.db.reader;
  const guarded = { onRequest: requireToken };
  const withBody = { onRequest: requireToken, bodyLimit: BODY_LIMIT };

  api.get('/conversations', guarded, async (req): Promise<ConversationsPage> => {
    const q = parseRequest(ConversationListQuery, req.query ?? {});
    let cursor;
    if (q.before !== undefined) {
      cursor = listCursorOf(q.before);
      if (!cursor) throw invalid('before', 'before must be the next cursor of a previous page');
    }
    // What a backlog's pages appended is folded first (through the writer), so the list read is exact.
    await foldPending(knex);
    const page = await listConversations(reader, { clinicId: q.clinicId, unreadOnly: q.unread === 'true', limit: q.limit ?? DEFAULT_PAGE, before: cursor });
    return { conversations: page.conversations.map(conversationJson), next: page.next ? encodeCursor([page.next.at, page.next.phone]) : null };
  });

  api.get<{ Params: { phone: string } }>('/conversations/:phone', guarded, async (req): Promise<ThreadDocument> => {
    const phone = phoneParam(req.params.phone);
    const q = parseRequest(ThreadQuery, req.query ?? {});
    let cursor;
    if (q.before !== undefined) {
      cursor = threadCursorOf(q.before);
      if (!cursor) throw invalid('before', 'before must be the next cursor of a previous page');
    }
    const thread = await readThread(reader, phone, q.limit ?? DEFAULT_PAGE, cursor);
    // A conversation has at least one message: an empty first page means there is none.
    if (thread.messages.length === 0 && (cursor === undefined || !(await conversationExists(reader, phone)))) {
      throw new OfficeError(404, 'unknown_conversation', 'no conversation with that number', 'phone');
    }
    return {
      phone,
      patients: thread.patients,
      messages: thread.messages.map(messageJson),
      next: thread.next ? encodeCursor([thread.next.at, thread.next.direction, thread.next.ref]) : null,
    };
  });

  api.post<{ Params: { phone: string } }>('/conversations/:phone/read', guarded, async (req) => {
    const phone = phoneParam(req.params.phone);
    const marked = await knex.transaction(async (trx) => {
      if (!(await conversationExists(trx, phone))) throw new OfficeError(404, 'unknown_conversation', 'no conversation with that number', 'phone');
      return markConversationRead(trx, phone);
    });
    return { phone, marked };
  });

  api.put<{ Params: { inboundId: string } }>('/inbound/:inboundId', withBody, async (req) => {
    const inboundId = inboundIdParam(req.params.inboundId);
    const change = parseRequest(ReplyChangeBody, req.body);
    return messageJson(await changeReply(knex, inboundId, change));
  });

  api.get('/inbound/unread', guarded, async (): Promise<UnreadDocument> => {
    const { total, byClinic } = await unreadCounts(reader);
    return { total, byClinic: Object.fromEntries([...byClinic].map(([c, n]) => [String(c), n])) };
  });

  api.get('/blocked', guarded, async (): Promise<{ blocked: BlockedJson[] }> => ({
    blocked: (await listBlocked(reader)).map((b) => ({ phone: b.phone, blockedAt: iso(b.blockedAtMs) })),
  }));

  api.put<{ Params: { phone: string } }>('/blocked/:phone', guarded, async (req) => {
    const phone = phoneParam(req.params.phone);
    const { changed, blocked } = await blockNumber(knex, phone);
    app.logger.info('number blocked by the office', { changed });
    return { changed, phone: blocked.phone, blockedAt: iso(blocked.blockedAtMs) };
  });

  api.delete<{ Params: { phone: string } }>('/blocked/:phone', guarded, async (req) => {
    const phone = phoneParam(req.params.phone);
    if (!(await unblockNumber(knex, phone))) throw new OfficeError(404, 'not_blocked', 'that number is not blocked', 'phone');
    app.logger.info('number unblocked by the office');
    return { changed: true, phone };
  });
}
