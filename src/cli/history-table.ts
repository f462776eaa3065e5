/**
 * `econnector status --history`: the last months of GET /status/history as a plain-text table,
 * oldest first, the same figures the page's chart draws. Money stays a decimal string.
 */
import type { UsageHistory } from '../status/status-document';
import { count, dollars, layout, monthTitle } from './usage-table';

export const HISTORY_COLUMNS = ['Month', 'Sent', 'Sent Charges', 'Received', 'Received Charges', 'Charges', 'Limit'] as const;
const RIGHT: ReadonlySet<string> = new Set(['Sent', 'Sent Charges', 'Received', 'Received Charges', 'Charges']);

/** Fraction digits that show every amount exactly (at least 2). */
function digitsFor(amounts: readonly string[]): number {
  return Math.max(2, ...amounts.map((a) => (a.includes('.') ? a.length - a.indexOf('.') - 1 : 0)));
}

export function historyRows(doc: UsageHistory): string[][] {
  const d = {
    sent: digitsFor(doc.months.map((m) => m.sentChargesUsd)),
    received: digitsFor(doc.months.map((m) => m.receivedChargesUsd)),
    charges: digitsFor(doc.months.map((m) => m.chargesUsd)),
  };
  return doc.months.map((m) => [
    monthTitle(m.month),
    count(m.sentCount),
    dollars(m.sentChargesUsd, d.sent),
    count(m.receivedCount),
    dollars(m.receivedChargesUsd, d.received),
    dollars(m.chargesUsd, d.charges),
    m.overLimit ? 'REACHED' : '',
  ]);
}

export function renderHistory(doc: UsageHistory): string {
  const first = doc.months[0];
  const last = doc.months[doc.months.length - 1];
  const out = [
    `Texting usage, ${first ? monthTitle(first.month) : ''} to ${last ? monthTitle(last.month) : ''} (${doc.timezone}), all locations`,
    '',
    ...layout(HISTORY_COLUMNS, historyRows(doc), false, RIGHT),
    '',
    doc.limitUsd === null ? 'No monthly limit known yet.' : `Monthly limit (today's, for all locations together): ${dollars(doc.limitUsd)}`,
  ];
  return `${out.join('\n')}\n`;
}
