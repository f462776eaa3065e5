/**
 * The last 12 months: GET /status/history against the month documents it summarises, the page's
 * SVG chart in a real browser (each bar's height is its figure on the chart's scale, stacked sent
 * under received, the limit line at the limit), and the accessible table with the same figures.
 */
import type { Page } from 'playwright-core';
import type { UsageHistory } from '../../src/status/status-document';
import { waitFor, type TestStack } from '../support/stack';
import { openBrowser, type TestBrowser } from './browser';
import { monthsBack, startPageStack } from './fixture';
import type { StatusDocument } from '../support/status-client';

/** Exact decimal string to micro-dollars (no float on the figures under test). */
function micros(usd: string): number {
  const [whole, frac = ''] = usd.split('.');
  return Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0'));
}

interface BarBox {
  month: string;
  part: string;
  usd: string;
  y: number;
  height: number;
}

async function bars(page: Page): Promise<{ bars: BarBox[]; maxUsd: number; plotHeight: number; limitY: number | null; baseY: number }> {
  // A string, run in the page: this file is type-checked without the DOM's types.
  return page.evaluate(`(() => {
    const svg = document.querySelector('#history-chart svg');
    const num = (e, a) => Number(e.getAttribute(a));
    const limit = svg.querySelector('line.limit');
    return {
      bars: [...svg.querySelectorAll('rect.bar')].map((r) => ({
        month: r.dataset.month, part: r.dataset.part, usd: r.dataset.usd, y: num(r, 'y'), height: num(r, 'height'),
      })),
      maxUsd: Number(svg.dataset.maxUsd),
      plotHeight: Number(svg.dataset.plotHeight),
      limitY: limit ? num(limit, 'y1') : null,
      baseY: num(svg.querySelector('line.baseline'), 'y1'),
    };
  })()`);
}

/**
 * Loads the page until it has drawn figures that did not move while it loaded (late receipts of
 * the newest texts can still change this month's charges): the drawing and the history it shows.
 */
async function settledPage(browser: TestBrowser, base: string): Promise<{ page: Page; history: UsageHistory }> {
  const read = async (): Promise<UsageHistory> => (await (await fetch(`${base}/status/history?months=12`)).json()) as UsageHistory;
  const page = await browser.newPage();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const before = await read();
    await page.goto(`${base}/`);
    await page.waitForSelector('#history-rows tr', { state: 'attached' });
    const after = await read();
    if (JSON.stringify(before) === JSON.stringify(after)) return { page, history: after };
    if (Date.now() > deadline) throw new Error('waited 30 s for /status/history to hold still while the page loaded');
  }
}

describe('the last 12 months', () => {
  let stack: TestStack;
  let browser: TestBrowser;
  let history: UsageHistory;
  let current: StatusDocument;

  beforeAll(async () => {
    stack = await startPageStack({ apiToken: null, monthlyLimitUsd: '2.50', seed: 11, messages: 700, inbound: 200 });
    current = await stack.status<StatusDocument>();
    const res = await fetch(`${stack.daemon.statusUrl}/status/history?months=12`);
    expect(res.status).toBe(200);
    history = (await res.json()) as UsageHistory;
    browser = await openBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('GET /status/history sums each month of /status, oldest first, ending with this month', async () => {
    expect(history.timezone).toBe(current.timezone);
    expect(history.limitUsd).toBe(current.limitUsd);
    expect(micros(history.limitUsd!)).toBe(2_500_000);
    expect(history.months.map((m) => m.month)).toEqual(monthsBack(current.month, 11));
    // Late receipts of the newest texts can still move this month: compare one consistent reading.
    const agreed = await waitFor('GET /status/history to equal the month documents', async () => {
      const h = (await (await fetch(`${stack.daemon.statusUrl}/status/history?months=12`)).json()) as UsageHistory;
      for (const m of h.months) {
        const doc = await stack.status<StatusDocument>(`/status?month=${m.month}`);
        const same = JSON.stringify([m.sentCount, m.sentChargesUsd, m.receivedCount, m.receivedChargesUsd, m.chargesUsd, m.overLimit])
          === JSON.stringify([doc.totals.sentCount, doc.totals.sentChargesUsd, doc.totals.receivedCount, doc.totals.receivedChargesUsd, doc.totals.chargesUsd, doc.overLimit]);
        if (!same) return undefined;
      }
      return h;
    }, 30_000, 300);
    const withTraffic = agreed.months.filter((m) => m.sentCount > 0).length;
    // The fixture's 58 days of traffic touch two or three months.
    expect(withTraffic).toBeGreaterThanOrEqual(2);
    for (const bad of ['0', '37', 'x', '1.5', '-1']) {
      expect([bad, (await fetch(`${stack.daemon.statusUrl}/status/history?months=${bad}`)).status]).toEqual([bad, 400]);
    }
    const three = (await (await fetch(`${stack.daemon.statusUrl}/status/history?months=3`)).json()) as UsageHistory;
    expect(three.months.map((m) => m.month)).toEqual(history.months.slice(-3).map((m) => m.month));
  });

  it('draws one stacked bar per month whose heights are the figures, under the limit line', async () => {
    const { page, history } = await settledPage(browser, stack.daemon.statusUrl);
    const drawn = await bars(page);
    expect(drawn.bars).toHaveLength(history.months.length * 2);
    const pxPerUsd = drawn.plotHeight / drawn.maxUsd;
    // The scale holds the highest month and the limit.
    expect(drawn.maxUsd).toBeGreaterThanOrEqual(Math.max(2.5, ...history.months.map((m) => micros(m.chargesUsd) / 1e6)));
    for (const m of history.months) {
      const sent = drawn.bars.find((b) => b.month === m.month && b.part === 'sent')!;
      const received = drawn.bars.find((b) => b.month === m.month && b.part === 'received')!;
      expect([m.month, sent.usd, received.usd]).toEqual([m.month, m.sentChargesUsd, m.receivedChargesUsd]);
      expect(sent.height).toBeCloseTo((micros(m.sentChargesUsd) / 1e6) * pxPerUsd, 3);
      expect(received.height).toBeCloseTo((micros(m.receivedChargesUsd) / 1e6) * pxPerUsd, 3);
      // Stacked: sent stands on the baseline, received on top of sent.
      expect(sent.y + sent.height).toBeCloseTo(drawn.baseY, 3);
      expect(received.y + received.height).toBeCloseTo(sent.y, 3);
    }
    expect(drawn.limitY).not.toBeNull();
    expect(drawn.baseY - drawn.limitY!).toBeCloseTo(2.5 * pxPerUsd, 3);
    // A month with traffic has a visible bar.
    const busiest = [...history.months].sort((a, b) => micros(b.chargesUsd) - micros(a.chargesUsd))[0]!;
    expect(micros(busiest.chargesUsd)).toBeGreaterThan(0);
    expect(drawn.bars.filter((b) => b.month === busiest.month).reduce((s, b) => s + b.height, 0)).toBeGreaterThan(1);
    await page.close();
  });

  it('lists the same figures in an accessible table, the chart hidden from screen readers', async () => {
    const { page, history } = await settledPage(browser, stack.daemon.statusUrl);
    const rows = await page.$$eval('#history-rows tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toHaveLength(history.months.length);
    const dollars = (usd: string): string => {
      const [w = '0', f = ''] = usd.split('.');
      return `$${w.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${f.padEnd(2, '0')}`;
    };
    history.months.forEach((m, i) => {
      expect(rows[i]!.slice(1)).toEqual([m.sentCount.toLocaleString('en-US'), dollars(m.sentChargesUsd), m.receivedCount.toLocaleString('en-US'),
        dollars(m.receivedChargesUsd), dollars(m.chargesUsd)]);
    });
    expect(await page.getAttribute('#history-chart svg', 'aria-hidden')).toBe('true');
    expect(await page.textContent('#history-table caption')).toBe('Texting usage per month, all locations');
    expect(await page.textContent('#history-limit')).toContain('$2.50');
    // Not catching up once the backlog is in.
    expect(await page.textContent('#catching-up')).toBe('no (nothing waiting at HQ)');
    await page.close();
  });
});
