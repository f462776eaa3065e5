/**
 * Reading the daemon's status server from a test or the benchmark: one client, and the one type
 * of the /status document, the status server's own (src/status/status-document.d.ts), so a test
 * reads exactly the fields the daemon promises. A status server answering an error throws with
 * the path, status and the start of the answer: a failed answer is never read as a document.
 */
import type { StatusDocument } from '../../src/status/status-document';

export type { StatusDocument };

export type StatusGet = <T = StatusDocument>(path?: string) => Promise<T>;

/** `base` is the status server's URL, or a function giving it (a daemon that starts later, or restarts). */
export function statusClient(base: string | (() => string)): StatusGet {
  return async <T>(path = '/status'): Promise<T> => {
    const url = typeof base === 'function' ? base() : base;
    const res = await fetch(`${url}${path}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
}
