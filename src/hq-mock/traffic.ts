/**
 * Traffic generation: what receipts a sent message gets, and bulk backlogs of messages, replies
 * and malformed items. Deterministic given a seed, so a failing test can be replayed.
 *
 * The generator only decides; it writes through a TrafficSink (the HQ state), which keeps this
 * file free of storage details and lets the same receipt plan serve POST /v1/messages, bulk
 * backlogs and the demo trickle alike.
 */
import { OUTBOUND_SEGMENT_WEIGHTS, REPLY_BODIES, REPLY_SEGMENTS, REPLY_WEIGHTS, type Clinic } from './catalog';
import { formatGuid, seededGuidWords } from './ids';
import { mulberry32, pickWeighted, randInt, type Rng } from './prng';
import { DELIVERED, DELIVERY_UNCONFIRMED, FAILED_NO_CHARGE, FAILED_WITH_CHARGE, FLAG_EXTRA, RECEIPT_STATUSES } from './records';

/** Relative weights of what happens to a sent text. */
export interface OutcomeWeights {
  /** One `delivered` receipt. */
  delivered: number;
  /** `delivery_unconfirmed`, later `delivered` (both charged; served in either order). */
  unconfirmedThenDelivered: number;
  /** Two receipts with the SAME statusAt (`delivery_unconfirmed` charged, `failed_no_charge` "0"): the greater receiptId wins. */
  tie: number;
  failedWithCharge: number;
  /** Carrier refused it at once: charge "0". */
  failedNoCharge: number;
}

export const DEFAULT_OUTCOMES: Readonly<OutcomeWeights> = Object.freeze({
  delivered: 0.8,
  unconfirmedThenDelivered: 0.08,
  tie: 0.01,
  failedWithCharge: 0.05,
  failedNoCharge: 0.06,
});

export interface PlannedReceipt {
  status: number;
  chargeMicros: number;
  statusAt: number;
}

/**
 * The receipts one message gets, in the order HQ will number them. `firstAt` is when the first
 * status arrives, `laterBy` how much later a second one does.
 */
export function planReceipts(rng: Rng, w: OutcomeWeights, firstAt: number, laterBy: number, fullCharge: number): PlannedReceipt[] {
  const k = pickWeighted(rng, [w.delivered, w.unconfirmedThenDelivered, w.tie, w.failedWithCharge, w.failedNoCharge]);
  switch (k) {
    case 1: {
      const a = { status: DELIVERY_UNCONFIRMED, chargeMicros: fullCharge, statusAt: firstAt };
      const b = { status: DELIVERED, chargeMicros: fullCharge, statusAt: firstAt + laterBy };
      // "They may arrive in any order": now and then the final one gets the smaller receiptId.
      return rng() < 0.3 ? [b, a] : [a, b];
    }
    case 2: {
      const a = { status: DELIVERY_UNCONFIRMED, chargeMicros: fullCharge, statusAt: firstAt };
      const b = { status: FAILED_NO_CHARGE, chargeMicros: 0, statusAt: firstAt };
      return rng() < 0.5 ? [b, a] : [a, b];
    }
    case 3:
      return [{ status: FAILED_WITH_CHARGE, chargeMicros: fullCharge, statusAt: firstAt }];
    case 4:
      return [{ status: FAILED_NO_CHARGE, chargeMicros: 0, statusAt: firstAt }];
    default:
      return [{ status: DELIVERED, chargeMicros: fullCharge, statusAt: firstAt }];
  }
}

/** Where generated traffic goes (implemented by HqState). */
export interface TrafficSink {
  now(): number;
  outcomes(): OutcomeWeights;
  /** Clinics that traffic may name, with weights (account clinics, plus one not in the account). */
  trafficClinics(): { clinics: Clinic[]; weights: number[] };
  priceOf(countryCode: string): number;
  reserve(messages: number, receipts: number, inbound: number): void;
  addMessage(words: readonly number[], clinic: Clinic, segments: number, sentAt: number, plan: PlannedReceipt[], flags?: number): number;
  addInbound(clinic: Clinic, fromPhone: string, body: string, segments: number, chargeMicros: number, receivedAt: number, flags?: number): number;
  addMalformedReceipt(sentAt: number, statusAt: number, build: (id: string) => Record<string, unknown>): void;
  addMalformedInbound(receivedAt: number, build: (id: string) => Record<string, unknown>): void;
}

export interface TrafficRequest {
  messages: number;
  inbound: number;
  from: number;
  to: number;
  seed: number;
  malformed: number;
  /** Share of valid items served with unknown extra fields. */
  extraFieldRate?: number;
}

export interface TrafficResult {
  messages: number;
  receipts: number;
  inbound: number;
  malformed: { receipts: number; inbound: number; withoutId: number };
  withExtraFields: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A plausible patient number: the clinic's country prefix and area code, a 555 exchange. */
export function patientPhone(rng: Rng, clinic: Clinic): string {
  const area = clinic.primaryPhone.startsWith('+1') ? clinic.primaryPhone.slice(2, 5) : '503';
  const prefix = clinic.primaryPhone.startsWith('+44') ? '+447700' : `+1${area}555`;
  return prefix + String(randInt(rng, 0, 9999)).padStart(4, '0');
}

/** Sorted uniform instants in [from, to): sorting makes bulk inserts into the queues O(1) each. */
function sortedInstants(rng: Rng, count: number, from: number, to: number): Float64Array {
  const out = new Float64Array(count);
  const span = Math.max(0, to - from);
  for (let k = 0; k < count; k++) out[k] = from + Math.floor(rng() * span);
  return out.sort();
}

export function generateTraffic(sink: TrafficSink, req: TrafficRequest): TrafficResult {
  const rng = mulberry32(req.seed);
  const extraRate = req.extraFieldRate ?? 0.05;
  const { clinics, weights } = sink.trafficClinics();
  const outcomes = sink.outcomes();
  const result: TrafficResult = {
    messages: 0,
    receipts: 0,
    inbound: 0,
    malformed: { receipts: 0, inbound: 0, withoutId: 0 },
    withExtraFields: 0,
  };
  const malformedReceipts = Math.ceil(req.malformed / 2);
  const malformedInbound = req.malformed - malformedReceipts;
  sink.reserve(req.messages, Math.ceil(req.messages * 1.1) + malformedReceipts, req.inbound + malformedInbound);

  const sentAts = sortedInstants(rng, req.messages, req.from, req.to);
  for (let k = 0; k < req.messages; k++) {
    const sentAt = sentAts[k]!;
    const clinic = clinics[pickWeighted(rng, weights)]!;
    const segments = pickWeighted(rng, OUTBOUND_SEGMENT_WEIGHTS);
    const plan = planReceipts(rng, outcomes, sentAt + randInt(rng, 3 * SECOND, 5 * MINUTE), randInt(rng, MINUTE, 6 * 60 * MINUTE), sink.priceOf(clinic.countryCode) * segments);
    const extra = rng() < extraRate ? FLAG_EXTRA : 0;
    sink.addMessage(seededGuidWords(rng), clinic, segments, sentAt, plan, extra);
    result.messages++;
    result.receipts += plan.length;
    if (extra) result.withExtraFields += plan.length;
  }

  const receivedAts = sortedInstants(rng, req.inbound, req.from, req.to);
  for (let k = 0; k < req.inbound; k++) {
    const clinic = clinics[pickWeighted(rng, weights)]!;
    const b = pickWeighted(rng, REPLY_WEIGHTS);
    const segments = REPLY_SEGMENTS[b]!;
    const extra = rng() < extraRate ? FLAG_EXTRA : 0;
    sink.addInbound(clinic, patientPhone(rng, clinic), REPLY_BODIES[b]!, segments, sink.priceOf(clinic.countryCode) * segments, receivedAts[k]!, extra);
    result.inbound++;
    if (extra) result.withExtraFields++;
  }

  for (let j = 0; j < malformedReceipts; j++) {
    const clinic = clinics[pickWeighted(rng, weights)]!;
    const sentAt = req.from + Math.floor(rng() * Math.max(0, req.to - req.from));
    const statusAt = sentAt + randInt(rng, 3 * SECOND, 5 * MINUTE);
    const words = seededGuidWords(rng);
    const kind = malformedKind(j);
    if (kind === 'noId') result.malformed.withoutId++;
    sink.addMalformedReceipt(sentAt, statusAt, (id) =>
      breakReceipt(kind, {
        receiptId: id,
        guid: formatGuid(words[0], words[1], words[2], words[3]),
        clinicId: clinic.clinicId,
        status: RECEIPT_STATUSES[DELIVERED],
        chargeUsd: '0.0079',
        segments: 1,
        countryCode: clinic.countryCode,
        sentAt: new Date(sentAt).toISOString(),
        statusAt: new Date(statusAt).toISOString(),
      }),
    );
    result.malformed.receipts++;
  }
  for (let j = 0; j < malformedInbound; j++) {
    const clinic = clinics[pickWeighted(rng, weights)]!;
    const receivedAt = req.from + Math.floor(rng() * Math.max(0, req.to - req.from));
    const kind = malformedKind(j);
    if (kind === 'noId') result.malformed.withoutId++;
    const from = patientPhone(rng, clinic);
    sink.addMalformedInbound(receivedAt, (id) =>
      breakInbound(kind, {
        inboundId: id,
        clinicId: clinic.clinicId,
        fromPhone: from,
        toPhone: clinic.primaryPhone,
        body: 'Yes, see you then',
        receivedAt: new Date(receivedAt).toISOString(),
        chargeUsd: '0.0079',
        segments: 1,
      }),
    );
    result.malformed.inbound++;
  }
  return result;
}

type MalformedKind = 'moneyExponent' | 'badStatus' | 'missingField' | 'wrongType' | 'noId' | 'moneyNegative' | 'moneyText' | 'missingOther';
const KINDS: readonly MalformedKind[] = ['moneyExponent', 'badStatus', 'missingField', 'wrongType', 'noId', 'moneyNegative', 'moneyText', 'missingOther'];

/**
 * The j-th malformed item of a stream; at most one per stream has no id (it can never be acked, so
 * it comes back after every lease until retention deletes it). Kinds cycle in KINDS order, so
 * `malformed: 4` gives each stream the first two kinds and no id-less item. For inbound, which
 * has no status, 'badStatus' makes clinicId a string and 'missingOther' drops the body; for
 * receipts 'missingOther' drops clinicId.
 */
function malformedKind(j: number): MalformedKind {
  const kind = KINDS[j % KINDS.length]!;
  return kind === 'noId' && j >= KINDS.length ? 'wrongType' : kind;
}

function breakReceipt(kind: MalformedKind, r: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case 'moneyExponent':
      r.chargeUsd = '1e-3';
      break;
    case 'badStatus':
      r.status = 'lost';
      break;
    case 'missingField':
      delete r.statusAt;
      break;
    case 'wrongType':
      r.segments = '2';
      break;
    case 'noId':
      delete r.receiptId;
      break;
    case 'moneyNegative':
      r.chargeUsd = '-0.01';
      break;
    case 'moneyText':
      r.chargeUsd = 'abc';
      break;
    case 'missingOther':
      delete r.clinicId;
      break;
  }
  return r;
}

function breakInbound(kind: MalformedKind, m: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case 'moneyExponent':
      m.chargeUsd = '1e-3';
      break;
    case 'badStatus':
      m.clinicId = '2'; // inbound has no status: a wrongly typed clinicId instead
      break;
    case 'missingField':
      delete m.receivedAt;
      break;
    case 'wrongType':
      m.segments = '2';
      break;
    case 'noId':
      delete m.inboundId;
      break;
    case 'moneyNegative':
      m.chargeUsd = '-0.01';
      break;
    case 'moneyText':
      m.chargeUsd = 'abc';
      break;
    case 'missingOther':
      delete m.body;
      break;
  }
  return m;
}
