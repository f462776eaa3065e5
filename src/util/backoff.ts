/**
 * Exponential backoff with full jitter (the AWS Architecture Blog's "full jitter": a random wait
 * between 0 and min(max, base * 2^failures)), plus an externally imposed "not before" instant for
 * a server's Retry-After. One instance guards one resource (an HQ endpoint, the database).
 * Instants passed in are on the monotonic clock (monotonicMs), never the wall clock.
 */
/**
 * Milliseconds on a monotonic clock (arbitrary origin). Waits are measured on it, so a wall-clock
 * jump (NTP, a manual change, a VM resumed) neither stretches nor skips one.
 */
export function monotonicMs(): number {
  return performance.now();
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private notBefore = 0;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    this.random = opts.random ?? Math.random;
  }

  /** Milliseconds to wait before the resource may be tried again (0: go ahead). */
  waitMs(now: number = monotonicMs()): number {
    return Math.max(0, this.notBefore - now);
  }

  /** Records a failure and returns the wait it imposes. */
  fail(now: number = monotonicMs()): number {
    this.failures += 1;
    const ceiling = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(this.failures - 1, 30));
    // Never less than the base: full jitter alone can draw 0 and hammer a struggling server.
    const wait = Math.max(this.opts.baseMs, Math.floor(this.random() * ceiling));
    this.notBefore = Math.max(this.notBefore, now + wait);
    return this.notBefore - now;
  }

  /** The server said when to come back (429 Retry-After, as a monotonic instant): honour it, never shorten an existing wait. */
  holdUntil(instantMs: number): void {
    this.notBefore = Math.max(this.notBefore, instantMs);
  }

  succeed(): void {
    this.failures = 0;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
