/**
 * The Texting Services page against a connector with no API_TOKEN: the page still shows the
 * usage, and every change is refused with a message that says why (403), not a vague failure.
 */
import { startStack, waitFor, type TestStack } from '../support/stack';
import { openBrowser, type TestBrowser } from './browser';
import type { StatusDocument } from '../support/status-client';

describe('the Texting Services page when the connector has no API_TOKEN', () => {
  let stack: TestStack;
  let browser: TestBrowser;

  beforeAll(async () => {
    stack = await startStack({ tz: 'America/Chicago' });
    await waitFor('the account sync', async () => (await stack.status<StatusDocument>()).clinics.length > 0, 15_000, 200);
    browser = await openBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows the grid, and explains the 403 refusal of Set Default and of Save', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.daemon.statusUrl}/`);
    await waitFor('the grid', async () => (await page.getAttribute('#usage', 'data-month')) !== null, 10_000, 25);
    expect(await page.locator('#usage-rows tr[data-clinic-id]').count()).toBe((await stack.status<StatusDocument>()).clinics.length);

    await page.locator('#usage-rows tr[data-clinic-id="1"]').click();
    await page.click('#set-default');
    await page.fill('#token-input', 'any-token');
    await page.click('#token-ok');
    const text = await waitFor('the 403 refusal', async () => {
      const t = (await page.textContent('#message')) ?? '';
      return t.includes('403') ? t : undefined;
    }, 10_000, 25);
    expect(text).toBe('Set Default refused: the connector has no API token set (API_TOKEN), so it accepts no changes (403). Nothing was changed.');
    expect(await page.getAttribute('#message', 'data-kind')).toBe('error');
    expect((await stack.status<StatusDocument>()).defaultClinicId).toBeNull();

    // Reading the opt-in settings needs no token; saving them is refused the same way.
    await waitFor('the opt-in form', async () => (await page.getAttribute('#optin-fields', 'disabled')) === null, 10_000, 25);
    await page.fill('#optin-title', 'Anything');
    await page.click('#optin-save');
    await waitFor('the opt-in refusal', async () => ((await page.textContent('#message')) ?? '').startsWith('Save refused: the connector has no API token set'), 10_000, 25);
    expect(browser.offMachineRequests).toEqual([]);
    expect(browser.problems.filter((p) => !/status of 403\b/.test(p))).toEqual([]);
    await page.close();
  });
});
