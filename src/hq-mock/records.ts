/**
 * Compact record tables for the mock's traffic, and their serialization to contract JSON.
 *
 * A million receipts as JS objects would cost ~150 bytes each plus GC time; here every field is a
 * column in a typed array (money as integer micro-dollars, times as epoch ms), indexed by the
 * item's index, and JSON is built only for the items a GET actually serves. Malformed items (a
 * handful) are the exception: they are kept verbatim as objects, since their whole point is to
 * break the shape.
 */
import { formatMicros } from '../money';
import { formatGuid, type IdCodec } from './ids';
import { ACKED, LeasedQueue } from './store';

export const RECEIPT_STATUSES = ['delivered', 'delivery_unconfirmed', 'failed_with_charge', 'failed_no_charge'] as const;
export const DELIVERED = 0;
export const DELIVERY_UNCONFIRMED = 1;
export const FAILED_WITH_CHARGE = 2;
export const FAILED_NO_CHARGE = 3;

/** Item flag: serve the valid item with unknown extra fields (clients must accept them). */
export const FLAG_EXTRA = 1;
/** Item flag: the item is malformed (served verbatim from the `malformed` map, never counted in usage). */
export const FLAG_MALFORMED = 2;

function growF64(a: Float64Array, cap: number, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a.subarray(0, n));
  return b;
}
function growI32(a: Int32Array, cap: number, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a.subarray(0, n));
  return b;
}
function growU8(a: Uint8Array, cap: number, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(cap);
  b.set(a.subarray(0, n));
  return b;
}
function growU32(a: Uint32Array, cap: number, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(cap);
  b.set(a.subarray(0, n));
  return b;
}
function nextCap(cap: number, need: number): number {
  while (cap < need) cap *= 2;
  return cap;
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00.000Z: from here on toISOString writes a six-digit year. */
const YEAR_10000_MS = 253_402_300_800_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let isoDay = NaN;
let isoDayPrefix = '';

/**
 * `new Date(ms).toISOString()`, the same text, without a Date and its formatting per timestamp: a
 * page of receipts has two per item, and they were most of the cost of serializing one. The day
 * ("2026-11-02T") is kept from the last call (a backlog is served oldest first, so neighbours share
 * it) and the time of day is arithmetic; anything outside whole milliseconds of years 1970 to 9999
 * goes to Date itself.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    isoDay = day;
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${isoDayPrefix}${PAD2[h]}:${PAD2[m]}:${PAD2[sec]}.${PAD3[rest - sec * 1000]}Z`;
}

const iso = isoTime;

/** A receipt's charge: "0" for no charge (as HQ writes it; any contract money string is fair), else formatMicros. */
const receiptCharge = (micros: number) => (micros === 0 ? '0' : formatMicros(micros));

/** Outbound messages: the part of a receipt that all receipts of one guid share. */
export class MessageTable {
  private words = new Uint32Array(4 * 1024);
  private clinic = new Int32Array(1024);
  private country = new Uint8Array(1024);
  private segs = new Int32Array(1024);
  private sent = new Float64Array(1024);
  private charge = new Float64Array(1024);
  /** Index of the message's final receipt so far (-1: none yet), kept as receipts are added. */
  private fin = new Int32Array(1024);
  private n = 0;
  /** Guids exactly as the office sent them (POST /v1/messages), so receipts echo them verbatim. */
  private readonly guidText = new Map<number, string>();
  private readonly countries: string[] = [];
  private readonly countryIdx = new Map<string, number>();

  get size(): number {
    return this.n;
  }

  reserve(extra: number): void {
    const need = this.n + extra;
    if (need <= this.clinic.length) return;
    const cap = nextCap(this.clinic.length, need);
    this.words = growU32(this.words, 4 * cap, 4 * this.n);
    this.clinic = growI32(this.clinic, cap, this.n);
    this.country = growU8(this.country, cap, this.n);
    this.segs = growI32(this.segs, cap, this.n);
    this.sent = growF64(this.sent, cap, this.n);
    this.charge = growF64(this.charge, cap, this.n);
    this.fin = growI32(this.fin, cap, this.n);
  }

  add(words: readonly number[], clinicId: number, countryCode: string, segments: number, sentAt: number, guidText?: string): number {
    if (this.n === this.clinic.length) this.reserve(1);
    const i = this.n++;
    this.words.set(words, 4 * i);
    this.clinic[i] = clinicId;
    this.country[i] = this.countryIndex(countryCode);
    this.segs[i] = segments;
    this.sent[i] = sentAt;
    this.charge[i] = 0;
    this.fin[i] = -1;
    if (guidText !== undefined) this.guidText.set(i, guidText);
    return i;
  }

  private countryIndex(code: string): number {
    let k = this.countryIdx.get(code);
    if (k === undefined) {
      k = this.countries.length;
      if (k > 255) throw new RangeError('too many distinct country codes');
      this.countries.push(code);
      this.countryIdx.set(code, k);
    }
    return k;
  }

  guidOf(i: number): string {
    const text = this.guidText.get(i);
    if (text !== undefined) return text;
    const w = this.words;
    return formatGuid(w[4 * i]!, w[4 * i + 1]!, w[4 * i + 2]!, w[4 * i + 3]!);
  }
  clinicOf(i: number): number {
    return this.clinic[i]!;
  }
  countryOf(i: number): string {
    return this.countries[this.country[i]!]!;
  }
  segmentsOf(i: number): number {
    return this.segs[i]!;
  }
  sentAtOf(i: number): number {
    return this.sent[i]!;
  }
  /** The message's charge as HQ bills it (its final valid receipt's charge; 0 before any). */
  finalChargeOf(i: number): number {
    return this.charge[i]!;
  }
  finalReceiptOf(i: number): number {
    return this.fin[i]!;
  }
  setFinal(i: number, receiptIdx: number, micros: number): void {
    this.fin[i] = receiptIdx;
    this.charge[i] = micros;
  }
}

/** What receipts and inbound share: a leased queue, an id codec, flags and verbatim malformed items. */
abstract class Stream {
  readonly queue: LeasedQueue;
  protected flags = new Uint8Array(1024);
  /** Malformed items by index, served verbatim. */
  readonly malformed = new Map<number, Record<string, unknown>>();
  /** Malformed items whose id is not of the codec's form (a hostile id: too long, a NUL), by that id: they can be acked too. */
  private readonly foreignIds = new Map<string, number>();

  constructor(
    readonly ids: IdCodec,
    leaseMs: number,
  ) {
    this.queue = new LeasedQueue(leaseMs);
  }

  protected abstract growColumns(cap: number, n: number): void;
  protected abstract itemJson(i: number): string;
  protected abstract readonly pageKey: string;

  reserve(extra: number): void {
    const n = this.queue.size;
    const need = n + extra;
    if (need > this.flags.length) {
      const cap = nextCap(this.flags.length, need);
      this.flags = growU8(this.flags, cap, n);
      this.growColumns(cap, n);
    }
    this.queue.reserve(extra);
  }

  /** Allocates the next index, making sure every column has room for it. */
  protected nextIndex(): number {
    if (this.queue.size >= this.flags.length) this.reserve(1);
    return this.queue.size;
  }

  /**
   * Adds a malformed item. `build` gets the id the item would have (it may leave it out: some
   * malformed items have no id at all, so they can never be acked and come back until retention).
   */
  addMalformed(ts: number, due: number, now: number, build: (id: string) => Record<string, unknown>): number {
    const i = this.nextIndex();
    this.flags[i] = FLAG_MALFORMED;
    this.clearColumns(i);
    this.queue.add(ts, due, now);
    const item = build(this.ids.format(i));
    this.malformed.set(i, item);
    const id = item.receiptId ?? item.inboundId;
    if (typeof id === 'string' && id !== this.ids.format(i)) this.foreignIds.set(id, i);
    return i;
  }

  protected abstract clearColumns(i: number): void;

  isMalformed(i: number): boolean {
    return (this.flags[i]! & FLAG_MALFORMED) !== 0;
  }

  /** Serializes one item as served. */
  toJson(i: number): string {
    const raw = this.malformed.get(i);
    return raw ? JSON.stringify(raw) : this.itemJson(i);
  }

  /** Leases up to `limit` items and serializes the page: `{"<key>":[...],"more":bool}`. */
  page(limit: number, now: number): { json: string; count: number } {
    const taken = this.queue.take(limit, now);
    const parts = new Array<string>(taken.length);
    for (let k = 0; k < taken.length; k++) parts[k] = this.toJson(taken[k]!);
    const more = this.queue.hasAvailable(now);
    return { json: `{"${this.pageKey}":[${parts.join(',')}],"more":${more}}`, count: taken.length };
  }

  /** Acks by id; ids that are not this run's are ignored. Returns the number newly acked. */
  ack(ids: readonly string[], now: number): number {
    return this.queue.ack(this.indicesOf(ids), now);
  }

  /** What an ack would report, recording nothing (the lostAck fault). */
  wouldAck(ids: readonly string[], now: number): number {
    return this.queue.wouldAck(this.indicesOf(ids), now);
  }

  private indicesOf(ids: readonly string[]): Set<number> {
    const out = new Set<number>();
    for (const id of ids) {
      const i = this.ids.parse(id);
      if (i >= 0 && i < this.queue.size) out.add(i);
      else if (this.foreignIds.size > 0) {
        const j = this.foreignIds.get(id);
        if (j !== undefined) out.add(j);
      }
    }
    return out;
  }

  /** The ids of every item acknowledged so far (malformed ones with an id included): what the office promised to have stored. */
  ackedIds(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.queue.size; i++) if (this.queue.stateOf(i) === ACKED) out.push(this.ids.format(i));
    return out;
  }

  /** Distinct malformed items the office has received or can still receive. */
  liveMalformed(now: number): number {
    this.queue.sweep(now);
    let count = 0;
    for (const i of this.malformed.keys()) if (this.queue.isLive(i, now)) count++;
    return count;
  }
}

export class ReceiptStream extends Stream {
  protected readonly pageKey = 'receipts';
  private msg = new Int32Array(1024);
  private status = new Uint8Array(1024);
  private charge = new Float64Array(1024);

  constructor(
    readonly messages: MessageTable,
    ids: IdCodec,
    leaseMs: number,
  ) {
    super(ids, leaseMs);
  }

  protected growColumns(cap: number, n: number): void {
    this.msg = growI32(this.msg, cap, n);
    this.status = growU8(this.status, cap, n);
    this.charge = growF64(this.charge, cap, n);
  }

  protected clearColumns(i: number): void {
    this.msg[i] = -1;
    this.status[i] = 0;
    this.charge[i] = 0;
  }

  /** Adds a valid receipt of message `msgIdx`; it reaches HQ at `statusAt`. */
  add(msgIdx: number, status: number, chargeMicros: number, statusAt: number, now: number, flags = 0): number {
    const i = this.nextIndex();
    this.msg[i] = msgIdx;
    this.status[i] = status;
    this.charge[i] = chargeMicros;
    this.flags[i] = flags;
    this.queue.add(this.messages.sentAtOf(msgIdx), statusAt, now);
    return i;
  }

  msgOf(i: number): number {
    return this.msg[i]!;
  }
  statusOf(i: number): number {
    return this.status[i]!;
  }
  chargeOf(i: number): number {
    return this.charge[i]!;
  }
  statusAtOf(i: number): number {
    return this.queue.dueOf(i);
  }

  protected itemJson(i: number): string {
    const m = this.msg[i]!;
    const ms = this.messages;
    let s =
      `{"receiptId":"${this.ids.format(i)}","guid":"${ms.guidOf(m)}","clinicId":${ms.clinicOf(m)},` +
      `"status":"${RECEIPT_STATUSES[this.status[i]!]}","chargeUsd":"${receiptCharge(this.charge[i]!)}",` +
      `"segments":${ms.segmentsOf(m)},"countryCode":"${ms.countryOf(m)}",` +
      `"sentAt":"${iso(ms.sentAtOf(m))}","statusAt":"${iso(this.queue.dueOf(i))}"`;
    if (this.flags[i]! & FLAG_EXTRA) s += `,"carrier":"mock-mobile","hq":{"region":"us-west","trace":"t${i}"}`;
    return s + '}';
  }
}

/** A small intern table for inbound bodies: generated replies repeat, so each text is kept once. */
class BodyTable {
  private readonly texts: string[] = [];
  private readonly json: string[] = [];
  private readonly index = new Map<string, number>();

  intern(body: string): number {
    let k = this.index.get(body);
    if (k === undefined) {
      k = this.texts.length;
      this.texts.push(body);
      this.json.push(JSON.stringify(body));
      this.index.set(body, k);
    }
    return k;
  }
  text(k: number): string {
    return this.texts[k]!;
  }
  jsonOf(k: number): string {
    return this.json[k]!;
  }
}

export class InboundStream extends Stream {
  protected readonly pageKey = 'messages';
  private clinic = new Int32Array(1024);
  /** E.164 numbers stored as their digits (at most 15, exact in a double). */
  private fromPhone = new Float64Array(1024);
  private toPhone = new Float64Array(1024);
  private body = new Int32Array(1024);
  private charge = new Float64Array(1024);
  private segs = new Int32Array(1024);
  readonly bodies = new BodyTable();

  protected growColumns(cap: number, n: number): void {
    this.clinic = growI32(this.clinic, cap, n);
    this.fromPhone = growF64(this.fromPhone, cap, n);
    this.toPhone = growF64(this.toPhone, cap, n);
    this.body = growI32(this.body, cap, n);
    this.charge = growF64(this.charge, cap, n);
    this.segs = growI32(this.segs, cap, n);
  }

  protected clearColumns(i: number): void {
    this.clinic[i] = 0;
    this.fromPhone[i] = 0;
    this.toPhone[i] = 0;
    this.body[i] = -1;
    this.charge[i] = 0;
    this.segs[i] = 0;
  }

  /** Adds a valid inbound message; phones are E.164 strings. */
  add(
    clinicId: number,
    fromPhone: string,
    toPhone: string,
    bodyKey: number,
    segments: number,
    chargeMicros: number,
    receivedAt: number,
    now: number,
    flags = 0,
  ): number {
    const i = this.nextIndex();
    this.clinic[i] = clinicId;
    this.fromPhone[i] = Number(fromPhone.slice(1));
    this.toPhone[i] = Number(toPhone.slice(1));
    this.body[i] = bodyKey;
    this.segs[i] = segments;
    this.charge[i] = chargeMicros;
    this.flags[i] = flags;
    this.queue.add(receivedAt, receivedAt, now);
    return i;
  }

  clinicOf(i: number): number {
    return this.clinic[i]!;
  }
  chargeOf(i: number): number {
    return this.charge[i]!;
  }
  receivedAtOf(i: number): number {
    return this.queue.tsOf(i);
  }

  protected itemJson(i: number): string {
    let s =
      `{"inboundId":"${this.ids.format(i)}","clinicId":${this.clinic[i]!},` +
      `"fromPhone":"+${this.fromPhone[i]!}","toPhone":"+${this.toPhone[i]!}",` +
      `"body":${this.bodies.jsonOf(this.body[i]!)},"receivedAt":"${iso(this.queue.tsOf(i))}",` +
      `"chargeUsd":"${formatMicros(this.charge[i]!)}","segments":${this.segs[i]!}`;
    if (this.flags[i]! & FLAG_EXTRA) s += `,"carrier":"mock-mobile","keyword":null`;
    return s + '}';
  }
}
