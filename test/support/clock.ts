/**
 * Time for tests that mean a date. A test never asks the machine what day it is: it takes the
 * suite's instant (suiteStart), picks the month under test from it in an explicit zone, builds its
 * traffic at fixed offsets from that month's boundaries, and runs the HQ mock and the daemon at
 * the instant it means (both clocks at the same offset from real time, docs/testing.md).
 *
 * ECONNECTOR_TEST_NOW (an ISO instant) moves the suite's instant: scripts/check-date-proof.sh
 * runs the date-sensitive suites at the first and last millisecond of a month, across a DST
 * change and under several TZ values. Unset, the suite's instant is the real now.
 */
import { MonthBucketer, type MonthKey } from '../../src/usage/month';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The suite's clock, fixed at the first read: its offset from real time and the instant it started at. */
let fixed: { offset: number; start: number } | undefined;

function suiteClock(): { offset: number; start: number } {
  if (fixed) return fixed;
  const raw = process.env.ECONNECTOR_TEST_NOW;
  const real = Date.now();
  if (raw === undefined || raw === '') return (fixed = { offset: 0, start: real });
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms) || !/T.*(Z|[+-]\d\d:\d\d)$/.test(raw)) {
    throw new Error(`ECONNECTOR_TEST_NOW must be an ISO instant with a zone, e.g. 2026-12-01T06:00:00.000Z (got ${JSON.stringify(raw)})`);
  }
  // Fixed once and then ticking with real time: every stack of the file sees one consistent clock.
  return (fixed = { offset: ms - real, start: ms });
}

/** The offset of the suite's clock from real time (0 unless ECONNECTOR_TEST_NOW is set): for clocks that follow the suite. */
export function suiteOffset(): number {
  return suiteClock().offset;
}

/** The instant the suite's clock started at (ECONNECTOR_TEST_NOW exactly, or the real time of the first read). */
export function suiteStart(): number {
  return suiteClock().start;
}

/** The offset from real time that puts a clock at `instant` now. */
export function offsetTo(instant: number): number {
  return Math.round(instant - Date.now());
}

/** The month `instant` falls in, in `tz`, with its neighbours and boundaries. */
export interface MonthUnderTest {
  tz: string;
  month: MonthKey;
  previous: MonthKey;
  beforePrevious: MonthKey;
  /** First instant of `month`. */
  startMs: number;
  /** First instant after `month`. */
  endMs: number;
  /** First instant of `previous`. */
  previousStartMs: number;
}

export function monthUnderTest(tz: string, instant: number = suiteStart()): MonthUnderTest {
  const b = new MonthBucketer(tz);
  const month = b.monthOf(instant);
  const previous = b.shift(month, -1);
  const { startMs, endMs } = b.range(month);
  return { tz, month, previous, beforePrevious: b.shift(month, -2), startMs, endMs, previousStartMs: b.range(previous).startMs };
}

/** The month key of `instant` in `tz`. */
export function monthOf(tz: string, instant: number): MonthKey {
  return new MonthBucketer(tz).monthOf(instant);
}

export const iso = (ms: number): string => new Date(ms).toISOString();
