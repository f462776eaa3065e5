/**
 * The HQ client: one place for timeouts, backoff with jitter, Retry-After and response-shape checks.
 *
 * Each endpoint (method + path) has its own Backoff gate. A 5xx, a network error, a timeout or a
 * body that is not the expected shape closes the gate for an exponentially growing, jittered wait;
 * a 429 closes it until Retry-After has passed. While a gate is closed, calls fail fast with
 * HqBackoffError and make no request, so no endpoint is ever called again sooner than HQ asked.
 * GETs are not retried in-call (the next scheduled poll is the retry); acknowledgements are,
 * within a budget, because an unacknowledged page is handed out again when its lease ends.
 */
import { Backoff, monotonicMs, sleep } from '../util/backoff';
import { HqBackoffError, HqError, HqRateLimitedError, HqRejectedError, HqUnavailableError } from './errors';
import { BodyTooLargeError, HttpTransport, type HttpAnswer } from './http-transport';
import { ackAnswerSchema, inboundPageSchema, parserFor, postMessageAnswerSchema, receiptsPageSchema, type PostMessageAnswer } from './schemas';
import type { HqStream } from '../texting/streams';


export interface HqClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  backoff: { baseMs: number; maxMs: number };
  /** How long ack() keeps retrying before giving up (the lease is 60 s; the items come back after it). */
  ackBudgetMs?: number;
  /** Largest response body read, in bytes (default 16 MiB): a bigger one is a transient bad body. */
  maxBodyBytes?: number;
  /** The monotonic clock every wait is measured on (default monotonicMs). */
  now?: () => number;
  /** The wall clock, only to read a Retry-After given as an HTTP date (default Date.now). */
  wallNow?: () => number;
  random?: () => number;
  /** Called for every request with its outcome, for metrics and debug logs. */
  onRequest?: (event: { endpoint: string; outcome: string; status: number | null; durationMs: number }) => void;
}

export interface Page {
  items: unknown[];
  more: boolean;
  /**
   * The body as HQ sent it. Kept (one flat string) instead of the parsed items, so that an item
   * the database later refuses can still be quarantined verbatim (src/ingest/drain.ts).
   */
  text?: string;
}

/** Validates a decoded JSON body (`text` is the body as received); returns null when it is not of the expected shape. */
export type BodyParser<T> = (body: unknown, text: string) => T | null;

const parseReceiptsPage = parserFor(receiptsPageSchema);
const parseInboundPage = parserFor(inboundPageSchema);
const parseAckAnswer = parserFor(ackAnswerSchema);
const parsePostMessageAnswer = parserFor(postMessageAnswerSchema);

/** POST /v1/messages request (docs/hq-api.md). */
export interface OutboundText {
  guid: string;
  clinicId: number;
  toPhone: string;
  body: string;
}

const STREAM_PATHS: Record<HqStream, { page: string; ack: string; idsKey: string; parsePage: BodyParser<Page> }> = {
  receipts: {
    page: '/v1/receipts', ack: '/v1/receipts/ack', idsKey: 'receiptIds',
    parsePage: (body, text) => { const p = parseReceiptsPage(body); return p && { items: p.receipts, more: p.more, text }; },
  },
  inbound: {
    page: '/v1/inbound', ack: '/v1/inbound/ack', idsKey: 'inboundIds',
    parsePage: (body, text) => { const p = parseInboundPage(body); return p && { items: p.messages, more: p.more, text }; },
  },
};

export const MAX_ACK_IDS = 1000;
/** Added to every Retry-After: HQ measures on its clock, and arriving a hair early is a violation. */
const RETRY_AFTER_MARGIN_MS = 100;
/** The longest wait a Retry-After can impose: an hour. A longer one (or a date years away) is HQ's mistake, not a reason to stop for good. */
export const MAX_RETRY_AFTER_MS = 3_600_000;
/** A page of 1,000 items is well under a megabyte; 16 MiB leaves room for any honest answer. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Milliseconds to wait from a Retry-After header: delay-seconds ("120") or an HTTP date
 * ("Wed, 21 Oct 2026 07:28:00 GMT", measured against the wall clock `wallNow`), clamped to
 * [0, MAX_RETRY_AFTER_MS]; null when the header is absent or neither form.
 */
export function parseRetryAfter(header: string | null, wallNow: number): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Math.ceil(Number(trimmed) * 1000);
  else {
    // An HTTP date names its day and time ("Wed, 21 Oct 2026 07:28:00 GMT"); a bare or negative number is not one.
    if (!/^[A-Za-z]{3}.*\d{1,2}:\d{2}:\d{2}/.test(trimmed)) return null;
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return null;
    ms = date - wallNow;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export class HqClient {
  private readonly gates = new Map<string, Backoff>();
  private readonly transport = new HttpTransport();
  private readonly now: () => number;

  private readonly wallNow: () => number;

  constructor(private readonly opts: HqClientOptions) {
    this.now = opts.now ?? monotonicMs;
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** Milliseconds until the endpoint may be called again (0 when it may be called now). */
  waitMs(method: string, path: string): number {
    return this.gate(`${method} ${path}`).waitMs(this.now());
  }

  async getAccount<T>(parse: BodyParser<T>, signal?: AbortSignal): Promise<T> {
    return this.request('GET', '/v1/account', undefined, parse, signal);
  }

  /** One page of at most `limit` items: a page with more than were asked for is not of the page's shape. */
  async getPage(stream: HqStream, limit: number, signal?: AbortSignal): Promise<Page> {
    const paths = STREAM_PATHS[stream];
    const parse: BodyParser<Page> = (body, text) => {
      const page = paths.parsePage(body, text);
      return page !== null && page.items.length <= limit ? page : null;
    };
    return this.request('GET', paths.page, undefined, parse, signal, `?limit=${limit}`);
  }

  /**
   * Acknowledges ids (in requests of at most 1000), retrying transient failures with backoff until
   * `ackBudgetMs` has passed or `signal` aborts. Returns HQ's count of newly acknowledged ids.
   */
  async ack(stream: HqStream, ids: readonly string[], signal?: AbortSignal): Promise<number> {
    const paths = STREAM_PATHS[stream];
    const deadline = this.now() + (this.opts.ackBudgetMs ?? 45_000);
    let acked = 0;
    for (let i = 0; i < ids.length; i += MAX_ACK_IDS) {
      const body = { [paths.idsKey]: ids.slice(i, i + MAX_ACK_IDS) };
      for (;;) {
        try {
          acked += (await this.request('POST', paths.ack, body, parseAckAnswer, signal)).acked;
          break;
        } catch (err) {
          if (!(err instanceof HqError) || !err.transient) throw err;
          const wait = this.waitMs('POST', paths.ack);
          if (this.now() + wait > deadline) throw err;
          await sleep(Math.max(wait, 1), signal);
        }
      }
    }
    return acked;
  }

  /**
   * Sends one text (POST /v1/messages). Idempotent by guid at HQ: sending the same message again
   * answers 200 with the first answer. Throws HqRejectedError for a final refusal (400, 402, 403,
   * 404, 409) and a transient HqError (5xx, 429, timeout, backoff) for what a retry may fix. No
   * retry in-call: the send worker's job retries, with backoff. A refusal of one message (its
   * clinic, its content, the monthly limit) does not slow the others down: each is refused at
   * once. A bad key (401) does, since every send would fail the same way until it is fixed.
   */
  async sendMessage(text: OutboundText, signal?: AbortSignal): Promise<PostMessageAnswer> {
    return this.request('POST', '/v1/messages', text, parsePostMessageAnswer, signal, '', {
      failGateOnReject: (status) => status === 401,
    });
  }

  private gate(endpoint: string): Backoff {
    let gate = this.gates.get(endpoint);
    if (!gate) {
      gate = new Backoff({ ...this.opts.backoff, random: this.opts.random });
      this.gates.set(endpoint, gate);
    }
    return gate;
  }

  private async request<T>(
    method: 'GET' | 'POST', path: string, body: unknown, parse: BodyParser<T>, signal?: AbortSignal, query = '',
    opts: { failGateOnReject?: (status: number) => boolean } = {},
  ): Promise<T> {
    const endpoint = `${method} ${path}`;
    const gate = this.gate(endpoint);
    const wait = gate.waitMs(this.now());
    if (wait > 0) throw new HqBackoffError(endpoint, wait);

    const started = this.now();
    const report = (outcome: string, status: number | null): void =>
      this.opts.onRequest?.({ endpoint, outcome, status, durationMs: this.now() - started });
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;

    let response: HttpAnswer;
    try {
      // A redirect is not followed (the transport refuses it): the key would go along to wherever it points.
      response = await this.transport.request(`${this.opts.baseUrl}${path}${query}`, method, {
        authorization: `Bearer ${this.opts.apiKey}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      }, body === undefined ? undefined : JSON.stringify(body), combined, this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err; // shutting down: not HQ's fault
      const timedOut = timeout.aborted;
      const tooLarge = err instanceof BodyTooLargeError;
      report(timedOut ? 'timeout' : tooLarge ? 'bad_body' : 'network_error', null);
      const waitMs = gate.fail(this.now());
      const what = timedOut ? `no whole answer within ${this.opts.timeoutMs} ms`
        : tooLarge ? `a ${err.message}` : `connection failed (${describeNetworkError(err)})`;
      throw new HqUnavailableError(`${endpoint}: ${what}; next try in ${waitMs} ms`, endpoint);
    }

    const { status, text } = response;
    if (status === 429) {
      const retryAfter = parseRetryAfter(response.header('retry-after'), this.wallNow());
      report('rate_limited', status);
      if (retryAfter === null) gate.fail(this.now());
      else gate.holdUntil(this.now() + retryAfter + RETRY_AFTER_MARGIN_MS);
      const waitMs = gate.waitMs(this.now());
      throw new HqRateLimitedError(`${endpoint}: HQ answered 429; next try in ${waitMs} ms`, endpoint, waitMs);
    }
    if (status >= 500) {
      report('server_error', status);
      const waitMs = gate.fail(this.now());
      throw new HqUnavailableError(`${endpoint}: HQ answered ${status}; next try in ${waitMs} ms`, endpoint);
    }
    if (status >= 400) {
      report('rejected', status);
      // Repeating a rejected request will not help, but a fixed key or setting might: slow down.
      if (opts.failGateOnReject?.(status) ?? true) gate.fail(this.now());
      const reason = errorCode(text);
      const hint = status === 401 ? ' (check HQ_API_KEY)' : '';
      throw new HqRejectedError(`${endpoint}: HQ answered ${status}${reason ? ` ${reason}` : ''}${hint}`, endpoint, status, reason);
    }

    let decoded: unknown;
    try {
      decoded = JSON.parse(text);
    } catch {
      report('bad_body', status);
      const waitMs = gate.fail(this.now());
      throw new HqUnavailableError(`${endpoint}: HQ answered ${status} with a body that is not JSON; next try in ${waitMs} ms`, endpoint);
    }
    const parsed = parse(decoded, text);
    if (parsed === null) {
      report('bad_body', status);
      const waitMs = gate.fail(this.now());
      throw new HqUnavailableError(`${endpoint}: HQ answered ${status} with a body not of the expected shape; next try in ${waitMs} ms`, endpoint);
    }
    report('ok', status);
    gate.succeed();
    return parsed;
  }
}

/** HQ's machine-readable error code, if its error body has one (never the whole body). */
function errorCode(text: string): string | null {
  try {
    const value = (JSON.parse(text) as Record<string, unknown>)?.error;
    return typeof value === 'string' && /^[a-z0-9_]{1,64}$/i.test(value) ? value : null;
  } catch {
    return null;
  }
}

/** A network error's code (ECONNREFUSED, ECONNRESET, redirect_refused, ...), else its message. */
function describeNetworkError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}
