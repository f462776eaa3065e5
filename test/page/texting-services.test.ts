/**
 * The Texting Services page in a real browser: Debian's chromium, headless, against a
 * whole stack (redis-server, the HQ mock with traffic over several months, the daemon with
 * API_TOKEN set). The grid must equal /status cell by cell; month navigation must keep the URL
 * and the grid in step; the default clinic and the opt-in settings change through the
 * token-protected office API; refusals are explained.
 */
import type { Page } from 'playwright-core';
import { waitFor, type TestStack } from '../support/stack';
import { openBrowser, type TestBrowser } from './browser';
import { monthOf } from '../support/clock';
import { monthsBack, PAGE_TZ, startPageStack } from './fixture';
import type { StatusDocument } from '../support/status-client';

const TOKEN = 'page-test-token-5f2c9e';
const COLUMNS = [
  'Default',
  'Location',
  'Subscribed',
  'Primary Phone Number',
  'Country Code',
  'Limit',
  'Sent for Month',
  'Sent Charges',
  'Received for Month',
  'Received Charges',
];

/** A decimal string without trailing fractional zeros: "2.1330" and "2.133" both give "2.133". */
function canonical(decimal: string): string {
  const [whole, frac = ''] = decimal.split('.');
  const f = frac.replace(/0+$/, '');
  return f === '' ? whole! : `${whole}.${f}`;
}

/**
 * Money as the page must show it: the contract's exact decimal string as dollars, with at least
 * `minDecimals` decimals. Compared as strings, digit for digit: only "$", thousands separators
 * and trailing zeros may be added; nothing rounded.
 */
function expectDollars(cell: string, usd: string | null, minDecimals: number): void {
  if (usd === null) {
    expect(cell).toBe('\u2014');
    return;
  }
  expect(cell).toMatch(new RegExp(`^\\$\\d{1,3}(,\\d{3})*\\.\\d{${minDecimals},6}$`));
  expect(canonical(cell.replace(/[$,]/g, ''))).toBe(canonical(usd));
  expect(cell.replace(/[$,]/g, '').startsWith(usd)).toBe(true);
}

function expectCount(cell: string, n: number): void {
  expect(cell.replace(/,/g, '')).toBe(String(n));
}

/*
 * The project's tsconfig has no DOM types (Node code), so browser-side code here goes through
 * Playwright's element callbacks ($eval, $$eval) and plain text reads, never `document`.
 */

/** Waits until the text of `selector` passes `ok`; returns it. */
async function waitText(page: Page, selector: string, ok: (text: string) => boolean, what: string): Promise<string> {
  return waitFor(what, async () => {
    const text = (await page.textContent(selector)) ?? '';
    return ok(text) ? text : undefined;
  }, 10_000, 25);
}

async function waitAttr(page: Page, selector: string, name: string, value: string | null): Promise<void> {
  await waitFor(`${selector} ${name}=${value}`, async () => (await page.getAttribute(selector, name)) === value, 10_000, 25);
}

async function gridMonth(page: Page, month: string): Promise<void> {
  await waitAttr(page, '#usage', 'data-month', month);
}

const storedToken = (page: Page): Promise<string | null> => page.evaluate("sessionStorage.getItem('econnector.apiToken')");

/**
 * Every cell of every row, and the total row, against /status for `month`. The daemon can still be
 * moving a figure when the page loads (an automatic reply it sends, the receipt of one), and the
 * page refreshes itself every few seconds: so the comparison is repeated until it holds, and if it
 * never does within the deadline its last failure is the test's.
 */
async function expectGridEqualsStatus(page: Page, stack: TestStack, month: string): Promise<StatusDocument> {
  await gridMonth(page, month);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await compareGridWithStatus(page, stack, month);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function compareGridWithStatus(page: Page, stack: TestStack, month: string): Promise<StatusDocument> {
  const status = await stack.status<StatusDocument>(`/status?month=${month}`);
  const cellTexts = (row: { children: ArrayLike<{ textContent: string | null }> }): string[] => Array.from(row.children, (c) => c.textContent?.trim() ?? '');
  const grid = {
    headers: await page.$$eval('#usage thead th', (ths) => ths.map((th) => ({ text: th.textContent?.trim(), scope: th.getAttribute('scope') }))),
    rows: await page.$$eval('#usage-rows tr', (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-clinic-id'),
        rowHeaderScope: tr.querySelector('th')?.getAttribute('scope'),
        cells: Array.from(tr.children as ArrayLike<{ textContent: string | null }>, (c) => c.textContent?.trim() ?? ''),
      })),
    ),
    total: cellTexts({ children: await page.$$eval('#usage-total > *', (cs) => cs.map((c) => ({ textContent: c.textContent }))) }),
  };
  expect(grid.headers).toEqual(COLUMNS.map((text) => ({ text, scope: 'col' })));
  expect(grid.rows.map((r) => Number(r.id))).toEqual(status.clinics.map((c) => c.clinicId));
  status.clinics.forEach((c, i) => {
    const row = grid.rows[i]!;
    expect(row.rowHeaderScope).toBe('row');
    const [def, loc, sub, phone, country, limit, sent, sentCharges, received, receivedCharges] = row.cells;
    expect(row.cells).toHaveLength(10);
    expect(def).toBe(c.isDefault ? 'X' : '');
    expect(loc).toBe(c.name ?? `Clinic ${c.clinicId} (not in the account)`);
    expect(sub).toBe(c.subscribed ? 'Yes' : 'No');
    expect(phone).toBe(c.primaryPhone ?? '\u2014');
    expect(country).toBe(c.countryCode ?? '\u2014');
    expectDollars(limit!, status.limitUsd, 2);
    expectCount(sent!, c.sentCount);
    expectDollars(sentCharges!, c.sentChargesUsd, 4);
    expectCount(received!, c.receivedCount);
    expectDollars(receivedCharges!, c.receivedChargesUsd, 4);
  });
  const t = status.totals as { sentCount: number; sentChargesUsd: string; receivedCount: number; receivedChargesUsd: string; chargesUsd: string };
  expect(grid.total).toHaveLength(10);
  expect(grid.total.slice(0, 5)).toEqual(['', 'Total', '', '', '']);
  expectDollars(grid.total[5]!, status.limitUsd, 2);
  expectCount(grid.total[6]!, t.sentCount);
  expectDollars(grid.total[7]!, t.sentChargesUsd, 4);
  expectCount(grid.total[8]!, t.receivedCount);
  expectDollars(grid.total[9]!, t.receivedChargesUsd, 4);
  // The summary line carries the month's total charges, exactly.
  const summary = (await page.textContent('#charges-summary')) ?? '';
  const shown = /: (\$[\d,.]+) \(sent and received\)/.exec(summary)?.[1] ?? `(no amount in "${summary}")`;
  expectDollars(shown, t.chargesUsd, 4);
  return status;
}

function search(page: Page): string {
  return new URL(page.url()).search;
}

async function rowOf(page: Page, clinicId: number) {
  return page.locator(`#usage-rows tr[data-clinic-id="${clinicId}"]`);
}

async function defaultMarks(page: Page): Promise<Record<string, string>> {
  const pairs = await page.$$eval('#usage-rows tr', (trs) => trs.map((tr) => [tr.getAttribute('data-clinic-id') ?? '', tr.children[0]?.textContent ?? ''] as [string, string]));
  return Object.fromEntries(pairs);
}

async function enterToken(page: Page, token: string): Promise<void> {
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.fill('#token-input', token);
  await page.click('#token-ok');
  await page.locator('#token-dialog').waitFor({ state: 'hidden' });
}

async function apiAvailable(stack: TestStack): Promise<boolean> {
  const res = await fetch(`${stack.daemon.statusUrl}/api/clinics/default`);
  return res.status === 200;
}

describe('the Texting Services page in a real browser', () => {
  let stack: TestStack;
  let browser: TestBrowser;
  let current: StatusDocument;
  let months: string[];
  let base: string;

  beforeAll(async () => {
    // A low limit: this month's and last month's charges are over it, the oldest month's (its
    // last 36 hours) are not.
    stack = await startPageStack({ apiToken: TOKEN, monthlyLimitUsd: '1.00' });
    base = stack.daemon.statusUrl;
    current = await stack.status<StatusDocument>();
    months = monthsBack(current.month, 2);
    // The daemon's "this month" is the month under test, whatever the machine's date.
    expect(current.month).toBe(monthOf(PAGE_TZ, stack.now()));
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  afterEach(() => {
    // No CSP violation, no script error, nothing fetched from off this machine.
    expect(browser.offMachineRequests).toEqual([]);
    expect(browser.problems.filter((p) => !/status of (401|403)\b/.test(p))).toEqual([]);
    browser.problems.length = 0;
  });

  it('serves the page and its assets with their content types and a strict CSP, nothing inline', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    // Scripts only by src, no inline handlers or styles, nothing from elsewhere.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/https?:\/\//i);
    for (const [path, type] of [
      ['/page/app.js', 'text/javascript; charset=utf-8'],
      ['/page/app.css', 'text/css; charset=utf-8'],
      ['/page/favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toBe(csp);
      expect(await res.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    expect((await fetch(`${base}/page/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/page/app.ts`)).status).toBe(404);
  });

  it('shows this month as /status does, every cell and the total row, with the connector state and warnings', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const status = await expectGridEqualsStatus(page, stack, current.month);
    expect(search(page)).toBe('');
    expect(status.clinics.length).toBeGreaterThanOrEqual(4);
    expect(status.totals.sentCount).toBeGreaterThan(0);
    // Over the (low) limit: a clear warning, and the summary in red.
    expect(status.overLimit).toBe(true);
    expect(await page.textContent('#alerts')).toContain('Over the monthly limit');
    expect(await page.getAttribute('#charges-summary', 'class')).toContain('over');
    // HQ was polled just now: no stale warning.
    expect(await page.textContent('#alerts')).not.toContain('HQ has not been reached');
    // Connector state: the polls and the quarantine (the traffic had malformed items).
    expect(status.econnector.quarantined).toBeGreaterThan(0);
    expect(await page.textContent('#quarantined')).toMatch(new RegExp(`^${status.econnector.quarantined} \\(`));
    expect(await page.textContent('#last-receipts-poll')).toMatch(/\d{4}.*\(\d+ s ago\)/);
    expect(await page.textContent('#last-inbound-poll')).toMatch(/\(\d+ s ago\)/);
    expect(await page.textContent('#office-tz')).toBe('America/Chicago');
    // The forward arrow stops at this month; the picker shows it.
    expect(await page.isDisabled('#next-month')).toBe(true);
    expect(await page.inputValue('#month-picker')).toBe(current.month);
    // Accessibility basics: a labelled control for every input, live regions for messages.
    const unlabelled = await page.$$eval('input', (inputs) =>
      inputs.filter((i) => ((i as { labels?: ArrayLike<unknown> }).labels?.length ?? 0) === 0 && !i.getAttribute('aria-label')).map((i) => i.id),
    );
    expect(unlabelled).toEqual([]);
    expect(await page.getAttribute('#message', 'aria-live')).toBe('polite');
    expect(await page.getAttribute('#alerts', 'aria-live')).toBe('polite');
    expect(await page.getAttribute('#prev-month', 'aria-label')).toBe('Previous month');
    await page.close();
  });

  it('moves between months with the arrows, the picker, This Month and the browser history, keeping the URL in step', async () => {
    const [m2, m1, m0] = months as [string, string, string];
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await gridMonth(page, m0);

    await page.click('#prev-month');
    const mid = await expectGridEqualsStatus(page, stack, m1);
    expect(search(page)).toBe(`?month=${m1}`);
    // A whole month of traffic, so the grid compared real figures (not zero against zero).
    expect(mid.totals.sentCount).toBeGreaterThan(100);
    expect(mid.totals.receivedCount).toBeGreaterThan(0);
    // A past month over the limit says so too (the current month's warning stays).
    expect(mid.overLimit).toBe(true);
    expect(await page.textContent('#alerts')).toMatch(/Charges for \w+ \d{4} \(\$[\d.,]+\) reached the \$1\.00 monthly limit/);
    expect(await page.inputValue('#month-picker')).toBe(m1);
    expect(await page.isDisabled('#next-month')).toBe(false);

    // By keyboard: the focused arrow answers Enter, with a visible focus ring.
    await page.focus('#prev-month');
    await page.keyboard.press('Enter');
    const old = await expectGridEqualsStatus(page, stack, m2);
    expect(search(page)).toBe(`?month=${m2}`);
    expect(await page.textContent('#usage-heading')).toContain(new Date(`${m2}-15T00:00:00Z`).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' }));
    // The oldest month has only its last 36 hours: some traffic, under the limit, so no month warning.
    expect(old.totals.sentCount).toBeGreaterThan(0);
    expect(old.overLimit).toBe(false);
    expect(await page.textContent('#alerts')).not.toContain(`reached the`);

    await page.click('#next-month');
    await expectGridEqualsStatus(page, stack, m1);
    expect(search(page)).toBe(`?month=${m1}`);

    // The month picker.
    await page.fill('#month-picker', m2);
    await expectGridEqualsStatus(page, stack, m2);
    expect(search(page)).toBe(`?month=${m2}`);

    // The browser's Back goes to the month before, as the URL says.
    await page.goBack();
    await expectGridEqualsStatus(page, stack, m1);
    expect(search(page)).toBe(`?month=${m1}`);

    // This Month: the live view of the current month, which is what a bookmark of / shows.
    await page.click('#this-month');
    await expectGridEqualsStatus(page, stack, m0);
    expect(search(page)).toBe('');
    expect(await page.isDisabled('#next-month')).toBe(true);

    // A bookmarked month opens on that month.
    await page.goto(`${base}/?month=${m1}`);
    await expectGridEqualsStatus(page, stack, m1);
    // Not a month: this month instead, and the page says why.
    await page.goto(`${base}/?month=2026-13`);
    await gridMonth(page, current.month);
    expect(search(page)).toBe('');
    expect(await page.textContent('#message')).toContain('not a month');
    // A month with no traffic at all shows zeros, not an error.
    await page.goto(`${base}/?month=2024-02`);
    const empty = await expectGridEqualsStatus(page, stack, '2024-02');
    expect(empty.totals.sentCount).toBe(0);
    await page.close();
  });

  it('selects a row by mouse and keyboard, sets and clears the default clinic with the token asked once', async () => {
    if (!(await apiAvailable(stack))) throw new Error('GET /api/clinics/default is not served: the office API (src/status/routes/api.ts) is missing');
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await gridMonth(page, current.month);

    // Mouse: a click anywhere on the row selects it.
    await (await rowOf(page, 2)).locator('td').nth(3).click();
    expect(await page.textContent('#selected-name')).toBe('Riverside');
    expect(await (await rowOf(page, 2)).getAttribute('class')).toContain('selected');

    await page.click('#set-default');
    await enterToken(page, TOKEN);
    await waitText(page, '#message', (t) => t.includes('is now the default'), 'the default set');
    expect(await page.textContent('#message')).toBe('Riverside is now the default texting clinic.');
    await waitFor('X on Riverside', async () => (await defaultMarks(page))['2'] === 'X', 10_000, 50);
    expect(Object.entries(await defaultMarks(page)).filter(([, x]) => x === 'X')).toEqual([['2', 'X']]);
    expect((await stack.status<StatusDocument>()).defaultClinicId).toBe(2);
    expect(await storedToken(page)).toBe(TOKEN);
    expect(await page.textContent('#token-state')).toBe('kept for this browser session');

    // Keyboard: Tab from the month controls lands on the selected row's radio, with a visible
    // focus ring; ArrowDown selects the next location.
    await page.focus('#this-month');
    await page.keyboard.press('Tab');
    expect(await page.$eval(':focus', (e) => e.closest('tr')?.getAttribute('data-clinic-id'))).toBe('2');
    const ring = await page.$eval(':focus', (e) => e.ownerDocument.defaultView!.getComputedStyle(e).outlineStyle);
    expect(ring).not.toBe('none');
    await page.keyboard.press('ArrowDown');
    expect(await page.textContent('#selected-name')).toBe('Lakeside');
    // Set Default by keyboard; the token is not asked again.
    await page.focus('#set-default');
    await page.keyboard.press('Enter');
    await waitText(page, '#message', (t) => t === 'Lakeside is now the default texting clinic.', 'Lakeside default');
    expect(await page.isVisible('#token-dialog')).toBe(false);
    await waitFor('X on Lakeside only', async () => {
      const marks = await defaultMarks(page);
      return marks['3'] === 'X' && marks['2'] === '';
    }, 10_000, 50);

    // Setting the default that is already the default: nothing changes, and the page says so.
    await page.click('#set-default');
    await waitAttr(page, '#message', 'data-kind', 'warn');

    await page.click('#clear-default');
    await waitText(page, '#message', (t) => t === 'No clinic is the default texting clinic now.', 'default cleared');
    await waitFor('no X', async () => Object.values(await defaultMarks(page)).every((x) => x === ''), 10_000, 50);
    expect((await stack.status<StatusDocument>()).defaultClinicId).toBeNull();
    expect(await page.isDisabled('#clear-default')).toBe(true);
    await page.close();
  });

  it('saves OptIn preferences, and shows a red warning when the saved settings had not changed', async () => {
    if (!(await apiAvailable(stack))) throw new Error('the office API (src/status/routes/api.ts) is missing');
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await gridMonth(page, current.month);
    await (await rowOf(page, 1)).click();
    await waitAttr(page, '#optin-fields', 'disabled', null);
    const before = (await (await fetch(`${base}/api/clinics/1/optin`)).json()) as { optinTitle: string | null; titleInEffect: string; promptForOptin: boolean };
    expect(await page.inputValue('#optin-title')).toBe(before.optinTitle ?? '');
    expect(await page.isChecked('#optin-prompt')).toBe(before.promptForOptin);
    expect(await page.textContent('#title-in-effect')).toBe(before.titleInEffect);

    // Save what is there: nothing changed, so a red warning and nothing written.
    await page.click('#optin-save');
    await enterToken(page, TOKEN);
    const warning = page.locator('#optin-warning');
    await warning.waitFor({ state: 'visible' });
    expect((await warning.textContent())!.length).toBeGreaterThan(0);
    expect(await warning.getAttribute('role')).toBe('alert');
    const color = await warning.evaluate((e) => e.ownerDocument.defaultView!.getComputedStyle(e).color);
    const [r, g, b] = color.match(/\d+/g)!.map(Number) as [number, number, number];
    expect(r).toBeGreaterThan(140);
    expect(g + b).toBeLessThan(60);

    // A real change saves, clears the warning, and is what the API then answers.
    await page.fill('#optin-title', 'Smiles on Main');
    expect(await warning.isVisible()).toBe(false);
    await page.click('#optin-prompt');
    await page.click('#optin-save');
    await waitText(page, '#message', (t) => t.startsWith('OptIn preferences saved for Main Street.'), 'opt-in saved');
    expect(await warning.isVisible()).toBe(false);
    const after = (await (await fetch(`${base}/api/clinics/1/optin`)).json()) as { optinTitle: string | null; promptForOptin: boolean; titleInEffect: string };
    expect(after).toMatchObject({ optinTitle: 'Smiles on Main', promptForOptin: !before.promptForOptin, titleInEffect: 'Smiles on Main' });
    await waitText(page, '#title-in-effect', (t) => t === 'Smiles on Main', 'title in effect');
    await page.close();
  });

  it('refuses an action without the token, and with a wrong one, and says so', async () => {
    if (!(await apiAvailable(stack))) throw new Error('the office API (src/status/routes/api.ts) is missing');
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await gridMonth(page, current.month);
    const before = (await stack.status<StatusDocument>()).defaultClinicId;
    await (await rowOf(page, 1)).click();

    // No token: the dialog asks; Cancel (or Escape) refuses the change.
    await page.click('#set-default');
    await page.locator('#token-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await waitAttr(page, '#message', 'data-kind', 'error');
    expect(await page.textContent('#message')).toBe('Set Default refused: changes need the office API token. Nothing was changed.');

    // A wrong token: the connector answers 401, the page says so and forgets the token.
    await page.click('#set-default');
    await enterToken(page, 'not-the-token');
    await waitText(page, '#message', (t) => t.includes('401'), 'the 401 refusal');
    expect(await page.textContent('#message')).toBe(
      'Set Default refused: the connector did not accept the API token (401). Nothing was changed; the next change will ask for the token again.',
    );
    expect(await storedToken(page)).toBeNull();
    expect(await page.textContent('#token-state')).toBe('not entered');
    expect((await stack.status<StatusDocument>()).defaultClinicId).toBe(before);
    expect(Object.values(await defaultMarks(page)).filter((x) => x === 'X')).toHaveLength(before === null ? 0 : 1);

    // The API itself agrees: no token is 401 too.
    const raw = await fetch(`${base}/api/clinics/default`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"clinicId":1}' });
    expect(raw.status).toBe(401);
    await page.close();
  });

  it('warns clearly when HQ has not been reached for over 2 minutes', async () => {
    // The stack polls every second, so an old last poll is simulated: the browser is served
    // /status with both polls 5 minutes old (everything else as the daemon answered).
    const page = await browser.newPage();
    await page.route('**/status*', async (route) => {
      const res = await route.fetch();
      const doc = (await res.json()) as StatusDocument;
      const old = new Date(Date.now() - 5 * 60_000).toISOString();
      doc.econnector = { ...doc.econnector, lastReceiptsPollAt: old, lastInboundPollAt: old };
      await route.fulfill({ response: res, json: doc });
    });
    await page.goto(`${base}/`);
    await gridMonth(page, current.month);
    const alerts = await page.textContent('#alerts');
    expect(alerts).toContain('HQ has not been reached for over 2 minutes');
    expect(alerts).toContain('(5 min ago)');
    expect(await page.getAttribute('#last-receipts-poll', 'class')).toContain('bad');
    await page.close();
  });
});
