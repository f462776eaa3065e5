/**
 * The leased queue behind GET /v1/receipts and GET /v1/inbound (docs/hq-api.md, "What HQ promises about delivery
 * guarantees of HQ"). Pure: no HTTP, no timers; every operation is told the mock time.
 *
 * Items are plain indices 0..n-1 (the id's sequence number minus one); their payload lives in
 * the record tables, so this class only tracks where each item is in its life:
 *
 *   PENDING ──due──> AVAILABLE ──GET──> LEASED ──ack──> ACKED
 *                       ^  │              │
 *                       │  └─retention─>  EXPIRED (deleted for good)
 *                       └──lease runs out─┘
 *
 * Why three heaps rather than scanning: a GET page must cost O(page · log n) however many items
 * wait, so the benchmark can drain a million receipts. `available` is ordered by (ts, index),
 * i.e. oldest first, which also puts every item past retention at its top; `leases` is ordered by
 * lease expiry, so expired leases are found without looking at live ones; `pending` holds items
 * whose event (a receipt's statusAt) is still in the mock future. Entries that went stale (an
 * item acked while sitting in a heap) are skipped when popped instead of being searched for.
 */
import { IndexHeap } from './heap';

export const RETENTION_MS = 60 * 24 * 60 * 60 * 1000;

export const PENDING = 0;
export const AVAILABLE = 1;
export const LEASED = 2;
export const ACKED = 3;
export const EXPIRED = 4;

export interface QueueStats {
  /** Not yet at HQ (its event time is still in the mock future). */
  pending: number;
  /** Waiting to be handed out. */
  available: number;
  /** Handed out, lease still running (may lag retention by at most one lease). */
  leased: number;
  acked: number;
  /** Deleted by retention before being acknowledged. */
  expired: number;
  /** Items handed out by GETs, counting every redelivery. */
  served: number;
  /** Ack requests recorded. */
  ackCalls: number;
}

export class LeasedQueue {
  /** Ordering and retention key: sentAt (receipts) or receivedAt (inbound), epoch ms. */
  private ts = new Float64Array(1024);
  /** When the item reaches HQ: statusAt (receipts) or receivedAt (inbound). */
  private due = new Float64Array(1024);
  private leaseUntil = new Float64Array(1024);
  private state = new Uint8Array(1024);
  private n = 0;

  private readonly available = new IndexHeap((a, b) => {
    const ta = this.ts[a]!;
    const tb = this.ts[b]!;
    return ta < tb || (ta === tb && a < b);
  });
  private readonly leases = new IndexHeap((a, b) => {
    const la = this.leaseUntil[a]!;
    const lb = this.leaseUntil[b]!;
    return la < lb || (la === lb && a < b);
  });
  private readonly pendingHeap = new IndexHeap((a, b) => {
    const da = this.due[a]!;
    const db = this.due[b]!;
    return da < db || (da === db && a < b);
  });

  private nPending = 0;
  private nAvailable = 0;
  private nLeased = 0;
  private nAcked = 0;
  private nExpired = 0;
  private nServed = 0;
  private nAckCalls = 0;

  constructor(
    public leaseMs = 60_000,
    public readonly retentionMs = RETENTION_MS,
  ) {}

  /** Number of items ever added (the next index). */
  get size(): number {
    return this.n;
  }

  /** Grows the arrays once for a bulk load of `extra` items. */
  reserve(extra: number): void {
    const need = this.n + extra;
    if (need > this.ts.length) {
      let cap = this.ts.length;
      while (cap < need) cap *= 2;
      this.ts = grow(this.ts, new Float64Array(cap), this.n);
      this.due = grow(this.due, new Float64Array(cap), this.n);
      this.leaseUntil = grow(this.leaseUntil, new Float64Array(cap), this.n);
      this.state = grow(this.state, new Uint8Array(cap), this.n);
    }
    this.available.reserve(extra);
  }

  /** Adds an item; it becomes available at `due` (now, if `due` is not in the future). */
  add(ts: number, due: number, now: number): number {
    if (this.n === this.ts.length) this.reserve(1);
    const i = this.n++;
    this.ts[i] = ts;
    this.due[i] = due;
    this.leaseUntil[i] = 0;
    if (due <= now) {
      this.state[i] = AVAILABLE;
      this.available.push(i);
      this.nAvailable++;
    } else {
      this.state[i] = PENDING;
      this.pendingHeap.push(i);
      this.nPending++;
    }
    return i;
  }

  tsOf(i: number): number {
    return this.ts[i]!;
  }

  dueOf(i: number): number {
    return this.due[i]!;
  }

  stateOf(i: number): number {
    return this.state[i]!;
  }

  private pastRetention(i: number, now: number): boolean {
    return now - this.ts[i]! >= this.retentionMs;
  }

  /**
   * Brings the queue up to `now`: due pending items arrive, expired leases go back to be served,
   * and items past retention are deleted. Amortized O(changes · log n).
   */
  sweep(now: number): void {
    for (let i = this.pendingHeap.peek(); i >= 0 && this.due[i]! <= now; i = this.pendingHeap.peek()) {
      this.pendingHeap.pop();
      this.state[i] = AVAILABLE;
      this.nPending--;
      this.nAvailable++;
      this.available.push(i);
    }
    for (let i = this.leases.peek(); i >= 0 && this.leaseUntil[i]! <= now; i = this.leases.peek()) {
      this.leases.pop();
      if (this.state[i] !== LEASED) continue; // acked (or expired) while leased: stale entry
      this.state[i] = AVAILABLE;
      this.nLeased--;
      this.nAvailable++;
      this.available.push(i);
    }
    for (let i = this.available.peek(); i >= 0; i = this.available.peek()) {
      if (this.state[i] !== AVAILABLE) {
        this.available.pop(); // acked while waiting: stale entry
        continue;
      }
      if (!this.pastRetention(i, now)) break; // heap is ordered by ts: nothing older remains
      this.available.pop();
      this.state[i] = EXPIRED;
      this.nAvailable--;
      this.nExpired++;
    }
  }

  /** Leases up to `limit` items, oldest first, and returns their indices. */
  take(limit: number, now: number): number[] {
    this.sweep(now);
    const out: number[] = [];
    const until = now + this.leaseMs;
    while (out.length < limit) {
      const i = this.available.pop();
      if (i < 0) break;
      if (this.state[i] !== AVAILABLE) continue;
      this.state[i] = LEASED;
      this.leaseUntil[i] = until;
      this.leases.push(i);
      this.nAvailable--;
      this.nLeased++;
      out.push(i);
    }
    this.nServed += out.length;
    return out;
  }

  /** True when a GET right now could return something. */
  hasAvailable(now: number): boolean {
    this.sweep(now);
    return this.nAvailable > 0;
  }

  /**
   * Acknowledges items; returns how many were newly acked. Unknown indices, items already acked,
   * expired or not yet at HQ are ignored, so the call is idempotent.
   */
  ack(indices: Iterable<number>, now: number): number {
    this.sweep(now);
    this.nAckCalls++;
    let acked = 0;
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.n) continue;
      const s = this.state[i];
      if (s !== AVAILABLE && s !== LEASED) continue;
      if (s === AVAILABLE) this.nAvailable--;
      else this.nLeased--;
      if (this.pastRetention(i, now)) {
        // Only a leased item can get here (sweep removed the available ones): retention wins.
        this.state[i] = EXPIRED;
        this.nExpired++;
        continue;
      }
      this.state[i] = ACKED;
      this.nAcked++;
      acked++;
    }
    return acked;
  }

  /** How many of `indices` an ack would newly acknowledge, without recording anything (lostAck). */
  wouldAck(indices: Iterable<number>, now: number): number {
    this.sweep(now);
    let count = 0;
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.n) continue;
      const s = this.state[i];
      if ((s === AVAILABLE || s === LEASED) && !this.pastRetention(i, now)) count++;
    }
    return count;
  }

  /**
   * True when the item is acknowledged or still available at HQ (leased or not): what the office
   * has received or can still receive. Call sweep(now) first.
   */
  isLive(i: number, now: number): boolean {
    const s = this.state[i];
    if (s === ACKED || s === AVAILABLE) return true;
    return s === LEASED && !this.pastRetention(i, now);
  }

  stats(): QueueStats {
    return {
      pending: this.nPending,
      available: this.nAvailable,
      leased: this.nLeased,
      acked: this.nAcked,
      expired: this.nExpired,
      served: this.nServed,
      ackCalls: this.nAckCalls,
    };
  }
}

function grow<T extends Float64Array | Uint8Array>(from: T, to: T, n: number): T {
  to.set(from.subarray(0, n));
  return to;
}
