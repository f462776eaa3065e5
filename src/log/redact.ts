/**
 * Redaction of patient health information in log entries (docs/security.md: message bodies and phone
 * numbers never appear in logs at info level or above).
 *
 * - Phone numbers are masked at every level, in the message and in every string anywhere in the
 *   meta, keeping only the last two digits: '+15035550123' -> '+*********23'.
 * - Message bodies (meta keys `body`, `text`, `messageBody`, any case, at any depth) are replaced by
 *   '[redacted]' at info and more severe levels; at http and below (debug sessions) they stay,
 *   phone-masked.
 *
 * The caller's objects are never modified: redaction builds a copy (meta often is live data,
 * like a job's payload).
 */
import { format, type Logform } from 'winston';

export const REDACTED = '[redacted]';
const BODY_KEYS: ReadonlySet<string> = new Set(['body', 'text', 'messagebody']);
const MAX_DEPTH = 8;

// E.164-like: '+' and 8-15 digits.
const E164_LIKE = /\+\d{8,15}(?!\d)/g;
// NANP-like: 10 digits (area code and exchange start 2-9), optionally with a leading 1 or +1 and
// the usual separators: 5035550123, 15035550123, (503) 555-0123, 503.555.0123, +1 503-555-0123.
const NANP = String.raw`(?:\+?1[-. ]?)?\(?[2-9]\d{2}\)?[-. ]?[2-9]\d{2}[-. ]?\d{4}`;
const NANP_LIKE = new RegExp(String.raw`(?<![\d+])${NANP}(?!\d)`, 'g');
const NANP_WHOLE = new RegExp(String.raw`^${NANP}$`);

/** Replaces every digit but the last two with '*'. */
function maskDigits(match: string): string {
  let keep = 2;
  let out = '';
  for (let i = match.length - 1; i >= 0; i--) {
    const ch = match[i]!;
    if (ch >= '0' && ch <= '9') {
      out = (keep > 0 ? ch : '*') + out;
      keep--;
    } else out = ch + out;
  }
  return out;
}

/** Masks anything that looks like a phone number in `text`, keeping the last two digits of each. */
export function maskPhones(text: string): string {
  if (!/\d{2}/.test(text)) return text; // fast path: most log strings hold no digit runs
  return text.replace(E164_LIKE, maskDigits).replace(NANP_LIKE, maskDigits);
}

export interface RedactOptions {
  /** Replace body-like keys with '[redacted]'. */
  dropBodies: boolean;
}

/** A redacted, JSON-friendly copy of `value`. */
export function redactValue(value: unknown, opts: RedactOptions): unknown {
  return walk(value, opts, 0, new WeakSet());
}

function walk(value: unknown, opts: RedactOptions, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return maskPhones(value);
  if (typeof value === 'number') {
    // A phone stored as a number (5035550123) would otherwise slip through.
    return Number.isInteger(value) && NANP_WHOLE.test(String(value)) ? maskPhones(String(value)) : value;
  }
  if (typeof value === 'bigint') return maskPhones(value.toString());
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[binary ${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, opts, depth + 1, seen));
    if (value instanceof Error) {
      // Errors' message and stack are not enumerable: JSON would drop them.
      const { name, message, stack } = value;
      return walkEntries({ ...value, name, message, stack }, opts, depth, seen);
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(value), opts, depth + 1, seen);
    return walkEntries(value as Record<string, unknown>, opts, depth, seen);
  } finally {
    seen.delete(value);
  }
}

function walkEntries(obj: Record<string, unknown>, opts: RedactOptions, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    out[key] = opts.dropBodies && BODY_KEYS.has(key.toLowerCase()) ? REDACTED : walk(v, opts, depth + 1, seen);
  }
  return out;
}

const LEVEL = Symbol.for('level');
const NPM_SEVERITY: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

/** True for the levels at which bodies are dropped: info and more severe. */
export function dropsBodiesAt(level: string): boolean {
  const severity = NPM_SEVERITY[level];
  return severity === undefined || severity <= NPM_SEVERITY.info!; // unknown levels: be safe
}

/** The winston format: a redacted copy of the entry (only the level symbol is carried over). */
export const redactFormat = format((info: Logform.TransformableInfo) => {
  const level = String((info as Record<PropertyKey, unknown>)[LEVEL] ?? info.level);
  const copy = walkEntries(info as Record<string, unknown>, { dropBodies: dropsBodiesAt(level) }, -1, new WeakSet());
  return Object.assign(copy, { level: info.level, [LEVEL]: level }) as unknown as Logform.TransformableInfo;
});
