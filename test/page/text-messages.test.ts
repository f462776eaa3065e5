/**
 * The Text Messages view of the page in Debian's chromium: every control (the tab and
 * its unread badge, the conversation list with its filters and "Load more", a thread with "Load
 * older", mark read/unread, hide and show hidden, move to patient, mark all read, block and
 * unblock, the reply box's part counter and sending), the refusals (no token, a wrong one, a
 * connector without API_TOKEN), and a reply that arrives at the HQ mock while the view is open.
 * A whole stack behind it: redis-server, the HQ mock, the daemon with API_TOKEN.
 */
import type { Page } from 'playwright-core';
import { upsertPatients } from '../../src/office/patients';
import { startStack, waitFor, type TestStack } from '../support/stack';
import { openBrowser, type TestBrowser } from './browser';
import type { StatusDocument } from '../support/status-client';

const TOKEN = 'messages-page-token-7c1d';
const TZ = 'America/Chicago';
const ANA = '+15035550142';
const FAMILY = '+15035550160';
const CHATTY = '+15035550177';
const crowd = (i: number): string => `+1503555${String(2000 + i).padStart(4, '0')}`;

async function enterToken(page: Page, token: string): Promise<void> {
  await page.locator('#token-dialog').waitFor({ state: 'visible' });
  await page.fill('#token-input', token);
  await page.click('#token-ok');
  await page.locator('#token-dialog').waitFor({ state: 'hidden' });
}

/** Waits until `probe` holds, polling the page. */
const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000) => waitFor(what, probe, ms, 50);

describe('the Text Messages view', () => {
  let stack: TestStack;
  let browser: TestBrowser;
  const inject = (clinicId: number, fromPhone: string, body: string, at: number) =>
    stack.sim<{ inboundId: string }>('POST', '/sim/inbound', { clinicId, fromPhone, body, receivedAt: new Date(at).toISOString() });
  const unreadTotal = async () => ((await (await fetch(`${stack.daemon.statusUrl}/api/inbound/unread`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { total: number }).total;
  const badge = (page: Page) => page.locator('#unread-badge');
  const conversation = (page: Page, phone: string) => page.locator(`#conversation-items button[data-phone="${phone}"]`);

  async function openView(page: Page): Promise<void> {
    await page.goto(`${stack.daemon.statusUrl}/#messages`);
    await page.locator('#messages-locked').waitFor({ state: 'visible' });
    await page.click('#messages-unlock');
    await enterToken(page, TOKEN);
    await page.locator('#messages-body').waitFor({ state: 'visible' });
    await until('the conversations', async () => (await page.locator('#conversation-items li').count()) > 0);
  }

  beforeAll(async () => {
    stack = await startStack({ tz: TZ, env: { API_TOKEN: TOKEN } });
    await stack.sim('POST', '/sim/config', { outcomes: { delivered: 1, unconfirmedThenDelivered: 0, tie: 0, failedWithCharge: 0, failedNoCharge: 0 } });
    await waitFor('account sync', async () => (await stack.status<StatusDocument>()).clinics.length >= 4, 15_000, 200);
    await upsertPatients(stack.daemon.app.db.knex, [
      { patientId: 1001, name: 'Ana Lopez', wirelessPhone: ANA, phoneKey: '15035550142', clinicId: 1, guarantorId: 1001, textOk: 'yes' },
      { patientId: 1020, name: 'Bo Chen', wirelessPhone: FAMILY, phoneKey: '15035550160', clinicId: 1, guarantorId: 1020, textOk: 'yes' },
      { patientId: 1021, name: 'Cy Chen', wirelessPhone: FAMILY, phoneKey: '15035550160', clinicId: 1, guarantorId: 1021, textOk: 'yes' },
    ]);
    // All in the last two hours of the mock's clock: 52 replies from one number (two thread
    // pages), 50 numbers with one reply each (two list pages), Ana at two clinics, a family.
    const base = stack.now() - 2 * 3_600_000;
    let t = base;
    for (let i = 0; i < 52; i++) await inject(1, CHATTY, `message number ${i + 1}`, (t += 1000));
    for (let i = 0; i < 50; i++) await inject(1 + (i % 2), crowd(i), `crowd ${i + 1}`, (t += 1000));
    await inject(1, FAMILY, 'Is the 3pm still on?', (t += 1000));
    await inject(1, ANA, 'Can we move it to Thursday?', (t += 1000));
    await inject(2, ANA, 'At Riverside please', t + 1000);
    await waitFor('every reply recorded', async () => (await unreadTotal()) === 105, 30_000, 200);
    browser = await openBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  afterEach(() => {
    // The refusals under test are 401s the browser logs as failed loads: nothing else may show.
    expect(browser.problems.filter((p) => !/status of 401\b/.test(p))).toEqual([]);
    browser.problems.length = 0;
    expect(browser.offMachineRequests).toEqual([]);
  });

  it('shows nothing of patients without the token; with it, the list, newest first, and the badge capped at 99+', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.daemon.statusUrl}/`);
    // The usage view first; the tab switches views and puts the view in the address.
    expect(await page.isVisible('main')).toBe(true);
    expect(await page.isVisible('#messages-view')).toBe(false);
    await page.click('#tab-messages');
    expect(page.url()).toMatch(/#messages$/);
    expect(await page.getAttribute('#tab-messages', 'aria-selected')).toBe('true');
    expect(await page.isVisible('main')).toBe(false);
    expect(await page.isVisible('#messages-locked')).toBe(true);
    expect(await page.isVisible('#messages-body')).toBe(false);
    expect(await badge(page).isVisible()).toBe(false);
    const body = (await page.textContent('body')) ?? '';
    expect(body).not.toContain('5550142');
    expect(body).not.toContain('Thursday');

    await page.click('#messages-unlock');
    await enterToken(page, TOKEN);
    await until('the conversations', async () => (await page.locator('#conversation-items li').count()) === 50);
    expect(await page.textContent('#token-state')).toBe('kept for this browser session');
    await until('the badge', async () => (await badge(page).textContent()) === '99+');
    expect(await page.getAttribute('#tab-messages', 'aria-label')).toBe('Text Messages, 105 unread');

    const first = conversation(page, ANA);
    expect(await page.locator('#conversation-items button').first().getAttribute('data-phone')).toBe(ANA);
    expect(await first.textContent()).toContain('Ana Lopez');
    expect(await first.locator('.badge').textContent()).toBe('2');
    expect(await first.locator('.last').textContent()).toContain('At Riverside please');
    // Load more: the second page follows the first, each number once.
    await page.click('#conversation-more');
    await until('the second page', async () => (await page.locator('#conversation-items li').count()) === 53);
    expect(await page.isVisible('#conversation-more')).toBe(false);
    const phones = await page.locator('#conversation-items button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-phone')));
    expect(new Set(phones).size).toBe(53);
    // Back to the usage grid by keyboard (arrow keys move between the tabs).
    await page.focus('#tab-messages');
    await page.keyboard.press('ArrowLeft');
    expect(await page.isVisible('main')).toBe(true);
    expect(page.url()).not.toMatch(/#messages/);
    await page.close();
  });

  it('filters by clinic and by unread', async () => {
    const page = await browser.newPage();
    await openView(page);
    await page.selectOption('#conversation-clinic', '2');
    await until('clinic 2 only', async () => (await page.locator('#conversation-items li').count()) === 26);
    expect(await conversation(page, ANA).count()).toBe(1);
    expect(await conversation(page, FAMILY).count()).toBe(0);
    await page.selectOption('#conversation-clinic', '');
    await page.check('#conversation-unread');
    await until('unread only', async () => (await page.locator('#conversation-items li').count()) === 50);
    await page.close();
  });

  it('opens a thread; marks a reply read and unread, hides and shows it, moves it to a patient; marks all read', async () => {
    const page = await browser.newPage();
    await openView(page);
    await conversation(page, FAMILY).click();
    const reply = page.locator('#thread-messages li.in').first();
    await until('the family thread', async () => ((await reply.textContent()) ?? '').includes('Is the 3pm still on?'));
    expect(await page.textContent('#thread-patients')).toContain('Bo Chen (patient 1020');
    expect(await page.textContent('#thread-patients')).toContain('Cy Chen (patient 1021');
    expect(await reply.textContent()).toContain('2 patients match: none chosen');
    const before = await unreadTotal();

    await reply.getByRole('button', { name: 'Mark read' }).click();
    await until('read', async () => ((await reply.textContent()) ?? '').includes('Read'));
    expect(await page.textContent('#message')).toBe('Marked read.');
    expect(await unreadTotal()).toBe(before - 1);
    await reply.getByRole('button', { name: 'Mark unread' }).click();
    await until('unread again', async () => (await reply.getAttribute('class'))?.includes('unread') === true);
    expect(await unreadTotal()).toBe(before);

    await reply.getByRole('button', { name: 'Hide' }).click();
    await until('hidden', async () => (await page.locator('#thread-messages li.in').count()) === 0);
    expect(await page.textContent('label[for="thread-show-hidden"]')).toBe('Show hidden replies (1)');
    expect(await unreadTotal()).toBe(before - 1);
    await page.check('#thread-show-hidden');
    await until('shown', async () => (await page.locator('#thread-messages li.hidden-reply').count()) === 1);
    await page.locator('#thread-messages li.hidden-reply').getByRole('button', { name: 'Unhide' }).click();
    await until('unhidden', async () => (await page.locator('#thread-messages li.hidden-reply').count()) === 0);
    expect(await unreadTotal()).toBe(before);

    // Move to patient: search by name, then by phone; then to nobody.
    await page.locator('#thread-messages li.in').first().getByRole('button', { name: 'Move to patient…' }).click();
    await page.locator('#move-dialog').waitFor({ state: 'visible' });
    await page.fill('#move-search', 'Cy');
    await until('the search', async () => (await page.locator('#move-results button').count()) === 1);
    expect(await page.textContent('#move-results button')).toContain('Cy Chen · patient 1021');
    await page.click('#move-results button');
    await page.locator('#move-dialog').waitFor({ state: 'hidden' });
    await until('moved', async () => ((await page.locator('#thread-messages li.in').first().textContent()) ?? '').includes('Cy Chen'));
    expect(await page.textContent('#message')).toBe('The reply is moved to Cy Chen.');
    expect(await conversation(page, FAMILY).textContent()).toContain('Cy Chen');
    await page.locator('#thread-messages li.in').first().getByRole('button', { name: 'Move to patient…' }).click();
    await page.fill('#move-search', '(503) 555-0160');
    await until('the phone search', async () => (await page.locator('#move-results button').count()) === 2);
    await page.click('#move-none');
    await until('no patient', async () => ((await page.locator('#thread-messages li.in').first().textContent()) ?? '').includes('2 patients match: none chosen'));
    expect(await page.textContent('#message')).toBe('The reply is assigned to no patient.');

    // Mark all read: the conversation's badge goes, the tab's count drops.
    await conversation(page, ANA).click();
    await until('Ana\'s thread', async () => (await page.locator('#thread-messages li.in').count()) === 2);
    await page.click('#thread-read');
    await until('all read', async () => (await page.textContent('#message')) === '2 replies marked read.');
    await until('no unread left in the thread', async () => (await page.locator('#thread-messages li.unread').count()) === 0);
    expect(await conversation(page, ANA).locator('.badge').count()).toBe(0);
    expect(await unreadTotal()).toBe(before - 2);
    await page.close();
  });

  it('pages back through a long thread with Load older', async () => {
    const page = await browser.newPage();
    await openView(page);
    await page.click('#conversation-more');
    await until('the second page', async () => (await conversation(page, CHATTY).count()) === 1);
    await conversation(page, CHATTY).click();
    await until('the latest 50', async () => (await page.locator('#thread-messages li.in').count()) === 50);
    expect(await page.locator('#thread-messages li.in .text').first().textContent()).toBe('message number 3');
    await page.click('#thread-older');
    await until('all 52', async () => (await page.locator('#thread-messages li.in').count()) === 52);
    expect(await page.locator('#thread-messages li.in .text').first().textContent()).toBe('message number 1');
    expect(await page.isVisible('#thread-older')).toBe(false);
    await page.close();
  });

  it('counts characters and parts as the send path does, sends a reply from the clinic of the latest reply, and shows its delivery', async () => {
    const page = await browser.newPage();
    await openView(page);
    await conversation(page, ANA).click();
    await until('Ana\'s thread', async () => (await page.locator('#thread-messages li').count()) >= 2);
    expect(await page.textContent('#reply-count')).toBe('160 characters left in this part · 1 part (GSM-7) · 0 of 1600 characters');
    await page.fill('#reply-body', 'a'.repeat(152) + '€' + 'a'.repeat(152));
    expect(await page.textContent('#reply-count')).toBe('153 characters left in this part · 3 parts (GSM-7) · 305 of 1600 characters');
    await page.fill('#reply-body', 'See you 🙂');
    expect(await page.textContent('#reply-count')).toBe('60 characters left in this part · 1 part (UCS-2) · 10 of 1600 characters');
    // An empty reply is refused on the page.
    await page.fill('#reply-body', '   ');
    await page.click('#reply-send');
    expect(await page.textContent('#message')).toBe('The reply is empty: type the text first. Nothing was sent.');

    await page.fill('#reply-body', 'Thursday 10am at Riverside works');
    await page.click('#reply-send');
    await until('queued', async () => ((await page.textContent('#message')) ?? '').startsWith('Reply queued from'));
    expect(await page.textContent('#message')).toBe('Reply queued from Clinic 2 (1 part).'.replace('Clinic 2', (await stack.status<StatusDocument>()).clinics.find((c) => c.clinicId === 2)!.name as string));
    expect(await page.inputValue('#reply-body')).toBe('');
    const sent = page.locator('#thread-messages li.out').last();
    expect(await sent.locator('.text').textContent()).toBe('Thursday 10am at Riverside works');
    // The unread poll does not move when a receipt comes; reopening the thread shows the delivery.
    await until('delivered', async () => {
      await conversation(page, ANA).click();
      return ((await page.locator('#thread-messages li.out').last().locator('.status').textContent()) ?? '').startsWith('Delivered · 1 part · $');
    }, 30_000);
    await page.close();
  });

  it('blocks and unblocks a number: the reply box is closed to it, its reply arrives hidden; a text to it is refused', async () => {
    const page = await browser.newPage();
    await openView(page);
    page.on('dialog', (d) => void d.accept());
    const phone = crowd(49);
    await until('the number', async () => (await conversation(page, phone).count()) === 1);
    await conversation(page, phone).click();
    await until('its thread', async () => (await page.locator('#thread-messages li.in').count()) === 1);
    const before = await unreadTotal();
    await page.click('#thread-block');
    await until('blocked', async () => (await page.textContent('#thread-block')) === 'Unblock number');
    expect(await page.textContent('#message')).toBe('The number is blocked: its replies are kept hidden, texts to it are refused.');
    expect(await page.isDisabled('#reply-send')).toBe(true);
    expect(await unreadTotal()).toBe(before - 1);
    await until('the list says blocked', async () => ((await conversation(page, phone).textContent()) ?? '').includes('Blocked number'));
    // A reply from it arrives hidden: the thread shows none until "Show hidden replies".
    await inject(1, phone, 'spam spam', stack.now());
    // A hidden reply moves no unread count, so the view learns of it when the thread is read again.
    await until('the hidden reply', async () => {
      await conversation(page, phone).click();
      return (await page.textContent('label[for="thread-show-hidden"]')) === 'Show hidden replies (1)';
    }, 20_000);
    expect(await page.locator('#thread-messages li.in').count()).toBe(1);
    expect(await unreadTotal()).toBe(before - 1);
    // The API refuses a text to it (409) whatever the page does.
    const res = await fetch(`${stack.daemon.statusUrl}/api/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ toPhone: phone, body: 'hi', clinicId: 1 }),
    });
    expect(res.status).toBe(409);
    await page.click('#thread-block');
    await until('unblocked', async () => (await page.textContent('#thread-block')) === 'Block number');
    expect(await page.isDisabled('#reply-send')).toBe(false);
    await page.close();
  });

  it('shows a reply that arrives at HQ while the view is open, within a few seconds and without a reload', async () => {
    const page = await browser.newPage();
    await openView(page);
    await conversation(page, ANA).click();
    await until('Ana\'s thread', async () => (await page.locator('#thread-messages li').count()) >= 2);
    const countBefore = await page.locator('#thread-messages li.in').count();
    const newcomer = '+15035550188';
    await inject(1, newcomer, 'Hi, this is Dee, new patient', stack.now());
    await inject(2, ANA, 'Thank you!', stack.now() + 1);
    await until('the new conversation', async () => (await page.locator('#conversation-items button').first().getAttribute('data-phone')) === ANA
      && (await conversation(page, newcomer).count()) === 1, 15_000);
    await until('the reply in the open thread', async () => (await page.locator('#thread-messages li.in').count()) === countBefore + 1, 15_000);
    expect(await page.locator('#thread-messages li.in .text').last().textContent()).toBe('Thank you!');
    await page.close();
  });

  it('keeps the pages loaded with Load more when a reply comes in', async () => {
    const page = await browser.newPage();
    await openView(page);
    await page.click('#conversation-more');
    await until('the second page', async () => (await conversation(page, CHATTY).count()) === 1);
    const shown = await page.locator('#conversation-items button').count();
    // A new reply changes the unread count: the view refreshes the list under the user's eyes.
    const latecomer = '+15035550199';
    await inject(1, latecomer, 'Running 10 minutes late', stack.now());
    await until('the latecomer on top', async () => (await page.locator('#conversation-items button').first().getAttribute('data-phone')) === latecomer, 15_000);
    expect(await page.locator('#conversation-items button').count()).toBe(shown + 1);
    expect(await conversation(page, CHATTY).count()).toBe(1);
    await page.close();
  });

  it('refuses with a wrong token (401), drops it and locks the view', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.daemon.statusUrl}/#messages`);
    await page.click('#messages-unlock');
    await enterToken(page, 'not-the-token');
    await until('the 401', async () => ((await page.textContent('#message')) ?? '').includes('401'));
    expect(await page.textContent('#message')).toBe('Reading the unread count refused: the connector did not accept the API token (401). Enter it again to see the text messages.');
    expect(await page.isVisible('#messages-locked')).toBe(true);
    expect(await page.textContent('#token-state')).toBe('not entered');
    expect(((await page.textContent('body')) ?? '')).not.toContain('5550142');
    await page.close();
  });
});

describe('the Text Messages view on a connector without API_TOKEN', () => {
  let stack: TestStack;
  let browser: TestBrowser;
  beforeAll(async () => {
    stack = await startStack({ tz: TZ });
    browser = await openBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('says that the connector shows no text messages (403)', async () => {
    const page = await browser.newPage();
    await page.goto(`${stack.daemon.statusUrl}/#messages`);
    await page.click('#messages-unlock');
    await enterToken(page, 'any-token');
    await until('the 403', async () => ((await page.textContent('#message')) ?? '').includes('403'));
    expect(await page.textContent('#message')).toContain('the connector has no API token set (API_TOKEN), so it shows no text messages (403)');
    expect(await page.locator('#conversation-items li').count()).toBe(0);
    expect(browser.problems.filter((p) => !/status of 403\b/.test(p))).toEqual([]);
    await page.close();
  });
});
