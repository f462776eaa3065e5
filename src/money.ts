/**
 * Money at the faces is a decimal string of US dollars (docs/hq-api.md: never negative, no exponent,
 * at most 6 fractional digits). Inside, it is always an integer number of micro-dollars
 * (1 USD = 1,000,000), so sums are exact. A JS number holds integers exactly up to 2^53, i.e.
 * about 9 billion dollars in micro-dollars: far beyond any office's texting bill.
 */

export const MICROS_PER_USD = 1_000_000;

const USD_PATTERN = /^(\d+)(?:\.(\d{1,6}))?$/;

export class MoneyFormatError extends Error {
  override name = 'MoneyFormatError';
}

/** True when `value` is a contract-valid money string. */
export function isUsdString(value: unknown): value is string {
  return typeof value === 'string' && USD_PATTERN.test(value) && parseUsdToMicrosOrNull(value) !== null;
}

/** Parses "0.0079" into 7900. Returns null for anything the contract does not allow. */
export function parseUsdToMicrosOrNull(value: string): number | null {
  const m = USD_PATTERN.exec(value);
  if (!m) return null;
  const whole = Number(m[1]);
  const frac = Number((m[2] ?? '').padEnd(6, '0'));
  const micros = whole * MICROS_PER_USD + frac;
  return Number.isSafeInteger(micros) ? micros : null;
}

/** Parses a contract money string, throwing MoneyFormatError (without echoing huge input) when invalid. */
export function parseUsdToMicros(value: string): number {
  const micros = parseUsdToMicrosOrNull(value);
  if (micros === null) throw new MoneyFormatError(`not a valid USD amount: ${JSON.stringify(value.slice(0, 32))}`);
  return micros;
}

/**
 * Formats micro-dollars as a decimal string: at least two fractional digits (as money is shown),
 * up to six, trailing zeros beyond the second trimmed. 7900 -> "0.0079", 50_000_000 -> "50.00".
 * A bigint is formatted exactly however large (sums read from the database's 64-bit columns).
 */
export function formatMicros(micros: number | bigint): string {
  if (typeof micros === 'bigint') {
    if (micros < 0n) throw new RangeError(`micro-dollars must be non-negative, got ${micros}`);
    return joinDollars(String(micros / 1_000_000n), String(micros % 1_000_000n));
  }
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError(`micro-dollars must be a non-negative safe integer, got ${micros}`);
  return joinDollars(String(Math.floor(micros / MICROS_PER_USD)), String(micros % MICROS_PER_USD));
}

function joinDollars(whole: string, fraction: string): string {
  let frac = fraction.padStart(6, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${whole}.${frac}`;
}

/**
 * A stored micro-dollar amount (or a SUM of them) as a bigint, exact whatever its size. Read sums
 * as text (CAST … AS TEXT) so no driver rounds them to a double; a value SQLite turned into a float
 * (an integer sum past 2^63) is taken as its integer part.
 */
export function microsFromDb(v: number | string | bigint | null | undefined): bigint {
  if (v == null) return 0n;
  if (typeof v === 'bigint') return v;
  const text = String(v);
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const n = Number(text);
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
}
