/**
 * Where the daemon's threads spend a drain: `npm run bench -- --only drain --profile` starts the
 * daemon with `--cpu-prof`, and this reads the V8 CPU profiles it leaves (one per thread: the main
 * thread, and on SQLite the page writer's) and sums their samples by what the code does.
 * `npm run bench -- --scale --profile` does the same for the first worker process of each layout
 * and for the HQ mock (scale.ts).
 *
 * Each sample's time goes to the first category found walking its stack from the leaf up (the
 * leaf's own file first, then its callers), so a JSON.parse called by the HQ client counts as
 * JSON, and knex's own code called by the office upkeep counts under the driver. Inclusive times
 * (a sample counts for every category on its stack) answer "how long did the main thread spend in
 * the office upkeep, everything it called included".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ThreadProfile {
  file: string;
  /** Wall time the profile covers, in seconds. */
  seconds: number;
  /** Self time by category (leaf-first attribution), in seconds, largest first. */
  self: Array<{ category: string; seconds: number; share: number }>;
  /** Inclusive time of the project's own steps, in seconds. */
  inclusive: Array<{ step: string; seconds: number; share: number }>;
}

/** Categories by the frame's function and file; the first that matches names the frame. */
const CATEGORIES: Array<[category: string, test: (f: CallFrame) => boolean]> = [
  ['idle (waiting for I/O)', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['JSON (parse, stringify)', (f) => f.url === '' && /^(parse|stringify)$/.test(f.functionName)],
  ['validation (src/hq/items.ts, zod)', (f) => f.url.includes('/src/hq/items.') || f.url.includes('/node_modules/zod/')],
  ['HTTP (undici, node:http, the HQ client)', (f) => f.url.includes('/node_modules/undici/') || /node:(internal\/)?(http|_http|net|stream|tls)/.test(f.url) || f.url.includes('/src/hq/client.')],
  ['office upkeep (src/office: matching, keywords, consent, conversations; commlog)', (f) => f.url.includes('/src/office/') || f.url.includes('/src/db/commlog.')],
  ['rows and merge (page-sql, page-merge, bulk-sql, usage deltas)', (f) => /\/src\/ingest\/page-(sql|merge)\.|\/src\/db\/bulk-sql\.|\/src\/usage\/aggregates\./.test(f.url)],
  ['page writer thread (better-sqlite3 statements)', (f) => f.url.includes('/src/ingest/sqlite-page-writer.') || f.url.includes('/node_modules/better-sqlite3/')],
  ['PostgreSQL driver (pg, pg-protocol: encoding, the wire, parsing rows)', (f) => /\/node_modules\/(pg|pg-protocol|pg-types|pgpass|pg-pool)\//.test(f.url)],
  ['database driver (knex, node-sqlite3, MikroORM)', (f) => /\/node_modules\/(knex|sqlite3|@mikro-orm|tarn)\//.test(f.url)],
  ['drain, page store, acks (src/ingest)', (f) => f.url.includes('/src/ingest/')],
  ['HQ mock: queue, records, routes (src/hq-mock)', (f) => f.url.includes('/src/hq-mock/')],
  ['queues and Redis (bullmq, ioredis)', (f) => /\/node_modules\/(bullmq|ioredis)\//.test(f.url)],
  ['fastify, prom-client (the status server; in the HQ mock, its HTTP server)', (f) => /\/node_modules\/(fastify|prom-client|find-my-way|light-my-request)\//.test(f.url) || f.url.includes('/src/status/') || f.url.includes('/src/metrics/')],
  ['logging (winston)', (f) => /\/node_modules\/(winston|logform|triple-beam)\//.test(f.url) || f.url.includes('/src/log/')],
  ['worker thread messages (structured clone)', (f) => f.url.includes('node:internal/worker')],
];

/** Inclusive steps: a sample counts for a step when any frame of its stack is in the step's file. */
const STEPS: Array<[step: string, test: (f: CallFrame) => boolean]> = [
  ['HQ client: GET a page, ack (src/hq/client.ts)', (f) => f.url.includes('/src/hq/client.')],
  ['validation of a page (src/hq/items.ts)', (f) => f.url.includes('/src/hq/items.')],
  ['receipts page store (page-store-sqlite.ts, main side)', (f) => f.url.includes('/src/ingest/page-store-sqlite.')],
  ['receipts page store (page-store-postgres.ts)', (f) => f.url.includes('/src/ingest/page-store-postgres.')],
  ['PostgreSQL driver and knex, wherever called (pg, pg-protocol, knex)', (f) => /\/node_modules\/(pg|pg-protocol|knex)\//.test(f.url)],
  ['replies page transaction (record-inbound.ts)', (f) => f.url.includes('/src/ingest/record-inbound.')],
  ['office upkeep inside it (src/office, commlog)', (f) => f.url.includes('/src/office/') || f.url.includes('/src/db/commlog.')],
  ['page writer (sqlite-page-writer.ts)', (f) => f.url.includes('/src/ingest/sqlite-page-writer.')],
  ['HQ mock: serving a page (records.ts page)', (f) => f.url.includes('/src/hq-mock/records.') && f.functionName === 'page'],
  ['HQ mock: an acknowledgement (the /v1/…/ack route)', (f) => f.url.includes('/src/hq-mock/routes-v1.') && /ack/i.test(f.functionName)],
];

const categoryOf = (stack: readonly CallFrame[]): string => {
  for (const frame of stack) {
    for (const [category, test] of CATEGORIES) if (test(frame)) return category;
  }
  const leaf = stack[0];
  return leaf && leaf.url === '' ? `other native (${leaf.functionName || '(anonymous)'})` : 'other JavaScript';
};

export function summarizeProfile(path: string): ThreadProfile {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackCache = new Map<number, CallFrame[]>();
  const stackOf = (id: number): CallFrame[] => {
    let s = stackCache.get(id);
    if (s) return s;
    s = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) s.push(byId.get(at)!.callFrame);
    stackCache.set(id, s);
    return s;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const stack = stackOf(id);
    const category = categoryOf(stack);
    self.set(category, (self.get(category) ?? 0) + us);
    for (const [step, test] of STEPS) if (stack.some(test)) inclusive.set(step, (inclusive.get(step) ?? 0) + us);
  });
  const s = (us: number): number => Math.round(us / 1e4) / 100;
  const share = (us: number): number => (total > 0 ? Math.round((us / total) * 1000) / 10 : 0);
  return {
    file: path,
    seconds: s(total),
    self: [...self].sort((a, b) => b[1] - a[1]).map(([category, us]) => ({ category, seconds: s(us), share: share(us) })),
    inclusive: [...inclusive].sort((a, b) => b[1] - a[1]).map(([step, us]) => ({ step, seconds: s(us), share: share(us) })),
  };
}

/** The profiles of one run's directory, the longest (the main thread) first. */
export function summarizeProfiles(dir: string): ThreadProfile[] {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => summarizeProfile(join(dir, f))).sort((a, b) => b.seconds - a.seconds);
}

/** Markdown: one table per thread. */
export function profileMarkdown(threads: readonly ThreadProfile[]): string[] {
  const lines: string[] = [];
  threads.forEach((t, i) => {
    lines.push(`Thread ${i + 1} (${i === 0 ? 'the main thread' : 'a worker thread'}), ${t.seconds} s profiled:`, '');
    lines.push('| where (self time, leaf first) | seconds | share |', '| --- | ---: | ---: |');
    for (const c of t.self) lines.push(`| ${c.category} | ${c.seconds} | ${c.share}% |`);
    if (t.inclusive.length > 0) {
      lines.push('', '| step (inclusive: everything it called) | seconds | share |', '| --- | ---: | ---: |');
      for (const c of t.inclusive) lines.push(`| ${c.step} | ${c.seconds} | ${c.share}% |`);
    }
    lines.push('');
  });
  return lines;
}
