/**
 * The page's picture of the year: GET /status/history?months=12 drawn as an SVG chart (one
 * stacked bar per month: sent charges below, received charges above, against the monthly limit as
 * a dashed line) and the same figures in an accessible table (the chart is aria-hidden; the table
 * is what a screen reader reads, and what a person reads for exact amounts; each bar also has a
 * <title> tooltip). Built with DOM calls only (no innerHTML), so the page's CSP holds.
 *
 * Geometry needs numbers; the figures shown stay the contract's decimal strings. Each bar carries
 * data-month, data-part and data-usd, so a test can check that its height matches its figure.
 */
import type { HistoryMonth, UsageHistory } from '../status-document';
import { count, dollars } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The chart's coordinate box (it scales to the panel's width). */
export const CHART = { width: 720, height: 260, left: 64, right: 12, top: 12, bottom: 36 } as const;
const MONTH_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** '12.5' -> 12.5, for geometry only. */
const usdNumber = (usd: string): number => Number(usd);


function monthName(key: string, long: boolean): string {
  const [y, m] = key.split('-');
  const names = long ? MONTH_LONG : MONTH_SHORT;
  return `${names[Number(m) - 1] ?? m} ${long ? y : `'${y!.slice(2)}`}`;
}

/** A round top for the y axis: 1, 2 or 5 times a power of ten, at or above `max`. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const f of [1, 2, 5, 10]) if (f * p >= max) return f * p;
  return 10 * p;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawChart(doc: UsageHistory): SVGSVGElement {
  const { width, height, left, right, top, bottom } = CHART;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const limit = doc.limitUsd === null ? null : usdNumber(doc.limitUsd);
  const top$ = niceCeiling(Math.max(limit ?? 0, ...doc.months.map((m) => usdNumber(m.chargesUsd))));
  const y = (usd: number): number => top + plotH - (usd / top$) * plotH;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'history-chart', 'aria-hidden': 'true', focusable: 'false' });
  root.dataset.maxUsd = String(top$);
  root.dataset.plotHeight = String(plotH);

  for (let i = 0; i <= 4; i++) {
    const v = (top$ * i) / 4;
    root.append(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, `$${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}`));
  }
  const slot = plotW / Math.max(1, doc.months.length);
  const barW = Math.max(4, slot * 0.6);
  doc.months.forEach((m, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const sent = usdNumber(m.sentChargesUsd);
    const received = usdNumber(m.receivedChargesUsd);
    const part = (name: 'sent' | 'received', usd: string, from: number, to: number, label: string): void => {
      const rect = svg('rect', { x, y: y(to), width: barW, height: Math.max(0, y(from) - y(to)), class: `bar bar-${name}${m.overLimit ? ' over' : ''}` });
      rect.dataset.month = m.month;
      rect.dataset.part = name;
      rect.dataset.usd = usd;
      rect.append(svg('title', {}, `${monthName(m.month, true)}: ${label}`));
      root.append(rect);
    };
    part('sent', m.sentChargesUsd, 0, sent, `${count(m.sentCount)} sent, ${dollars(m.sentChargesUsd)}`);
    part('received', m.receivedChargesUsd, sent, sent + received, `${count(m.receivedCount)} received, ${dollars(m.receivedChargesUsd)}`);
    root.append(svg('text', { x: x + barW / 2, y: height - bottom + 16, class: 'axis', 'text-anchor': 'middle' }, monthName(m.month, false)));
  });
  if (limit !== null) {
    const line = svg('line', { x1: left, x2: width - right, y1: y(limit), y2: y(limit), class: 'limit' });
    line.dataset.usd = doc.limitUsd!;
    root.append(line);
    root.append(svg('text', { x: width - right, y: y(limit) - 4, class: 'axis limit-label', 'text-anchor': 'end' }, `limit ${dollars(doc.limitUsd!)}`));
  }
  root.append(svg('line', { x1: left, x2: width - right, y1: y(0), y2: y(0), class: 'baseline' }));
  return root;
}

function tableRow(m: HistoryMonth): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const cells = [monthName(m.month, true), count(m.sentCount), dollars(m.sentChargesUsd), count(m.receivedCount), dollars(m.receivedChargesUsd), dollars(m.chargesUsd)];
  cells.forEach((text, i) => {
    const td = document.createElement(i === 0 ? 'th' : 'td');
    if (i === 0) td.setAttribute('scope', 'row');
    else td.className = 'num';
    td.textContent = text;
    tr.append(td);
  });
  if (m.overLimit) tr.classList.add('over');
  return tr;
}

/** Draws `doc` into the history panel (chart, table and the limit sentence). */
export function renderHistory(doc: UsageHistory): void {
  const chart = document.getElementById('history-chart');
  const rows = document.getElementById('history-rows');
  const note = document.getElementById('history-limit');
  if (!chart || !rows || !note) return;
  chart.replaceChildren(drawChart(doc));
  rows.replaceChildren(...doc.months.map(tableRow));
  note.textContent = doc.limitUsd === null
    ? 'No monthly limit known yet (the account has not been synced from HQ).'
    : `The dashed line is the monthly limit, ${dollars(doc.limitUsd)} for all locations together (today's limit, drawn across every month).`;
}

/** Fetches the last 12 months and draws them; a failure leaves the last drawing and says so. */
export async function refreshHistory(): Promise<void> {
  const note = document.getElementById('history-limit');
  try {
    const res = await fetch('/status/history?months=12', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new Error(`GET /status/history answered ${res.status}`);
    renderHistory((await res.json()) as UsageHistory);
  } catch (err) {
    if (note) note.textContent = `The usage history could not be read (${(err as Error).message}).`;
  }
}
