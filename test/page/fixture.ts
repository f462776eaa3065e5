/**
 * A connector stack with texting traffic over several months, drained and settled, for the page
 * tests and the screenshot script: /status already equals the mock's ground truth when this
 * returns, so the figures the page shows no longer move.
 */
import { diffAgainstTruth, startStack, waitFor, type StatusJson, type TestStack } from '../support/stack';

export const PAGE_TZ = 'America/Chicago';
const DAY = 86_400_000;

export interface PageStackOptions {
  /** API_TOKEN of the daemon; null leaves it unset (state-changing requests answer 403). */
  apiToken: string | null;
  monthlyLimitUsd?: string;
  messages?: number;
  inbound?: number;
  malformed?: number;
  seed?: number;
}

export async function startPageStack(opts: PageStackOptions): Promise<TestStack> {
  const stack = await startStack({
    tz: PAGE_TZ,
    mock: { seed: opts.seed ?? 5, ...(opts.monthlyLimitUsd ? { monthlyLimitUsd: opts.monthlyLimitUsd } : {}) },
    ...(opts.apiToken !== null ? { env: { API_TOKEN: opts.apiToken } } : {}),
  });
  try {
    const now = Date.now();
    await stack.sim('POST', '/sim/traffic', {
      messages: opts.messages ?? 900,
      inbound: opts.inbound ?? 250,
      malformed: opts.malformed ?? 3,
      // 58 days: within HQ's 60-day retention, and spread over three months (two or three
      // before this one). Ends 7 h back so every message's receipts have all arrived.
      from: new Date(now - 58 * DAY).toISOString(),
      to: new Date(now - 7 * 3_600_000).toISOString(),
      seed: opts.seed ?? 5,
    });
    await waitFor(
      'status to equal the mock truth',
      async () => {
        const diffs = await diffAgainstTruth(stack, PAGE_TZ);
        return diffs.length === 0 ? true : undefined;
      },
      45_000,
      300,
    );
    // The account (names, phones, the limit) is synced too.
    await waitFor('the account sync', async () => (await stack.status<StatusJson>()).limitUsd !== null, 15_000, 200);
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
