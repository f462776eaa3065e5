/**
 * Texting traffic placed at fixed offsets from the boundaries of the month under test, so what a
 * test sees in "this month", "last month" and the month before does not depend on the day the
 * suite runs. Everything is due by the stack's now (receipts come up to ~6 h after a text).
 */
import { DAY, HOUR, iso, monthUnderTest, type MonthUnderTest } from './clock';
import type { TestStack } from './stack';

/** Where a stack's clock stands inside its month: late enough for a week of this month's traffic. */
export const INTO_MONTH_MS = 9 * DAY + 12 * HOUR;
/** Traffic stops this long before now, so every receipt of it is already due. */
export const SETTLED_MS = 7 * HOUR;

/** The instant INTO_MONTH_MS after the start of the month that `instant` (default: the suite's start) falls in, in `tz`. */
export function intoMonthOf(tz: string, instant?: number): number {
  return monthUnderTest(tz, instant).startMs + INTO_MONTH_MS;
}

export interface WindowCounts {
  messages: number;
  inbound: number;
  malformed?: number;
}

export interface MonthTraffic {
  /** The last 36 h of the month before the previous one (a small month). */
  beforePrevious?: WindowCounts;
  /** The whole previous month. */
  previous?: WindowCounts;
  /** This month from its first instant to SETTLED_MS before now. */
  current?: WindowCounts;
  seed: number;
}

/**
 * Generates `plan` around the month of the stack's now (stack.now() must be at least SETTLED_MS
 * into the month), plus one text sent at the last millisecond of the previous month and one at
 * the first millisecond of this month, each delivered a second later: the boundaries themselves.
 */
export async function generateMonthTraffic(stack: TestStack, tz: string, plan: MonthTraffic): Promise<MonthUnderTest> {
  const now = stack.now();
  const m = monthUnderTest(tz, now);
  const end = now - SETTLED_MS;
  if (end <= m.startMs) throw new Error(`the stack's clock (${iso(now)}) is less than ${SETTLED_MS / HOUR} h into ${m.month}: nothing of this month would be due`);
  const windows: Array<[WindowCounts | undefined, number, number, number]> = [
    [plan.beforePrevious, m.previousStartMs - 36 * HOUR, m.previousStartMs, 1],
    [plan.previous, m.previousStartMs, m.startMs, 2],
    [plan.current, m.startMs, end, 3],
  ];
  for (const [counts, from, to, k] of windows) {
    if (!counts) continue;
    await stack.sim('POST', '/sim/traffic', { ...counts, malformed: counts.malformed ?? 0, from: iso(from), to: iso(to), seed: plan.seed * 10 + k });
  }
  for (const sentAt of [m.startMs - 1, m.startMs]) {
    await stack.sim('POST', '/sim/message', { clinicId: 1, sentAt: iso(sentAt), receipts: [{ status: 'delivered', statusAt: iso(sentAt + 1000) }] });
  }
  return m;
}
