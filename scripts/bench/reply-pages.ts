/**
 * What the text-messages upkeep (issue #15) costs when a page of 1,000 patient replies is recorded:
 * `npm run build && npm run build:scripts && node dist/scripts/bench/reply-pages.js` (about three
 * minutes; `--help` for the sizes).
 *
 * Two SQLite files are fed the SAME generated traffic, in time order, through the daemon's own write
 * paths (insertOfficeMessages for office texts, recordInboundPage for pages of replies):
 *
 * - "with": the project's schema, every migration, as an office runs it;
 * - "without": the same schema less what #15 added for conversations (WITHOUT_15 below: the
 *   conversations, unread_counts and blocked_numbers tables, the thread indexes, with
 *   inbound_from_phone back as it was before them), and the upkeep statements skipped: this script
 *   replaces noteActivity and flagsForNewReplies (src/office/conversations.ts) in its own process
 *   only, by a no-op and by "every reply unread", while it writes to that file. A benchmark-only
 *   variant: the daemon has no such switch. The reply columns #15 added (is_read, hidden) stay,
 *   because the page's insert names them; they are two small integers of a row.
 *
 * Both files are first filled to a realistic size (--replies and --texts over --phones numbers),
 * each through its own variant so each has its own indexes grown by inserts, as a database that
 * has run for months has. Then the same --pages pages (1,000 replies from random numbers, after
 * everything already stored) are recorded into both, alternating which file goes first, and each
 * page's process CPU time and wall time are taken. The pages go through a connection like the SQLite
 * page store's writer thread's (better-sqlite3, the daemon's pragmas, knex on it: Target below),
 * since that is where the daemon records reply pages. CPU time is the figure to judge by on a
 * shared machine: it hardly moves with the load, while wall time includes waiting for a core and
 * the WAL's fsync.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { insertRows, rowsOf, type SqlValue } from '../../src/db/bulk-sql';
import { MIGRATIONS } from '../../src/db/migrations';
import BetterSqlite3 from 'better-sqlite3';
import type { Knex } from '@mikro-orm/knex';
import { openDatabase, type Database } from '../../src/db/orm';
import { knexOnConnection } from '../../src/db/sqlite-connection-knex';
import { SQLITE_CONNECTION_PRAGMAS } from '../../src/db/sqlite-pragmas';
import type { ValidInbound } from '../../src/hq/items';
import { mulberry32, randInt, type Rng } from '../../src/hq-mock/prng';
import { recordInboundPage } from '../../src/ingest/record-inbound';
import * as conversations from '../../src/office/conversations';
import { FOLD_AT, foldPending, pendingEntries } from '../../src/office/conversation-fold';
import { insertOfficeMessages, type OfficeMessage } from '../../src/office/send';
import { MonthBucketer } from '../../src/usage/month';
import { intOption, parseCommandLine, UsageError } from '../../src/util/cli-args';
import { median, percentile, round } from './util';

const HELP = `Usage: node dist/scripts/bench/reply-pages.js [options]

Records the same pages of 1,000 replies with and without the text-messages upkeep (issue #15) and
reports the page's CPU and wall time of each, and their ratio.

Options:
  --replies N   replies stored before the measured pages (default 200000)
  --texts N     office texts stored before them (default 200000)
  --phones N    phone numbers the traffic comes from (default 30000)
  --pages N     measured pages per variant (default 220: a fold cycle and more), after --warmup pages (default 5)
  --warmup N
  --dir DIR     where the two files go (default /var/tmp); removed afterwards
  --cache DIR   keep the filled files in DIR and start from copies of them when they match the
                schema and the sizes (a second run skips the fill)
  --json FILE   also write the raw figures as JSON`;

type Variant = 'with' | 'without';

/**
 * The schema change from "with" to "without": what #15 added for conversations, for a database
 * migrated to the end. Indexes are dropped IF EXISTS, so the list stays right whatever later
 * migrations renamed.
 */
const WITHOUT_15: readonly string[] = [
  'DROP TABLE conversations',
  'DROP TABLE conversation_activity',
  'DROP TABLE unread_counts',
  'DROP TABLE blocked_numbers',
  'DROP INDEX IF EXISTS inbound_from_received',
  'DROP INDEX IF EXISTS inbound_thread',
  'DROP INDEX IF EXISTS outbound_to_sent',
  // Before #15 a number's replies were found by this one (Migration20261201213500_consent_commlog).
  'CREATE INDEX inbound_from_phone ON inbound_messages (from_phone)',
];

// ---- the upkeep switch, in this process only ----
let writing: Variant = 'with';
/** CPU ms spent in each upkeep call (its statements included) since the last reset: where the cost is. */
const upkeepCpuMs = { noteActivity: 0, flagsForNewReplies: 0 };
async function timed<T>(call: keyof typeof upkeepCpuMs, work: () => Promise<T>): Promise<T> {
  const cpu0 = process.cpuUsage();
  try {
    return await work();
  } finally {
    const cpu = process.cpuUsage(cpu0);
    upkeepCpuMs[call] += (cpu.user + cpu.system) / 1000;
  }
}
const real = { noteActivity: conversations.noteActivity, flagsForNewReplies: conversations.flagsForNewReplies };
const switched: Pick<typeof conversations, 'noteActivity' | 'flagsForNewReplies'> = {
  noteActivity: (trx, activity) => (writing === 'with' ? timed('noteActivity', () => real.noteActivity(trx, activity)) : Promise.resolve()),
  flagsForNewReplies: (trx, replies) => (writing === 'with'
    ? timed('flagsForNewReplies', () => real.flagsForNewReplies(trx, replies))
    : Promise.resolve(new Map(replies.map((r) => [r.inboundId, { isRead: false, hidden: false }])))),
};
// The compiled modules call each other through their exports objects, so this reaches
// recordInboundPage's and insertOfficeMessages' calls.
Object.assign(conversations, switched);

interface Spec {
  replies: number;
  texts: number;
  phones: number;
  pages: number;
  warmup: number;
  dir: string;
  cache: string | null;
  json: string | null;
}

const CLINICS = 10;
// No carrier keyword (STOP, START, YES, HELP): their upkeep would only add to both variants alike.
const BODIES = ['C', 'Confirmed', 'Can we move it to Thursday?', 'Thanks, see you then', 'Running 10 minutes late'];
const phoneOf = (i: number): string => `+1503${String(2_000_000 + i).padStart(7, '0')}`;

/** The traffic, generated once and fed to both files alike. */
class Traffic {
  private readonly rng: Rng = mulberry32(1515);
  private seq = 0;
  private sent = 0;
  at: number;

  constructor(private readonly phones: number, start: number, private readonly step: number) {
    this.at = start;
  }

  replyPage(n = 1000): ValidInbound[] {
    const page: ValidInbound[] = [];
    for (let i = 0; i < n; i++) {
      const p = randInt(this.rng, 0, this.phones - 1);
      this.at += this.step;
      this.seq += 1;
      page.push({
        inboundId: `i-${String(this.seq).padStart(9, '0')}`, clinicId: 1 + (p % CLINICS), fromPhone: phoneOf(p), toPhone: '+15035550100',
        body: BODIES[this.seq % BODIES.length]!, receivedAtMs: this.at, chargeMicros: 7900, segments: 1,
      });
    }
    return page;
  }

  /** Office texts, with guids as long as the daemon's (UUIDs): a conversation names its latest message. */
  texts(n = 1000): OfficeMessage[] {
    const batch: OfficeMessage[] = [];
    for (let i = 0; i < n; i++) {
      const p = randInt(this.rng, 0, this.phones - 1);
      this.sent += 1;
      batch.push({
        guid: `00000000-0000-4000-8000-${String(this.sent).padStart(12, '0')}`, clinicId: 1 + (p % CLINICS), patientId: p % 3 === 2 ? null : p + 1, toPhone: phoneOf(p),
        body: 'Reminder: your appointment is tomorrow at 9:30am. Reply C to confirm.', segments: 1, purpose: null,
      });
    }
    this.at += this.step * n;
    return batch;
  }
}

/**
 * One of the two files: the ORM's connection (migrations, the fill's office texts, as the send path
 * writes them) and, for the reply pages, a connection like the SQLite page store's writer thread's
 * (src/ingest/sqlite-page-writer.ts): better-sqlite3 with the daemon's pragmas, knex on it, in
 * this process so its CPU is the process's.
 */
class Target {
  private constructor(readonly variant: Variant, readonly db: Database, private readonly connection: BetterSqlite3.Database, readonly writer: Knex) {}

  static async open(variant: Variant, path: string): Promise<Target> {
    const db = await openDatabase({ driver: 'sqlite', path });
    const connection = new BetterSqlite3(path, { fileMustExist: true });
    for (const pragma of SQLITE_CONNECTION_PRAGMAS) connection.exec(pragma);
    return new Target(variant, db, connection, knexOnConnection(connection, path));
  }

  async close(): Promise<void> {
    await this.writer.destroy();
    this.connection.close();
    await this.db.close();
  }

  async write<T>(work: () => Promise<T>): Promise<T> {
    writing = this.variant;
    try {
      return await work();
    } finally {
      writing = 'with';
    }
  }
}

const months = new MonthBucketer('UTC');

async function recordPage(t: Target, page: ValidInbound[], now: number): Promise<void> {
  await t.write(() => recordInboundPage(t.writer, page, [], months, now));
}

async function recordTexts(t: Target, batch: OfficeMessage[], now: number): Promise<void> {
  await t.write(() => t.db.knex.transaction((trx) => insertOfficeMessages(trx, batch, now)));
}

async function fill(targets: Target[], spec: Spec, log: (line: string) => void): Promise<Traffic> {
  for (const t of targets) {
    const knex = t.db.knex;
    if (t.variant === 'without') for (const sql of WITHOUT_15) await knex.raw(sql);
    await insertRows(knex, 'clinics', ['clinic_id', 'name', 'subscribed', 'in_account', 'seen_in_traffic', 'updated_at'],
      Array.from({ length: CLINICS }, (_, c): SqlValue[] => [c + 1, `Clinic ${c + 1}`, true, true, true, 0]), 'ON CONFLICT DO NOTHING');
    // Two of three numbers belong to a patient, so replies are matched as in an office.
    const patients: SqlValue[][] = [];
    for (let i = 0; i < spec.phones; i++) {
      if (i % 3 === 2) continue;
      const phone = phoneOf(i);
      patients.push([i + 1, `Patient ${i + 1}`, `patient ${i + 1}`, phone, phone.slice(1), 1 + (i % CLINICS), i + 1, 'yes', 0]);
    }
    for (let s = 0; s < patients.length; s += 2000) {
      await insertRows(knex, 'patients', ['patient_id', 'name', 'name_key', 'wireless_phone', 'phone_key', 'clinic_id', 'guarantor_id', 'text_ok', 'updated_at'],
        patients.slice(s, s + 2000), 'ON CONFLICT DO NOTHING');
    }
  }
  // The fill spans the 60 days before the measured pages, which come right after it.
  const batches = Math.ceil(spec.replies / 1000) + Math.ceil(spec.texts / 1000) + spec.warmup + spec.pages;
  const span = 60 * 86_400_000;
  const traffic = new Traffic(spec.phones, Date.now() - span, Math.floor(span / (batches * 1000)));
  let replies = 0;
  let texts = 0;
  while (replies < spec.replies || texts < spec.texts) {
    const textNext = replies >= spec.replies || (texts < spec.texts && texts / spec.texts <= replies / spec.replies);
    if (textNext) {
      const batch = traffic.texts(Math.min(1000, spec.texts - texts));
      for (const t of targets) await recordTexts(t, batch, traffic.at);
      texts += batch.length;
    } else {
      const page = traffic.replyPage(Math.min(1000, spec.replies - replies));
      for (const t of targets) await recordPage(t, page, traffic.at);
      replies += page.length;
    }
    if ((replies + texts) % 50_000 < 1000) log(`  filled ${replies.toLocaleString('en-US')} replies, ${texts.toLocaleString('en-US')} texts`);
  }
  for (const t of targets) {
    await t.db.knex.raw('DELETE FROM outbox');
    // As the daemon's next empty poll would: the measured pages begin a fold cycle (src/office/conversation-fold.ts).
    if (t.variant === 'with') await foldPending(t.db.knex);
    await t.db.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  }
  return traffic;
}

interface Figures {
  cpuMs: number[];
  wallMs: number[];
  /** Whether the page folded the pending activity ("with" only). */
  folded: boolean[];
  /** Of cpuMs, noteActivity's and flagsForNewReplies'. */
  noteActivityCpuMs: number[];
  flagsCpuMs: number[];
}

interface VariantResult {
  cpu: { p50: number; p90: number; mean: number };
  /** Pages that folded, and the mean CPU of those and of the others. */
  folds: { pages: number; foldingMeanMs: number | null; appendingMeanMs: number | null };
  /**
   * The CPU of a page averaged over a whole fold cycle: the pages that only append, plus one fold's
   * extra spread over the pages a fold comes after (FOLD_AT ÷ numbers per page). Without folds
   * (the "without" variant, or a window with none) the plain mean.
   */
  cycleMeanMs: number;
  noteActivityCpu: { p50: number; p90: number; mean: number };
  flagsCpu: { p50: number; p90: number; mean: number };
  wall: { p50: number; p90: number; mean: number };
  bytes: number;
}

interface ReplyPagesResult {
  spec: Omit<Spec, 'dir' | 'cache' | 'json'>;
  loadAtStart: number[];
  loadAtEnd: number[];
  with: VariantResult;
  without: VariantResult;
  /** with ÷ without. */
  ratio: { cpuP50: number; cpuMean: number; cpuCycleMean: number; wallP50: number; wallP90: number };
  /** Numbers per measured page (its distinct senders), and pages per fold cycle. */
  numbersPerPage: number;
  pagesPerFold: number;
  problems: string[];
}

function summary(values: readonly number[]): { p50: number; p90: number; mean: number } {
  return { p50: round(median(values), 1), p90: round(percentile(values, 90), 1), mean: round(values.reduce((s, v) => s + v, 0) / values.length, 1) };
}

/** The cache's files are good for this run when they hold the same schema and sizes. */
function cacheKey(spec: Spec): string {
  return JSON.stringify({ migrations: MIGRATIONS.map((m) => m.name), without: WITHOUT_15, replies: spec.replies, texts: spec.texts, phones: spec.phones, pages: spec.pages, warmup: spec.warmup });
}

const filesOf = (path: string): string[] => ['', '-wal', '-shm'].map((s) => path + s);

async function runReplyPages(spec: Spec, log: (line: string) => void): Promise<ReplyPagesResult> {
  const loadAtStart = loadavg().map((v) => round(v, 2));
  mkdirSync(spec.dir, { recursive: true });
  const paths: Record<Variant, string> = { with: join(spec.dir, `reply-pages-${process.pid}-with.db`), without: join(spec.dir, `reply-pages-${process.pid}-without.db`) };
  const key = cacheKey(spec);
  const cached = spec.cache !== null && existsSync(join(spec.cache, 'key.json')) && readFileSync(join(spec.cache, 'key.json'), 'utf8') === key;
  const targets: Target[] = [];
  const problems: string[] = [];
  try {
    if (cached) {
      log(`  starting from the filled files in ${spec.cache}`);
      for (const v of ['with', 'without'] as const) copyFileSync(join(spec.cache!, `${v}.db`), paths[v]);
    }
    for (const v of ['with', 'without'] as const) targets.push(await Target.open(v, paths[v]));
    // The traffic is deterministic: a cached fill is replayed (not written) to reach the measured pages' state.
    let traffic: Traffic;
    const started = performance.now();
    if (cached) {
      traffic = await fill([], spec, () => undefined);
    } else {
      traffic = await fill(targets, spec, log);
      log(`  filled in ${round((performance.now() - started) / 1000, 1)} s`);
      if (spec.cache !== null) {
        mkdirSync(spec.cache, { recursive: true });
        for (const t of targets) copyFileSync(paths[t.variant], join(spec.cache, `${t.variant}.db`));
        writeFileSync(join(spec.cache, 'key.json'), key);
      }
    }

    const figures: Record<Variant, Figures> = {
      with: { cpuMs: [], wallMs: [], folded: [], noteActivityCpuMs: [], flagsCpuMs: [] },
      without: { cpuMs: [], wallMs: [], folded: [], noteActivityCpuMs: [], flagsCpuMs: [] },
    };
    let numbers = 0;
    for (let k = 0; k < spec.warmup + spec.pages; k++) {
      const page = traffic.replyPage();
      numbers += new Set(page.map((m) => m.fromPhone)).size;
      const now = traffic.at;
      // Alternating which file goes first: neither gets the warmer moment of the machine.
      for (const t of k % 2 === 0 ? targets : [...targets].reverse()) {
        upkeepCpuMs.noteActivity = 0;
        upkeepCpuMs.flagsForNewReplies = 0;
        const pendingBefore = t.variant === 'with' ? await pendingEntries(t.writer) : 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await recordPage(t, page, now);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const folded = t.variant === 'with' && (await pendingEntries(t.writer)) < pendingBefore;
        if (k < spec.warmup) continue;
        figures[t.variant].cpuMs.push((cpu.user + cpu.system) / 1000);
        figures[t.variant].wallMs.push(wall);
        figures[t.variant].folded.push(folded);
        figures[t.variant].noteActivityCpuMs.push(upkeepCpuMs.noteActivity);
        figures[t.variant].flagsCpuMs.push(upkeepCpuMs.flagsForNewReplies);
      }
      if ((k + 1) % 20 === 0) log(`  measured ${k + 1 - spec.warmup} pages`);
    }

    // The "with" file's counters must equal its replies, and "without" must have had no upkeep.
    const one = async (db: Database, sql: string): Promise<number> => Number(Object.values(rowsOf<Record<string, unknown>>(await db.knex.raw(sql))[0] ?? {})[0] ?? 0);
    const withDb = targets[0]!.db;
    await foldPending(withDb.knex);
    const unreadRows = await one(withDb, 'SELECT COUNT(*) FROM inbound_messages WHERE is_read = 0 AND hidden = 0');
    const counted = await one(withDb, 'SELECT COALESCE(SUM(unread), 0) FROM unread_counts');
    const perConversation = await one(withDb, 'SELECT COALESCE(SUM(unread), 0) FROM conversations');
    if (counted !== unreadRows) problems.push(`unread_counts ${counted} ≠ unread replies ${unreadRows}`);
    if (perConversation !== unreadRows) problems.push(`conversations' unread ${perConversation} ≠ unread replies ${unreadRows}`);
    const withoutDb = targets[1]!.db;
    if (await one(withoutDb, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('conversations', 'unread_counts', 'blocked_numbers')") !== 0) problems.push('the "without" file has conversation tables');
    const replies = [await one(withDb, 'SELECT COUNT(*) FROM inbound_messages'), await one(withoutDb, 'SELECT COUNT(*) FROM inbound_messages')];
    if (replies[0] !== replies[1]) problems.push(`the files hold ${replies[0]} and ${replies[1]} replies`);

    const numbersPerPage = numbers / (spec.warmup + spec.pages);
    const pagesPerFold = FOLD_AT / numbersPerPage;
    const result = (v: Variant): VariantResult => {
      const f = figures[v];
      const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
      const folding = mean(f.cpuMs.filter((_, i) => f.folded[i]));
      const appending = mean(f.cpuMs.filter((_, i) => !f.folded[i]));
      const cycle = folding !== null && appending !== null ? appending + (folding - appending) / pagesPerFold : mean(f.cpuMs)!;
      return {
        cpu: summary(f.cpuMs),
        folds: { pages: f.folded.filter(Boolean).length, foldingMeanMs: folding === null ? null : round(folding, 1), appendingMeanMs: appending === null ? null : round(appending, 1) },
        cycleMeanMs: round(cycle, 1),
        noteActivityCpu: summary(f.noteActivityCpuMs), flagsCpu: summary(f.flagsCpuMs), wall: summary(f.wallMs), bytes: statSync(paths[v]).size,
      };
    };
    const w = result('with');
    const wo = result('without');
    return {
      spec: { replies: spec.replies, texts: spec.texts, phones: spec.phones, pages: spec.pages, warmup: spec.warmup },
      loadAtStart,
      loadAtEnd: loadavg().map((v) => round(v, 2)),
      with: w,
      without: wo,
      ratio: {
        cpuP50: round(w.cpu.p50 / wo.cpu.p50, 3), cpuMean: round(w.cpu.mean / wo.cpu.mean, 3), cpuCycleMean: round(w.cycleMeanMs / wo.cycleMeanMs, 3),
        wallP50: round(w.wall.p50 / wo.wall.p50, 3), wallP90: round(w.wall.p90 / wo.wall.p90, 3),
      },
      numbersPerPage: round(numbersPerPage, 1),
      pagesPerFold: round(pagesPerFold, 1),
      problems,
    };
  } finally {
    for (const t of targets) await t.close();
    for (const v of ['with', 'without'] as const) for (const f of filesOf(paths[v])) rmSync(f, { force: true });
  }
}

function replyPagesMarkdown(r: ReplyPagesResult): string {
  const line = (name: string, v: VariantResult): string =>
    `| ${name} | ${v.cpu.p50} ms | ${v.cpu.p90} ms | ${v.cpu.mean} ms | ${v.cycleMeanMs} ms | ${v.folds.pages} | ${v.noteActivityCpu.p50} ms | ${v.noteActivityCpu.mean} ms | ${v.flagsCpu.p50} ms | ${v.wall.p50} ms | ${v.wall.p90} ms | ${round(v.bytes / 2 ** 20, 0)} MB |`;
  const w = r.with.folds;
  return [
    `${r.spec.pages} pages of 1,000 replies (after ${r.spec.warmup} not counted) over ${r.spec.phones.toLocaleString('en-US')} numbers, recorded into files already holding ` +
      `${r.spec.replies.toLocaleString('en-US')} replies and ${r.spec.texts.toLocaleString('en-US')} office texts; load ${r.loadAtStart.join(' / ')} at start, ${r.loadAtEnd.join(' / ')} at end.`,
    '',
    '| schema and upkeep | CPU p50 | CPU p90 | CPU mean | CPU mean over a fold cycle | pages that folded | in noteActivity, p50 | in noteActivity, mean | in flagsForNewReplies, p50 | wall p50 | wall p90 | file |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    line('with #15 (conversations, counters, blocked lookup, thread indexes)', r.with),
    line('without', r.without),
    '',
    `A page holds ${r.numbersPerPage} numbers, so the activity pending is folded every ${r.pagesPerFold} pages (FOLD_AT = ${FOLD_AT.toLocaleString('en-US')} entries); ` +
      (w.foldingMeanMs === null ? 'no page of this window folded. ' : `a page that folded cost ${w.foldingMeanMs} ms of CPU, one that appended ${w.appendingMeanMs} ms. `) +
      `Ratio with ÷ without: CPU over a fold cycle ${r.ratio.cpuCycleMean} (the figure to judge by), CPU p50 ${r.ratio.cpuP50}, CPU mean of this window ${r.ratio.cpuMean}; wall p50 ${r.ratio.wallP50}, wall p90 ${r.ratio.wallP90}.` +
      (r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ' Counters equal the unread replies.'),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values: v, help } = parseCommandLine(process.argv.slice(2), {
    replies: { type: 'string' }, texts: { type: 'string' }, phones: { type: 'string' }, pages: { type: 'string' }, warmup: { type: 'string' },
    dir: { type: 'string' }, cache: { type: 'string' }, json: { type: 'string' },
  });
  if (help) {
    console.log(HELP);
    return;
  }
  const spec: Spec = {
    replies: intOption('replies', v.replies, 0, 10_000_000) ?? 200_000,
    texts: intOption('texts', v.texts, 0, 10_000_000) ?? 200_000,
    phones: intOption('phones', v.phones, 1, 10_000_000) ?? 30_000,
    pages: intOption('pages', v.pages, 1, 10_000) ?? 220,
    warmup: intOption('warmup', v.warmup, 0, 10_000) ?? 5,
    dir: resolve(v.dir ?? '/var/tmp'),
    cache: v.cache === undefined ? null : resolve(v.cache),
    json: v.json === undefined ? null : resolve(v.json),
  };
  const r = await runReplyPages(spec, (line) => console.error(line));
  console.log(replyPagesMarkdown(r));
  if (spec.json) writeFileSync(spec.json, JSON.stringify(r, null, 2));
  if (r.problems.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `reply-pages: ${err.message}` : err);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
