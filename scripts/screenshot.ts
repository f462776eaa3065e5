/**
 * Takes docs/texting-services.png: a whole stack (redis-server, the HQ mock with traffic over
 * several months, the daemon) and the Texting Services page in Debian's headless chromium, with
 * a location selected so the OptIn panel is filled in.
 *
 *   npm run screenshot            (builds first; writes docs/texting-services.png)
 *   node dist/scripts/screenshot.js [out.png]
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openBrowser, type TestBrowser } from '../test/page/browser';
import { startPageStack } from '../test/page/fixture';
import type { TestStack } from '../test/support/stack';

const TOKEN = 'screenshot-token';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? resolve(__dirname, '..', '..', 'docs', 'texting-services.png'));
  let stack: TestStack | undefined;
  let browser: TestBrowser | undefined;
  try {
    stack = await startPageStack({ apiToken: TOKEN, monthlyLimitUsd: '50.00', messages: 1500, inbound: 420, malformed: 2, seed: 11 });
    const base = stack.daemon.statusUrl;
    // Main Street is the default texting clinic, as in most offices (through the office API, when it is there).
    const set = await fetch(`${base}/api/clinics/default`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ clinicId: 1 }),
    }).catch(() => null);
    if (!set?.ok) console.warn(`screenshot: could not set the default clinic (${set ? set.status : 'no answer'}); shown without one`);

    browser = await openBrowser({ viewport: { width: 1280, height: 900 } });
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.locator('#usage[data-month]').waitFor();
    await page.locator('#usage-rows tr[data-clinic-id="2"]').click();
    // The OptIn panel fills in once the API answered (or says it could not).
    await page.waitForTimeout(500);
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    mkdirSync(dirname(out), { recursive: true });
    // A window as tall as the page rather than fullPage: the status bar sticks to the window's
    // bottom, and a full-page capture would paint it over the middle of the page.
    const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
    await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 600), 4000) });
    await page.screenshot({ path: out });
    if (browser.problems.length > 0) console.warn(`screenshot: the page reported:\n  ${browser.problems.join('\n  ')}`);
    console.log(`screenshot: wrote ${out}`);
  } finally {
    await browser?.close();
    await stack?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`screenshot: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
