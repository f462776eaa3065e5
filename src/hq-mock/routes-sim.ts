/**
 * The simulation API under /sim: the mock's own controls for tests (clock, settings, traffic,
 * faults, ground truth, counters). Same bearer auth as /v1; faults never apply here.
 */
import type { FastifyInstance } from 'fastify';
import type { FaultInjector } from './faults';
import { badRequest } from './http-util';
import type { HqState } from './hq';
import { isValidZone } from './months';
import { describeIssue, SimAdvanceBody, SimConfigBody, SimFaultsBody, SimInboundBody, SimMessageBody, SimTrafficBody } from './schemas';

export interface SimContext {
  hq: HqState;
  faults: FaultInjector;
  /** Authorized /v1 requests seen (faulted ones included). */
  requests(): number;
  resetRequests(): void;
  log: { info(msg: string, meta?: object): void };
}

export function registerSimRoutes(app: FastifyInstance, ctx: SimContext): void {
  const { hq, faults } = ctx;
  const clockJson = () => ({ now: new Date(hq.now()).toISOString(), offsetMs: hq.clock.offset });

  app.get('/sim/clock', async () => clockJson());

  app.post('/sim/clock/advance', async (req, reply) => {
    const parsed = SimAdvanceBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    hq.clock.advance(parsed.data.ms);
    return clockJson();
  });

  app.get('/sim/config', async () => hq.settingsJson());

  app.post('/sim/config', async (req, reply) => {
    const parsed = SimConfigBody.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    hq.configure(parsed.data);
    return hq.settingsJson();
  });

  app.post('/sim/traffic', async (req, reply) => {
    const parsed = SimTrafficBody.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    const { from, to, ...rest } = parsed.data;
    const fromMs = from !== undefined ? Date.parse(from) : undefined;
    const toMs = to !== undefined ? Date.parse(to) : undefined;
    if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) return badRequest(reply, 'from must not be after to');
    const started = process.hrtime.bigint();
    const result = hq.generate({
      ...rest,
      ...(fromMs !== undefined ? { from: fromMs } : {}),
      ...(toMs !== undefined ? { to: toMs } : {}),
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    ctx.log.info('hq mock traffic generated', { messages: result.messages, receipts: result.receipts, inbound: result.inbound, ms: Math.round(ms) });
    return { ...result, ms: Math.round(ms) };
  });

  app.post('/sim/message', async (req, reply) => {
    const parsed = SimMessageBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    return hq.injectMessage(parsed.data);
  });

  app.post('/sim/inbound', async (req, reply) => {
    const parsed = SimInboundBody.safeParse(req.body);
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    return hq.injectInbound(parsed.data);
  });

  app.get('/sim/faults', async () => faults.snapshot());

  app.post('/sim/faults', async (req, reply) => {
    const parsed = SimFaultsBody.safeParse(req.body ?? {});
    if (!parsed.success) return badRequest(reply, describeIssue(parsed.error));
    faults.configure(parsed.data);
    return faults.snapshot();
  });

  app.get('/sim/truth', async (req, reply) => {
    const tz = (req.query as Record<string, unknown>).tz ?? 'UTC';
    if (typeof tz !== 'string' || !isValidZone(tz)) return badRequest(reply, 'tz must be an IANA time zone');
    return hq.truth(tz);
  });

  app.get('/sim/stats', async () => {
    const s = hq.stats();
    const pick = (q: typeof s.receipts) => ({
      available: q.available,
      leased: q.leased,
      acked: q.acked,
      expired: q.expired,
      served: q.served,
      ackCalls: q.ackCalls,
      pending: q.pending,
    });
    return {
      receipts: pick(s.receipts),
      inbound: pick(s.inbound),
      faults: { ...faults.counts },
      retryAfterViolations: faults.retryAfterViolations,
      retryAfterViolationsByEndpoint: Object.fromEntries(faults.violations),
      requests: ctx.requests(),
      now: s.now,
      runTag: s.runTag,
      messages: s.messages,
      monthChargesUsd: s.monthChargesUsd,
    };
  });

  app.post('/sim/reset', async () => {
    hq.reset();
    faults.reset();
    ctx.resetRequests();
    return { ok: true, runTag: hq.runTag };
  });
}
