/**
 * Fault injection for /v1 requests (never /sim): the HQ misbehaviours of docs/hq-api.md's fault
 * table, drawn per request from a seeded PRNG so a fault sequence can be replayed.
 *
 * Time here is REAL (monotonic) time, not the mock clock: Retry-After, hangs and outages are
 * things a client measures with its own clock, and a test that advances the mock clock to expire
 * leases must not thereby end an outage or excuse a Retry-After violation.
 */
import { performance } from 'node:perf_hooks';
import { mulberry32, type Rng } from './prng';
import type { SimFaults } from './schemas';

export const FAULT_NAMES = ['http500', 'http503', 'http429', 'truncatedJson', 'hang', 'reset', 'lostAck', 'ackResponseLost'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** read: GET endpoints (a page or the account); ack: the two ack endpoints; write: POST /v1/messages. */
export type EndpointKind = 'read' | 'ack' | 'write';

const APPLIES: Record<FaultName, readonly EndpointKind[]> = {
  http500: ['read', 'ack', 'write'],
  http503: ['read', 'ack', 'write'],
  http429: ['read', 'ack', 'write'],
  truncatedJson: ['read'],
  hang: ['read', 'ack', 'write'],
  reset: ['read', 'ack', 'write'],
  lostAck: ['ack'],
  ackResponseLost: ['ack'],
};

export type FaultDecision =
  | { kind: 'http429'; retryAfterSeconds: number }
  /** A call inside a Retry-After window: counted as a violation and answered 429 again. */
  | { kind: 'retryAfterViolation'; retryAfterSeconds: number }
  | { kind: 'hang'; hangMs: number }
  | { kind: 'outage' }
  | { kind: Exclude<FaultName, 'http429' | 'hang'> };

export interface FaultSnapshot {
  rates: Partial<Record<FaultName, number>>;
  retryAfterSeconds: number;
  hangMs: number;
  outageRemainingMs: number;
  seed: number;
}

/**
 * How long after a 429 a request to the same endpoint over ANOTHER connection still counts as
 * already in flight: a client with several connections (parallel sends, several pollers) can have
 * written it before it read the 429, and on a loaded machine it can reach us late. Over the
 * connection that carried the 429 there is no such doubt (HTTP/1.1 without pipelining: the client
 * read the answer before it sent again), so any request there inside the window is a violation.
 */
export const IN_FLIGHT_GRACE_MS = 1000;

export class FaultInjector {
  private rates: Partial<Record<FaultName, number>> = {};
  private retryAfterSeconds = 1;
  private hangMs = 30_000;
  private outageUntil = 0;
  private seed: number;
  private rng: Rng;
  /** Per "METHOD /path": when (real ms) a 429 was answered, and until when the client must stay away. */
  private readonly retryUntil = new Map<string, { toldAt: number; until: number; connection: object | undefined }>();

  counts: Record<FaultName | 'outage', number> = FaultInjector.zeroCounts();
  violations = new Map<string, number>();

  constructor(
    seed = 1,
    private readonly realNow: () => number = () => performance.now(),
  ) {
    this.seed = seed >>> 0;
    this.rng = mulberry32(this.seed);
  }

  private static zeroCounts(): Record<FaultName | 'outage', number> {
    return { http500: 0, http503: 0, http429: 0, truncatedJson: 0, hang: 0, reset: 0, lostAck: 0, ackResponseLost: 0, outage: 0 };
  }

  /** Replaces the fault settings (`{}` clears them). Counters and announced Retry-After windows are kept. */
  configure(f: SimFaults): void {
    this.rates = { ...(f.rates ?? {}) };
    this.retryAfterSeconds = f.retryAfterSeconds ?? 1;
    this.hangMs = f.hangMs ?? 30_000;
    this.outageUntil = f.outageMs ? this.realNow() + f.outageMs : 0;
    if (f.seed !== undefined) this.seed = f.seed >>> 0;
    this.rng = mulberry32(this.seed);
    // Retry-After windows already announced stay in force: clearing faults does not un-tell a client.
  }

  /** Clears settings, counters and Retry-After windows (POST /sim/reset). */
  reset(): void {
    this.configure({});
    this.retryUntil.clear();
    this.counts = FaultInjector.zeroCounts();
    this.violations = new Map();
  }

  get retryAfterViolations(): number {
    let n = 0;
    for (const v of this.violations.values()) n += v;
    return n;
  }

  snapshot(): FaultSnapshot {
    return {
      rates: { ...this.rates },
      retryAfterSeconds: this.retryAfterSeconds,
      hangMs: this.hangMs,
      outageRemainingMs: Math.max(0, Math.ceil(this.outageUntil - this.realNow())),
      seed: this.seed,
    };
  }

  /**
   * Decides what, if anything, goes wrong with this /v1 request. `connection` is the request's
   * socket (any object that is the same for requests over one connection), or undefined if unknown.
   */
  decide(method: string, path: string, kind: EndpointKind, connection?: object): FaultDecision | null {
    const now = this.realNow();
    const endpoint = `${method} ${path}`;
    const told = this.retryUntil.get(endpoint);
    if (told !== undefined) {
      // A request over another connection that reaches us just after a 429 was answered may have
      // been on the wire before the client could read it: it did not call again after being told.
      const sameConnection = connection !== undefined && connection === told.connection;
      const mayBeInFlight = !sameConnection && now - told.toldAt < IN_FLIGHT_GRACE_MS;
      if (now < told.until && !mayBeInFlight) {
        this.violations.set(endpoint, (this.violations.get(endpoint) ?? 0) + 1);
        return { kind: 'retryAfterViolation', retryAfterSeconds: Math.max(1, Math.ceil((told.until - now) / 1000)) };
      }
      if (now >= told.until) this.retryUntil.delete(endpoint);
    }
    if (now < this.outageUntil) {
      this.counts.outage++;
      return { kind: 'outage' };
    }
    for (const name of FAULT_NAMES) {
      const rate = this.rates[name];
      if (!rate || !APPLIES[name].includes(kind)) continue;
      if (this.rng() >= rate) continue;
      this.counts[name]++;
      if (name === 'http429') {
        this.retryUntil.set(endpoint, { toldAt: now, until: now + this.retryAfterSeconds * 1000, connection });
        return { kind: 'http429', retryAfterSeconds: this.retryAfterSeconds };
      }
      if (name === 'hang') return { kind: 'hang', hangMs: this.hangMs };
      return { kind: name };
    }
    return null;
  }
}
