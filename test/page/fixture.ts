/**
 * A connector stack with texting traffic over several months, drained and settled, for the page
 * tests and the screenshot script: /status already equals the mock's ground truth when this
 * returns, so the figures the page shows no longer move.
 */
import { generateMonthTraffic, intoMonthOf } from '../support/month-traffic';
import { Deadline, startStack, waitFor, waitForTruth, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

export const PAGE_TZ = 'America/Chicago';

export interface PageStackOptions {
  /** API_TOKEN of the daemon; null leaves it unset (state-changing requests answer 403). */
  apiToken: string | null;
  monthlyLimitUsd?: string;
  /** Totals over the three months (defaults 900, 250, 3). */
  messages?: number;
  inbound?: number;
  malformed?: number;
  seed?: number;
  /** Any instant of the month to show as "this month" (default: the suite's now, test/support/clock.ts). */
  month?: number;
}

export async function startPageStack(opts: PageStackOptions): Promise<TestStack> {
  // The clocks stand 9.5 days into the month under test, whatever day the suite runs on.
  const stack = await startStack({
    tz: PAGE_TZ,
    clockAt: intoMonthOf(PAGE_TZ, opts.month),
    // A short lease: a page whose answer a loaded machine timed out comes back in seconds, not the
    // default minute (the oldest month's items, served first, would otherwise miss the deadline).
    mock: { seed: opts.seed ?? 5, leaseMs: 3000, ...(opts.monthlyLimitUsd ? { monthlyLimitUsd: opts.monthlyLimitUsd } : {}) },
    ...(opts.apiToken !== null ? { env: { API_TOKEN: opts.apiToken } } : {}),
  });
  try {
    // Three months: the last 36 h of the oldest (4.5% of the texts: with the defaults, cents,
    // under a $1.00 limit), then half each to the whole previous month and this one's 9 days so
    // far (dollars, over it). The malformed items go into this month.
    const split = (total: number): [number, number, number] => {
      const oldest = Math.round(total * 0.045);
      const previous = Math.floor((total - oldest) / 2);
      return [oldest, previous, total - oldest - previous];
    };
    const [m0, m1, m2] = split(opts.messages ?? 900);
    const [i0, i1, i2] = split(opts.inbound ?? 250);
    await generateMonthTraffic(stack, PAGE_TZ, {
      beforePrevious: { messages: m0, inbound: i0 },
      previous: { messages: m1, inbound: i1 },
      current: { messages: m2, inbound: i2, malformed: opts.malformed ?? 3 },
      seed: opts.seed ?? 5,
    });
    // One deadline for both waits, inside the 60 s of the callers' beforeAll.
    const deadline = new Deadline(50_000, 'the page stack');
    await waitForTruth(stack, PAGE_TZ, deadline);
    // The account (names, phones, the limit) is synced too.
    await waitFor('the account sync', async () => (await stack.status<StatusDocument>()).limitUsd !== null, deadline, 200);
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** The months the traffic covers, oldest first, ending with the current month. */
export function monthsBack(current: string, n: number): string[] {
  const [y, m] = current.split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let k = n; k >= 0; k -= 1) {
    const idx = y * 12 + (m - 1) - k;
    out.push(`${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, '0')}`);
  }
  return out;
}
