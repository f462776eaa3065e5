/**
 * Experiment: the cost of recording one page of 1,000 replies (recordInboundPage, the
 * whole transaction) on a database already holding replies from 30,000 numbers. Run it in two
 * trees (before and after a change) to compare what the change adds; BENCHMARKS.md has the figures.
 *
 *   node dist-dev/scripts/bench/dev-reply-page.js [preloadPages=100] [measuredPages=40]
 */
import { rmSync } from 'node:fs';
import { insertRows, type SqlValue } from '../../src/db/bulk-sql';
import { openDatabase } from '../../src/db/orm';
import type { ValidInbound } from '../../src/hq/schemas';
import { mulberry32, randInt } from '../../src/hq-mock/prng';
import { recordInboundPage } from '../../src/ingest/record-page';
import { MonthBucketer } from '../../src/usage/month';

const PHONES = 30_000;
const phoneOf = (i: number): string => `+1503${String(2_000_000 + i).padStart(7, '0')}`;

async function main(): Promise<void> {
  const preload = Number(process.argv[2] ?? 100);
  const measured = Number(process.argv[3] ?? 40);
  const path = `/var/tmp/dev-reply-page-${process.pid}.sqlite`;
  const db = await openDatabase({ driver: 'sqlite', path });
  const months = new MonthBucketer('America/Chicago');
  const rng = mulberry32(7);
  try {
    await insertRows(db.knex, 'clinics', ['clinic_id', 'name', 'subscribed', 'in_account', 'seen_in_traffic', 'updated_at'],
      Array.from({ length: 10 }, (_, c): SqlValue[] => [c + 1, `Clinic ${c + 1}`, true, true, true, 0]), 'ON CONFLICT DO NOTHING');
    const patients: SqlValue[][] = [];
    for (let i = 0; i < PHONES; i++) if (i % 3 !== 2) patients.push([i + 1, `P${i}`, phoneOf(i), phoneOf(i).slice(1), 1 + (i % 10), i + 1, 'yes', 0]);
    for (let s = 0; s < patients.length; s += 2000) {
      await insertRows(db.knex, 'patients', ['patient_id', 'name', 'wireless_phone', 'phone_key', 'clinic_id', 'guarantor_id', 'text_ok', 'updated_at'], patients.slice(s, s + 2000), 'ON CONFLICT DO NOTHING');
    }
    let seq = 0;
    let at = Date.parse('2026-11-01T12:00:00.000Z');
    const page = (): ValidInbound[] => Array.from({ length: 1000 }, () => {
      const p = randInt(rng, 0, PHONES - 1);
      seq += 1;
      at += 1000;
      return { inboundId: `i-${String(seq).padStart(9, '0')}`, clinicId: 1 + (p % 10), fromPhone: phoneOf(p), toPhone: '+15035550100', body: 'Yes, see you then', receivedAtMs: at, chargeMicros: 7900, segments: 1 };
    });
    for (let i = 0; i < preload; i++) await recordInboundPage(db.knex, page(), [], months, at);
    const ms: number[] = [];
    for (let i = 0; i < measured; i++) {
      const p = page();
      const t = performance.now();
      await recordInboundPage(db.knex, p, [], months, at);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({ preloadReplies: preload * 1000, pages: measured, medianMs: Math.round(ms[Math.floor(ms.length / 2)]! * 10) / 10, p10Ms: Math.round(ms[Math.floor(ms.length / 10)]! * 10) / 10 })}\n`);
  } finally {
    await db.close();
    for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
  }
}

void main();
