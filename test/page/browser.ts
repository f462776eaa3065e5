/**
 * A real browser for page tests and the screenshot script: Debian's chromium driven by
 * playwright-core (which never downloads a browser of its own), headless, with a fresh profile
 * in a temporary folder that close() removes. Every request to anything but the loopback
 * address is aborted and recorded: the page must work with no internet access.
 */
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from '../support/tmp';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

export interface TestBrowser {
  context: BrowserContext;
  /** The profile folder (--user-data-dir), removed by close(). */
  profileDir: string;
  /** Requests the page tried to make off this machine (always aborted). */
  offMachineRequests: string[];
  /** Uncaught page errors and console errors, with the page they came from. */
  problems: string[];
  /** A new tab: its own sessionStorage, so no token carried over from another test. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function openBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const profile = tempDir('econnector-chromium-');
  let context: BrowserContext;
  try {
    // launchPersistentContext passes the folder as --user-data-dir.
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: opts.viewport ?? { width: 1280, height: 900 },
      locale: 'en-US',
      timezoneId: 'UTC',
      colorScheme: 'light',
      reducedMotion: 'reduce',
    });
  } catch (err) {
    profile.remove();
    throw err;
  }
  const offMachineRequests: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]') return route.continue();
    offMachineRequests.push(url.href);
    return route.abort('internetdisconnected');
  });
  const watch = (page: Page): void => {
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // A 503 from /readyz is an answer the page shows ("not ready"), not a fault of the page: on a
      // loaded machine a readiness probe can run past its deadline and make /readyz say 503.
      if (/status of 503\b/.test(msg.text()) && new URL(msg.location().url || 'http://x/').pathname === '/readyz') return;
      problems.push(`console: ${msg.text()}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    profileDir: profile.path,
    offMachineRequests,
    problems,
    newPage: () => context.newPage(),
    close: async () => {
      try {
        await context.close();
      } finally {
        profile.remove();
      }
    },
  };
}
