/**
 * The usage grid of the Texting Services window (docs/texting-services.md) as a plain-text table, from a
 * /status document: one row per location, a total row when there is more than one, money in
 * dollars. Money stays a decimal string throughout (never a binary float).
 */
import type { StatusDocument } from '../status/status-document';

export const COLUMNS = [
  'Default', 'Location', 'Subscribed', 'Primary Phone Number', 'Country Code', 'Limit',
  'Sent for Month', 'Sent Charges', 'Received for Month', 'Received Charges',
] as const;

/** Columns whose cells line up on the right (counts and money). */
const RIGHT: ReadonlySet<string> = new Set(['Limit', 'Sent for Month', 'Sent Charges', 'Received for Month', 'Received Charges']);

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * '12.5' -> '$12.50', '0.0079' -> '$0.0079', '1234567' -> '$1,234,567.00'; null -> '-'. With
 * `fractionDigits`, the fraction is padded with zeros to that many digits (never cut: exact).
 */
export function dollars(usd: string | null, fractionDigits = 2): string {
  if (usd === null) return '-';
  const match = /^(\d+)(?:\.(\d+))?$/.exec(usd);
  if (!match) return usd; // not the contract's form: show it as it came
  const whole = match[1]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = (match[2] ?? '').padEnd(fractionDigits, '0');
  return `$${whole}.${fraction}`;
}

/** Fraction digits that show every amount exactly (at least 2), so a column's decimal points line up. */
function digitsFor(amounts: ReadonlyArray<string | null>): number {
  return Math.max(2, ...amounts.map((a) => (a !== null && a.includes('.') ? a.length - a.indexOf('.') - 1 : 0)));
}

export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 'November 2026' for '2026-11'. */
export function monthTitle(month: string): string {
  const [year, m] = month.split('-');
  return `${MONTH_NAMES[Number(m) - 1] ?? m} ${year}`;
}

/**
 * Text from HQ made safe for a terminal: control characters (C0, DEL, C1: an ESC could move the
 * cursor, rewrite the screen or set the window title) and the bidirectional overrides that can
 * disguise text are dropped.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

export function usageRows(doc: StatusDocument): string[][] {
  const t = doc.totals;
  const sentDigits = digitsFor([...doc.clinics.map((c) => c.sentChargesUsd), t.sentChargesUsd]);
  const receivedDigits = digitsFor([...doc.clinics.map((c) => c.receivedChargesUsd), t.receivedChargesUsd]);
  const rows = doc.clinics.map((c) => [
    c.isDefault ? 'X' : '',
    c.name === null ? `(clinic ${c.clinicId}, not in the account)` : terminalSafe(c.name),
    c.subscribed ? 'Yes' : 'No',
    c.primaryPhone ?? '',
    c.countryCode ?? '',
    dollars(doc.limitUsd),
    count(c.sentCount),
    dollars(c.sentChargesUsd, sentDigits),
    count(c.receivedCount),
    dollars(c.receivedChargesUsd, receivedDigits),
  ]);
  if (doc.clinics.length > 1) {
    rows.push(['', 'Total', '', '', '', dollars(doc.limitUsd), count(t.sentCount), dollars(t.sentChargesUsd, sentDigits),
      count(t.receivedCount), dollars(t.receivedChargesUsd, receivedDigits)]);
  }
  return rows;
}

/** Lays out a header and rows in columns two spaces apart, with a rule under the header (and above a total). */
export function layout(header: readonly string[], rows: readonly string[][], hasTotal: boolean, right: ReadonlySet<string> = RIGHT): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (right.has(header[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = rows.map(line);
  if (hasTotal && body.length > 1) body.splice(body.length - 1, 0, rule);
  return [line(header), rule, ...body];
}

/** The whole terminal report for one month. */
export function renderUsage(doc: StatusDocument): string {
  const rows = usageRows(doc);
  const out = [`Texting usage for ${monthTitle(doc.month)} (${doc.timezone})`, ''];
  if (doc.clinics.length === 0) out.push('No locations yet: the account has not been synced from HQ.');
  else out.push(...layout(COLUMNS, rows, doc.clinics.length > 1));
  out.push('');
  const limit = doc.limitUsd === null ? 'no limit known yet' : `limit ${dollars(doc.limitUsd)} for all locations together`;
  out.push(`Charges for the month: ${dollars(doc.totals.chargesUsd)}; ${limit}${doc.overLimit ? ' -- LIMIT REACHED' : ''}`);
  const e = doc.econnector;
  out.push(`Last receipts poll: ${e.lastReceiptsPollAt ?? 'never'}; last replies poll: ${e.lastInboundPollAt ?? 'never'}; items in quarantine: ${e.quarantined}`);
  if (e.catchingUp) out.push(`Catching up: ${count(e.itemsPerSecond ?? 0)} items/s (HQ has more waiting)`);
  return `${out.join('\n')}\n`;
}
