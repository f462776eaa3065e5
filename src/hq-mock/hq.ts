/**
 * The mock HQ's state and business rules, without HTTP: clinics and settings, the outbound
 * messages and their receipts, inbound replies, the office's monthly charges (for 402), and the
 * ground truth. server.ts only translates between this and the wire; tests can drive it directly.
 */
import { countSegments } from '../texting/segments';
import { formatMicros, parseUsdToMicros } from '../money';
import {
  DEFAULT_CLINICS,
  DEFAULT_PRICES_MICROS,
  FALLBACK_PRICE_MICROS,
  OFFICE_ID,
  REPLY_BODIES,
  REPLY_SEGMENTS,
  REPLY_WEIGHTS,
  STRAY_CLINIC,
  type Clinic,
} from './catalog';
import { MockClock } from './clock';
import { formatGuid, IdCodec, newRunTag, parseGuid, seededGuidWords } from './ids';
import { monthIndex } from './months';
import { mulberry32, pickWeighted, type Rng } from './prng';
import { FLAG_EXTRA, InboundStream, MessageTable, RECEIPT_STATUSES, ReceiptStream } from './records';
import type { PostMessageBody, SimConfigPatch, SimInbound, SimMessage } from './schemas';
import type { QueueStats } from './store';
import { computeTruth, type InboundFact, type ReceiptFact, type Truth } from './truth';
import { DEFAULT_OUTCOMES, generateTraffic, patientPhone, planReceipts, type OutcomeWeights, type PlannedReceipt, type TrafficRequest, type TrafficResult, type TrafficSink } from './traffic';
import type { z } from 'zod';

export interface HqSettings {
  officeId: string;
  leaseMs: number;
  receiptDelayMs: number;
  secondReceiptDelayMs: number;
  monthlyLimitMicros: number;
  clinics: Clinic[];
  pricesMicros: Record<string, number>;
  /** Zone of the month that the monthly limit (402) is counted in. */
  timezone: string;
  outcomes: OutcomeWeights;
}

export interface HqStateOptions {
  clock?: MockClock;
  leaseMs?: number;
  receiptDelayMs?: number;
  monthlyLimitUsd?: string;
  seed?: number;
}

/** A POST /v1/messages that HQ accepted, kept for idempotent replays. */
interface Posted {
  clinicId: number;
  toPhone: string;
  body: string;
  response: { guid: string; segments: number; status: 'pending'; acceptedAt: string };
}

export interface Answer {
  status: number;
  body: object;
}

export interface HqStats {
  now: string;
  runTag: string;
  messages: number;
  monthChargesUsd: string;
  receipts: QueueStats;
  inbound: QueueStats;
}

export class HqState implements TrafficSink {
  readonly clock: MockClock;
  readonly settings: HqSettings;
  private readonly seed: number;
  private outcomeRng: Rng;
  private trafficCalls = 0;

  runTag!: string;
  messages!: MessageTable;
  receipts!: ReceiptStream;
  inbound!: InboundStream;
  /** POSTed messages by lower-cased guid (idempotency). */
  private posted = new Map<string, Posted>();
  /** Messages with a known textual guid (POSTed or injected), by lower-cased guid. */
  private guidIndex = new Map<string, number>();
  /** The office's charges per month (in settings.timezone), micro-dollars: what 402 looks at. */
  private monthCharges = new Map<string, number>();

  constructor(opts: HqStateOptions = {}) {
    this.clock = opts.clock ?? new MockClock();
    this.seed = (opts.seed ?? 1) >>> 0;
    this.outcomeRng = mulberry32(this.seed ^ 0x5eed);
    this.settings = {
      officeId: OFFICE_ID,
      leaseMs: opts.leaseMs ?? 60_000,
      receiptDelayMs: opts.receiptDelayMs ?? 2_000,
      secondReceiptDelayMs: 30_000,
      monthlyLimitMicros: parseUsdToMicros(opts.monthlyLimitUsd ?? '50.00'),
      clinics: DEFAULT_CLINICS.map((c) => ({ ...c })),
      pricesMicros: { ...DEFAULT_PRICES_MICROS },
      timezone: 'UTC',
      outcomes: { ...DEFAULT_OUTCOMES },
    };
    this.reset();
  }

  /** Drops all traffic. A new run tag keeps ids unique for ever across resets. */
  reset(): void {
    this.runTag = newRunTag();
    this.messages = new MessageTable();
    this.receipts = new ReceiptStream(this.messages, new IdCodec('r', this.runTag), this.settings.leaseMs);
    this.inbound = new InboundStream(new IdCodec('i', this.runTag), this.settings.leaseMs);
    this.posted = new Map();
    this.guidIndex = new Map();
    this.monthCharges = new Map();
    this.outcomeRng = mulberry32(this.seed ^ 0x5eed);
    this.trafficCalls = 0;
  }

  now(): number {
    return this.clock.now();
  }

  // ---- settings -------------------------------------------------------------------------------

  configure(patch: SimConfigPatch): void {
    const s = this.settings;
    if (patch.leaseMs !== undefined) {
      s.leaseMs = patch.leaseMs;
      this.receipts.queue.leaseMs = patch.leaseMs;
      this.inbound.queue.leaseMs = patch.leaseMs;
    }
    if (patch.receiptDelayMs !== undefined) s.receiptDelayMs = patch.receiptDelayMs;
    if (patch.secondReceiptDelayMs !== undefined) s.secondReceiptDelayMs = patch.secondReceiptDelayMs;
    if (patch.monthlyLimitUsd !== undefined) s.monthlyLimitMicros = parseUsdToMicros(patch.monthlyLimitUsd);
    if (patch.clinics !== undefined) s.clinics = patch.clinics.map((c) => ({ ...c }));
    if (patch.outcomes !== undefined) s.outcomes = { ...s.outcomes, ...patch.outcomes };
    if (patch.pricesUsd !== undefined) {
      for (const [country, usd] of Object.entries(patch.pricesUsd)) s.pricesMicros[country] = parseUsdToMicros(usd);
    }
    if (patch.timezone !== undefined && patch.timezone !== s.timezone) {
      s.timezone = patch.timezone;
      this.recomputeMonthCharges();
    }
  }

  /** Settings as JSON (money as decimal strings). */
  settingsJson(): object {
    const s = this.settings;
    return {
      officeId: s.officeId,
      leaseMs: s.leaseMs,
      receiptDelayMs: s.receiptDelayMs,
      secondReceiptDelayMs: s.secondReceiptDelayMs,
      monthlyLimitUsd: formatMicros(s.monthlyLimitMicros),
      clinics: s.clinics,
      pricesUsd: Object.fromEntries(Object.entries(s.pricesMicros).map(([k, v]) => [k, formatMicros(v)])),
      timezone: s.timezone,
      outcomes: s.outcomes,
      runTag: this.runTag,
    };
  }

  priceOf(countryCode: string): number {
    return this.settings.pricesMicros[countryCode] ?? FALLBACK_PRICE_MICROS;
  }

  outcomes(): OutcomeWeights {
    return this.settings.outcomes;
  }

  private accountClinic(clinicId: number): Clinic | undefined {
    return this.settings.clinics.find((c) => c.clinicId === clinicId);
  }

  /** A clinic HQ knows but the account does not list (7, unless the account took that id). */
  strayClinic(): Clinic {
    const ids = new Set(this.settings.clinics.map((c) => c.clinicId));
    if (!ids.has(STRAY_CLINIC.clinicId)) return STRAY_CLINIC;
    const id = Math.max(...ids) + 3;
    return { ...STRAY_CLINIC, clinicId: id, primaryPhone: `+1503555${String(id % 10_000).padStart(4, '0')}` };
  }

  /** Any clinic by id, inventing a US one for ids HQ has never heard of (for /sim injections). */
  private clinicFor(clinicId: number, countryCode?: string): Clinic {
    const known = this.accountClinic(clinicId) ?? (this.strayClinic().clinicId === clinicId ? this.strayClinic() : undefined);
    const clinic = known ?? {
      clinicId,
      name: `Clinic ${clinicId}`,
      subscribed: false,
      primaryPhone: `+1503555${String(clinicId % 10_000).padStart(4, '0')}`,
      countryCode: 'US',
    };
    return countryCode ? { ...clinic, countryCode } : clinic;
  }

  /** Traffic mostly names subscribed clinics; 1% an unsubscribed one, 3% one not in the account. */
  trafficClinics(): { clinics: Clinic[]; weights: number[] } {
    const subscribed = this.settings.clinics.filter((c) => c.subscribed);
    const unsubscribed = this.settings.clinics.filter((c) => !c.subscribed);
    const clinics: Clinic[] = [];
    const weights: number[] = [];
    for (const c of subscribed) {
      clinics.push(c);
      weights.push(96 / subscribed.length);
    }
    for (const c of unsubscribed) {
      clinics.push(c);
      weights.push((subscribed.length ? 1 : 96) / unsubscribed.length);
    }
    clinics.push(this.strayClinic());
    weights.push(3);
    return { clinics, weights };
  }

  // ---- the office's monthly charges (402) -----------------------------------------------------

  private bill(at: number, deltaMicros: number): void {
    if (deltaMicros === 0) return;
    const key = monthIndex(this.settings.timezone).keyOf(at);
    this.monthCharges.set(key, (this.monthCharges.get(key) ?? 0) + deltaMicros);
  }

  private recomputeMonthCharges(): void {
    this.monthCharges = new Map();
    for (let m = 0; m < this.messages.size; m++) this.bill(this.messages.sentAtOf(m), this.messages.finalChargeOf(m));
    for (let i = 0; i < this.inbound.queue.size; i++) {
      if (!this.inbound.isMalformed(i)) this.bill(this.inbound.receivedAtOf(i), this.inbound.chargeOf(i));
    }
  }

  /** What the office has been charged this month (mock clock, settings.timezone), in micro-dollars. */
  chargesThisMonth(): number {
    return this.monthCharges.get(monthIndex(this.settings.timezone).keyOf(this.now())) ?? 0;
  }

  // ---- adding traffic (TrafficSink) -----------------------------------------------------------

  reserve(messages: number, receipts: number, inbound: number): void {
    this.messages.reserve(messages);
    this.receipts.reserve(receipts);
    this.inbound.reserve(inbound);
  }

  addMessage(words: readonly number[], clinic: Clinic, segments: number, sentAt: number, plan: PlannedReceipt[], flags = 0, guidText?: string): number {
    const m = this.messages.add(words, clinic.clinicId, clinic.countryCode, segments, sentAt, guidText);
    if (guidText !== undefined) this.guidIndex.set(guidText.toLowerCase(), m);
    for (const p of plan) this.addReceipt(m, p, flags);
    return m;
  }

  /**
   * Adds a receipt and keeps the message's billed charge equal to its final receipt's (latest
   * statusAt; on a tie the greater receiptId, which within one run is the later index, since ids
   * are the zero-padded index with one prefix).
   */
  addReceipt(m: number, p: PlannedReceipt, flags = 0): number {
    const i = this.receipts.add(m, p.status, p.chargeMicros, p.statusAt, this.now(), flags & FLAG_EXTRA);
    const f = this.messages.finalReceiptOf(m);
    if (f < 0 || p.statusAt >= this.receipts.statusAtOf(f)) {
      const before = f < 0 ? 0 : this.receipts.chargeOf(f);
      this.messages.setFinal(m, i, p.chargeMicros);
      this.bill(this.messages.sentAtOf(m), p.chargeMicros - before);
    }
    return i;
  }

  addInbound(clinic: Clinic, fromPhone: string, body: string, segments: number, chargeMicros: number, receivedAt: number, flags = 0, toPhone?: string): number {
    const key = this.inbound.bodies.intern(body);
    const i = this.inbound.add(clinic.clinicId, fromPhone, toPhone ?? clinic.primaryPhone, key, segments, chargeMicros, receivedAt, this.now(), flags & FLAG_EXTRA);
    this.bill(receivedAt, chargeMicros);
    return i;
  }

  addMalformedReceipt(sentAt: number, statusAt: number, build: (id: string) => Record<string, unknown>): void {
    this.receipts.addMalformed(sentAt, statusAt, this.now(), build);
  }

  addMalformedInbound(receivedAt: number, build: (id: string) => Record<string, unknown>): void {
    this.inbound.addMalformed(receivedAt, receivedAt, this.now(), build);
  }

  /** Bulk traffic; `from`/`to` default to the last 30 days of the mock clock. */
  generate(req: Partial<TrafficRequest>): TrafficResult & { from: string; to: string; seed: number } {
    const now = this.now();
    const to = req.to ?? now;
    const from = req.from ?? to - 30 * 86_400_000;
    const seed = req.seed ?? (this.seed + 1_000_003 * ++this.trafficCalls) >>> 0;
    const result = generateTraffic(this, {
      messages: req.messages ?? 0,
      inbound: req.inbound ?? 0,
      malformed: req.malformed ?? 0,
      from,
      to,
      seed,
      ...(req.extraFieldRate !== undefined ? { extraFieldRate: req.extraFieldRate } : {}),
    });
    return { ...result, from: new Date(from).toISOString(), to: new Date(to).toISOString(), seed };
  }

  /** One new outbound text sent now (the demo trickle), its receipts due after receiptDelayMs. */
  sendLive(rng: Rng): number {
    const { clinics, weights } = this.trafficClinics();
    const clinic = clinics[pickWeighted(rng, weights)]!;
    const now = this.now();
    const segments = rng() < 0.9 ? 1 : 2;
    const plan = planReceipts(rng, this.settings.outcomes, now + this.settings.receiptDelayMs, this.settings.secondReceiptDelayMs, this.priceOf(clinic.countryCode) * segments);
    return this.addMessage(seededGuidWords(rng), clinic, segments, now, plan);
  }

  /** One patient reply received now (the demo trickle). */
  receiveLive(rng: Rng): number {
    const { clinics, weights } = this.trafficClinics();
    const clinic = clinics[pickWeighted(rng, weights)]!;
    const b = pickWeighted(rng, REPLY_WEIGHTS);
    const segments = REPLY_SEGMENTS[b]!;
    return this.addInbound(clinic, patientPhone(rng, clinic), REPLY_BODIES[b]!, segments, this.priceOf(clinic.countryCode) * segments, this.now());
  }

  // ---- /v1 ------------------------------------------------------------------------------------

  account(): object {
    return {
      officeId: this.settings.officeId,
      monthlyLimitUsd: formatMicros(this.settings.monthlyLimitMicros),
      clinics: this.settings.clinics.map((c) => ({ ...c })),
    };
  }

  /** POST /v1/messages, given an already validated body. */
  postMessage(req: z.infer<typeof PostMessageBody>): Answer {
    const key = req.guid.toLowerCase();
    const seen = this.posted.get(key);
    if (seen) {
      const same = seen.clinicId === req.clinicId && seen.toPhone === req.toPhone && seen.body === req.body;
      return same ? { status: 200, body: seen.response } : { status: 409, body: { error: 'guid_conflict' } };
    }
    const clinic = this.accountClinic(req.clinicId);
    if (!clinic) return { status: 404, body: { error: 'unknown_clinic' } };
    if (!clinic.subscribed) return { status: 403, body: { error: 'clinic_not_subscribed' } };
    if (this.chargesThisMonth() >= this.settings.monthlyLimitMicros) return { status: 402, body: { error: 'monthly_limit_reached' } };

    const now = this.now();
    const { segments } = countSegments(req.body);
    const plan = planReceipts(
      this.outcomeRng,
      this.settings.outcomes,
      now + this.settings.receiptDelayMs,
      this.settings.secondReceiptDelayMs,
      this.priceOf(clinic.countryCode) * segments,
    );
    this.addMessage(parseGuid(req.guid), clinic, segments, now, plan, 0, req.guid);
    const response = { guid: req.guid, segments, status: 'pending' as const, acceptedAt: new Date(now).toISOString() };
    this.posted.set(key, { clinicId: req.clinicId, toPhone: req.toPhone, body: req.body, response });
    return { status: 202, body: response };
  }

  pageReceipts(limit: number): { json: string; count: number } {
    return this.receipts.page(limit, this.now());
  }
  pageInbound(limit: number): { json: string; count: number } {
    return this.inbound.page(limit, this.now());
  }
  ackReceipts(ids: readonly string[], record = true): number {
    return record ? this.receipts.ack(ids, this.now()) : this.receipts.wouldAck(ids, this.now());
  }
  ackInbound(ids: readonly string[], record = true): number {
    return record ? this.inbound.ack(ids, this.now()) : this.inbound.wouldAck(ids, this.now());
  }

  // ---- /sim injections ------------------------------------------------------------------------

  /** Adds a message with exactly the given receipts, or more receipts to a known guid. */
  injectMessage(req: SimMessage): { guid: string; receiptIds: string[] } {
    const now = this.now();
    let m = req.guid !== undefined ? this.guidIndex.get(req.guid.toLowerCase()) : undefined;
    if (m === undefined) {
      const clinic = this.clinicFor(req.clinicId ?? 1, req.countryCode);
      const sentAt = req.sentAt !== undefined ? Date.parse(req.sentAt) : now;
      const words = req.guid !== undefined ? parseGuid(req.guid) : seededGuidWords(this.outcomeRng);
      m = this.addMessage(words, clinic, req.segments ?? 1, sentAt, [], 0, req.guid ?? formatGuid(words[0], words[1], words[2], words[3]));
    }
    const full = this.priceOf(this.messages.countryOf(m)) * this.messages.segmentsOf(m);
    const receiptIds: string[] = [];
    for (const r of req.receipts) {
      const status = RECEIPT_STATUSES.indexOf(r.status);
      const chargeMicros = r.chargeUsd !== undefined ? parseUsdToMicros(r.chargeUsd) : r.status === 'failed_no_charge' ? 0 : full;
      const statusAt = r.statusAt !== undefined ? Date.parse(r.statusAt) : Math.max(now, this.messages.sentAtOf(m));
      receiptIds.push(this.receipts.ids.format(this.addReceipt(m, { status, chargeMicros, statusAt })));
    }
    return { guid: this.messages.guidOf(m), receiptIds };
  }

  /** Adds one patient reply; the charge defaults to the clinic's price x parts. */
  injectInbound(req: SimInbound): { inboundId: string } {
    const clinic = this.clinicFor(req.clinicId);
    const { segments } = countSegments(req.body);
    const charge = req.chargeUsd !== undefined ? parseUsdToMicros(req.chargeUsd) : this.priceOf(clinic.countryCode) * segments;
    const receivedAt = req.receivedAt !== undefined ? Date.parse(req.receivedAt) : this.now();
    const i = this.addInbound(clinic, req.fromPhone, req.body, segments, charge, receivedAt, 0, req.toPhone);
    return { inboundId: this.inbound.ids.format(i) };
  }

  // ---- truth and stats ------------------------------------------------------------------------

  /** GET /sim/truth: what the office's /status must show, per month in `zone` and clinic. */
  truth(zone: string): Truth {
    const now = this.now();
    const { receipts, inbound, messages } = this;
    receipts.queue.sweep(now);
    inbound.queue.sweep(now);
    function* receiptFacts(): Generator<ReceiptFact> {
      for (let i = 0; i < receipts.queue.size; i++) {
        if (receipts.isMalformed(i) || !receipts.queue.isLive(i, now)) continue;
        const m = receipts.msgOf(i);
        yield {
          guid: m,
          receiptId: receipts.ids.format(i),
          clinicId: messages.clinicOf(m),
          sentAt: messages.sentAtOf(m),
          statusAt: receipts.statusAtOf(i),
          chargeMicros: receipts.chargeOf(i),
        };
      }
    }
    function* inboundFacts(): Generator<InboundFact> {
      for (let i = 0; i < inbound.queue.size; i++) {
        if (inbound.isMalformed(i) || !inbound.queue.isLive(i, now)) continue;
        yield { clinicId: inbound.clinicOf(i), receivedAt: inbound.receivedAtOf(i), chargeMicros: inbound.chargeOf(i) };
      }
    }
    return computeTruth(receiptFacts(), inboundFacts(), zone, receipts.liveMalformed(now) + inbound.liveMalformed(now));
  }

  stats(): HqStats {
    const now = this.now();
    this.receipts.queue.sweep(now);
    this.inbound.queue.sweep(now);
    return {
      now: new Date(now).toISOString(),
      runTag: this.runTag,
      messages: this.messages.size,
      monthChargesUsd: formatMicros(this.chargesThisMonth()),
      receipts: this.receipts.queue.stats(),
      inbound: this.inbound.queue.stats(),
    };
  }
}
