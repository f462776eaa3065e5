/**
 * Speed of hot paths: two that used to be timed inside unit tests (where a busy machine, not slow
 * code, made them fail), the month bucketer on many items of a few months and a GET page of the
 * mock's leased queue over a million-item backlog; and the validation of HQ's items, zod's schema
 * against the fast path of src/hq/items.ts, on the mock's own well-formed items. Prints figures;
 * exits 1 only on a wrong result.
 *
 *   npm run build && node dist/scripts/bench/hot-paths.js
 */
import { isDeepStrictEqual } from 'node:util';
import { fastInbound, fastReceipt, inboundSchema, receiptSchema } from '../../src/hq/items';
import { HqState } from '../../src/hq-mock/hq';
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

interface ValidationSpeed {
  items: number;
  schemaUsPerItem: number;
  fastUsPerItem: number;
}

/**
 * µs of this process's CPU per item of `parse` over `items`: the best of 10 rounds, after a
 * warm-up round (the JIT, zod's compiled parsers). CPU time, not wall time: on a shared machine
 * waiting for a core is not the code's cost (the best round is the one least disturbed).
 */
function usPerItem(items: readonly unknown[], parse: (item: unknown) => unknown): number {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < 11; round++) {
    const before = process.cpuUsage();
    for (const item of items) if (parse(item) !== null) sink++;
    const used = process.cpuUsage(before);
    if (round > 0) best = Math.min(best, (used.user + used.system) / items.length);
  }
  if (sink === 0) throw new Error('validation: nothing parsed');
  return Math.round(best * 1000) / 1000;
}

/** The mock's items of one stream (its traffic generator, as the drain benchmark's backlog is made), JSON-parsed as the HQ client parses a page. */
function mockItems(kind: 'receipts' | 'inbound', count: number): unknown[] {
  const hq = new HqState({ seed: 3 });
  // Items HQ has already handed out by now (a receipt comes up to 6 h after its message), within retention.
  const to = Date.now() - 7 * 3_600_000;
  hq.generate(kind === 'receipts' ? { messages: count, inbound: 0, from: to - 20 * DAY, to } : { messages: 0, inbound: count, from: to - 20 * DAY, to });
  const items: unknown[] = [];
  while (items.length < count) {
    const page = JSON.parse(kind === 'receipts' ? hq.pageReceipts(1000).json : hq.pageInbound(1000).json) as { receipts?: unknown[]; messages?: unknown[] };
    const got = page.receipts ?? page.messages ?? [];
    if (got.length === 0) break;
    items.push(...got);
  }
  return items.slice(0, count);
}

function validation(kind: 'receipts' | 'inbound'): ValidationSpeed {
  const items = mockItems(kind, 20_000);
  const schema = kind === 'receipts' ? receiptSchema : inboundSchema;
  const fast = kind === 'receipts' ? fastReceipt : fastInbound;
  for (const item of items) {
    const viaSchema = schema.safeParse(item);
    if (!viaSchema.success || !isDeepStrictEqual(fast(item), viaSchema.data)) throw new Error(`validation: the fast path and the schema differ on a mock ${kind} item`);
  }
  return {
    items: items.length,
    schemaUsPerItem: usPerItem(items, (item) => (schema.safeParse(item).success ? item : null)),
    fastUsPerItem: usPerItem(items, fast),
  };
}

const b = bucketer();
const q = leasedQueue();
process.stdout.write(`month bucketer: ${b.itemsPerSecond} items/s (the daemon needs ~25000)\n`);
process.stdout.write(`mock leased queue: ${q.msPerPage} ms per 1000-item page over a 1,000,000-item backlog\n`);
for (const kind of ['inbound', 'receipts'] as const) {
  const v = validation(kind);
  const name = kind === 'inbound' ? 'replies' : 'receipts';
  // µs per item is also ms per 1000-item page, the page size the daemon asks for.
  process.stdout.write(`validating ${name} (${v.items} of the mock's): schema ${v.schemaUsPerItem} µs/item, fast path ${v.fastUsPerItem} µs/item`
    + ` (${Math.round((v.schemaUsPerItem / v.fastUsPerItem) * 10) / 10}x faster; the same figures are ms per 1000-item page)\n`);
}
