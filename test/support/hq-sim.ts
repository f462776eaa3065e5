/**
 * The one client of the HQ mock's simulation API (/sim: clock, traffic, faults, truth, stats),
 * for the tests, the benchmark and the screenshot tool. A request that HQ answers with an error
 * throws with the method, path, status and the start of the answer, so a test never reads a
 * failed answer as data.
 */
import type { QueueStats } from '../../src/hq-mock/store';
export type { Truth } from '../../src/hq-mock/truth';

export type SimRequest = <T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

/** Where the mock serves and its key: an HqMock in this process, or a mock process. */
export interface MockAddress {
  url: string;
  apiKey: string;
}

/** `mock` may be a function, for a mock that a beforeAll starts after the client is made. */
export function simClient(mock: MockAddress | (() => MockAddress)): SimRequest {
  return async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const { url, apiKey } = typeof mock === 'function' ? mock() : mock;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
}

/** GET /sim/stats: each stream's queue, the faults injected, and the client's Retry-After violations. */
export interface SimStats {
  receipts: StreamStats;
  inbound: StreamStats;
  faults: Record<string, number>;
  retryAfterViolations: number;
  retryAfterViolationsByEndpoint: Record<string, number>;
  requests: number;
}

/** One stream's counts in /sim/stats: the mock's own type, so the two cannot drift apart. */
export type StreamStats = QueueStats;
