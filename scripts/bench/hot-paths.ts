/**
 * Speed of two hot paths that used to be timed inside unit tests (where a busy machine, not slow
 * code, made them fail): the month bucketer on many items of a few months, and a GET page of the
 * mock's leased queue over a million-item backlog. Prints figures; exits 1 only on a wrong result.
 *
 *   npm run build && node dist/scripts/bench/hot-paths.js
 */
import { LeasedQueue } from '../../src/hq-mock/store';
import { mulberry32 } from '../../src/hq-mock/prng';
import { MonthBucketer } from '../../src/usage/month';

const DAY = 86_400_000;

function bucketer(): { itemsPerSecond: number } {
  const b = new MonthBucketer('America/Chicago');
  const rand = mulberry32(7);
  const base = Date.parse('2026-09-01T00:00:00.000Z');
  const instants = Array.from({ length: 1000 }, () => Math.floor(base + rand() * 120 * DAY));
  const t0 = process.hrtime.bigint();
  let n = 0;
  for (let round = 0; round < 1000; round++) for (const ms of instants) if (b.monthOf(ms).length === 7) n++;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (n !== 1_000_000) throw new Error(`bucketer: ${n} of 1000000 answers are month keys`);
  return { itemsPerSecond: Math.round(n / seconds) };
}

function leasedQueue(): { msPerPage: number } {
  const T0 = Date.parse('2026-11-01T00:00:00.000Z');
  const q = new LeasedQueue(60_000);
  const n = 1_000_000;
  q.reserve(n);
  for (let i = 0; i < n; i++) q.add(T0 - n + i, T0 - n + i, T0);
  const started = performance.now();
  for (let p = 0; p < 100; p++) q.ack(q.take(1000, T0), T0);
  const msPerPage = (performance.now() - started) / 100;
  if (q.stats().acked !== 100_000) throw new Error('leased queue: pages were not acked exactly once');
  return { msPerPage: Math.round(msPerPage * 1000) / 1000 };
}

const b = bucketer();
const q = leasedQueue();
process.stdout.write(`month bucketer: ${b.itemsPerSecond} items/s (the daemon needs ~25000)\n`);
process.stdout.write(`mock leased queue: ${q.msPerPage} ms per 1000-item page over a 1,000,000-item backlog\n`);
