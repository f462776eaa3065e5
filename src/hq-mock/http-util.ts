/**
 * Small helpers shared by the /v1 and /sim routes: sending prebuilt JSON, cutting it for the
 * truncatedJson fault, and killing sockets for the reset/hang/ackResponseLost faults.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FaultDecision } from './faults';

/** Faults decided in the onRequest hook that the route handler itself must act out. */
export const deferredFaults = new WeakMap<IncomingMessage, FaultDecision['kind']>();

export function faultOf(req: FastifyRequest): FaultDecision['kind'] | undefined {
  return deferredFaults.get(req.raw);
}

/**
 * Sends a JSON string. Under the truncatedJson fault the body is cut in half: still a 200 with
 * a JSON content type, but not parseable, so a client must treat it as a transient failure.
 */
export function sendJson(req: FastifyRequest, reply: FastifyReply, status: number, json: string): FastifyReply {
  const body = faultOf(req) === 'truncatedJson' ? json.slice(0, Math.max(1, Math.floor(json.length / 2))) : json;
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Drops the connection without an answer (the client sees a reset or an early EOF). */
export function destroyConnection(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  req.raw.socket?.destroy();
  return reply;
}

export function badRequest(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ error: 'bad_request', message });
}
