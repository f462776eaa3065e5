/** Development helper: records pages straight from an in-process mock, timing every SQL statement by kind. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/orm';
import { HqState } from '../../src/hq-mock/hq';
import { recordInboundPage, recordReceiptsPage } from '../../src/ingest/record-page';
import { splitPage } from '../../src/ingest/validate';
import { MonthBucketer } from '../../src/usage/month';

async function main(): Promise<void> {
  const receipts = Number(process.argv[2] ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'econnector-dev-'));
  const db = await openDatabase({ driver: 'sqlite', path: join(dir, 'x.sqlite') } as never);
  const hq = new HqState({ seed: 1 });
  const to = Date.now() - 7 * 3_600_000;
  hq.generate({ messages: Math.floor(receipts / 1.09), inbound: receipts / 5, from: to - 30 * 86_400_000, to });
  const months = new MonthBucketer('UTC');
  for (const pragma of (process.env.PRAGMAS ?? '').split(';').filter(Boolean)) console.log(pragma, await db.knex.raw(`PRAGMA ${pragma}`));
  const timing = new Map<string, { n: number; ms: number }>();
  const pending = new Map<string, { key: string; t: number }>();
  const knex = db.knex;
  knex.on('query', (q: { __knexQueryUid: string; sql: string }) => {
    pending.set(q.__knexQueryUid, { key: q.sql.replace(/\s+/g, ' ').slice(0, 48), t: performance.now() });
  });
  knex.on('query-response', (_r: unknown, q: { __knexQueryUid: string }) => {
    const p = pending.get(q.__knexQueryUid);
    if (!p) return;
    pending.delete(q.__knexQueryUid);
    const e = timing.get(p.key) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += performance.now() - p.t;
    timing.set(p.key, e);
  });
  const phase = { parse: 0, validate: 0, record: 0 };
  const started = performance.now();
  let items = 0;
  for (const stream of ['receipts', 'inbound'] as const) {
    for (;;) {
      const page = stream === 'receipts' ? hq.pageReceipts(1000) : hq.pageInbound(1000);
      if (page.count === 0) break;
      let t = performance.now();
      const body = JSON.parse(page.json) as { receipts?: unknown[]; messages?: unknown[] };
      const list = (body.receipts ?? body.messages)!;
      phase.parse += performance.now() - t;
      t = performance.now();
      const split = splitPage(stream === 'receipts' ? 'receipt' : 'inbound', list);
      phase.validate += performance.now() - t;
      t = performance.now();
      const out = stream === 'receipts'
        ? await recordReceiptsPage(knex, split.valid as never, split.quarantined, months)
        : await recordInboundPage(knex, split.valid as never, split.quarantined, months);
      phase.record += performance.now() - t;
      if (stream === 'receipts') hq.ackReceipts(out.ackIds);
      else hq.ackInbound(out.ackIds);
      items += list.length;
    }
  }
  const total = performance.now() - started;
  console.log(`items ${items} in ${Math.round(total)} ms = ${Math.round(items / (total / 1000))}/s`, Object.fromEntries(Object.entries(phase).map(([k, v]) => [k, Math.round(v)])));
  for (const [k, v] of [...timing].sort((a, b) => b[1].ms - a[1].ms)) console.log(String(Math.round(v.ms)).padStart(7), String(v.n).padStart(6), k);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
