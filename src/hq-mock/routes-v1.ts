/**
 * The HQ API of docs/hq-api.md, to the letter. Auth and fault injection happen in server.ts's
 * hooks before these handlers run; handlers act out only the faults that need the work done
 * (truncatedJson, lostAck, ackResponseLost).
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, destroyConnection, faultOf, sendJson } from './http-util';
import type { HqState } from './hq';
import { describeIssue, InboundAckBody, PostMessageBody, ReceiptAckBody } from './schemas';

export const DEFAULT_PAGE = 500;
export const MAX_PAGE = 1000;

/** `limit` from the query: absent -> 500; an integer 1..1000 -> it; anything else -> null (400). */
export function parseLimit(query: unknown): number | null {
  const raw = (query as Record<string, unknown> | undefined)?.limit;
  if (raw === undefined) return DEFAULT_PAGE;
  if (typeof raw !== 'string' || !/^\d{1,7}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= MAX_PAGE ? n : null;
}

export function registerV1Routes(app: FastifyInstance, hq: HqState): void {
  app.get('/v1/account', async (req, reply) => sendJson(req, reply, 200, JSON.stringify(hq.account())));

  app.post('/v1/messages', async (req, reply) => {
    const parsed = PostMessageBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    const answer = hq.postMessage(parsed.data);
    return reply.code(answer.status).send(answer.body);
  });

  for (const stream of ['receipts', 'inbound'] as const) {
    app.get(`/v1/${stream}`, async (req, reply) => {
      const limit = parseLimit(req.query);
      if (limit === null) return badRequest(reply, `limit must be an integer from 1 to ${MAX_PAGE}`);
      const page = stream === 'receipts' ? hq.pageReceipts(limit) : hq.pageInbound(limit);
      return sendJson(req, reply, 200, page.json);
    });

    app.post(`/v1/${stream}/ack`, async (req, reply) => {
      const parsed = stream === 'receipts' ? ReceiptAckBody.safeParse(req.body) : InboundAckBody.safeParse(req.body);
      if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
      const ids = 'receiptIds' in parsed.data ? parsed.data.receiptIds : parsed.data.inboundIds;
      const fault = faultOf(req);
      const ack = (record: boolean) => (stream === 'receipts' ? hq.ackReceipts(ids, record) : hq.ackInbound(ids, record));
      // lostAck: a 200 that HQ never recorded; the items come back once their lease runs out.
      if (fault === 'lostAck') return reply.send({ acked: ack(false) });
      const acked = ack(true);
      // ackResponseLost: recorded, but the client never hears so; its retry must be harmless.
      if (fault === 'ackResponseLost') return destroyConnection(req, reply);
      return reply.send({ acked });
    });
  }
}
