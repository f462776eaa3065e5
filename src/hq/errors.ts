/**
 * What can go wrong talking to HQ, by what the caller should do about it. Messages name the
 * endpoint and the kind of failure only: never a response body (it may carry patient data).
 */
export abstract class HqError extends Error {
  abstract readonly transient: boolean;
  constructor(message: string, readonly endpoint: string) {
    super(message);
  }
}

/** 5xx, reset or refused connection, timeout, or a 200 whose body is not the page's shape: try again later. */
export class HqUnavailableError extends HqError {
  override name = 'HqUnavailableError';
  readonly transient = true;
}

/** 429: HQ said when to come back. */
export class HqRateLimitedError extends HqError {
  override name = 'HqRateLimitedError';
  readonly transient = true;
  constructor(message: string, endpoint: string, readonly retryAfterMs: number) {
    super(message, endpoint);
  }
}

/** The endpoint is in backoff (after a failure or a 429): no request was made. */
export class HqBackoffError extends HqError {
  override name = 'HqBackoffError';
  readonly transient = true;
  constructor(endpoint: string, readonly waitMs: number) {
    super(`${endpoint}: waiting ${waitMs} ms before calling again (backoff)`, endpoint);
  }
}

/** A 4xx other than 429 (bad key, unknown clinic, …): repeating the same request will not help. */
export class HqRejectedError extends HqError {
  override name = 'HqRejectedError';
  readonly transient = false;
  constructor(message: string, endpoint: string, readonly status: number, readonly reason: string | null) {
    super(message, endpoint);
  }
}
