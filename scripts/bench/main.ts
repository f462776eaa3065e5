/**
 * `npm run bench`: builds, then measures the daemon against its performance targets and
 * writes the figures into BENCHMARKS.md (between the bench:begin/bench:end markers, merged by
 * section so that a run with --only keeps the other sections' figures: report.ts; the rest of the
 * file is prose kept as it is). `npm run bench -- --smoke` runs everything small (a few thousand
 * items, well under a minute), checks correctness, and writes nothing: for CI.
 *
 * Run `node dist/scripts/bench/main.js --help` for the flags.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { runAggregates, type AggregatesResult } from './aggregates';
import { runBaseline, type BaselineResult } from './baseline';
import { runConversations, type ConversationsResult } from './conversations';
import { runDrain, type DrainResult } from './drain';
import { profileMarkdown, summarizeProfiles, type ThreadProfile } from './profile';
import { mergeMainReport, replaceBlock, sectionOfCheck, SECTION_HEADINGS, type BlockSection, type FreshBlock, type Markers } from './report';
import { coresTable, runScale, scaleTable, type ScaleResult } from './scale';
import { buildMonthDb, copyMonthDb, type MonthDb } from './month-db';
import { hasBuild, ROOT, startCommandLine } from './procs';
import { postgresBinDir } from '../../test/support/postgres';
import { runSoak, runStartup, runStatus, type SoakResult, type StartupResult, type StatusResult } from './status';
import { load1, machineInfo, median, round, type MachineInfo } from './util';
import { openDatabase } from '../../src/db/orm';
import { recomputeDirtyUsage } from '../../src/usage/aggregates';
import { MonthBucketer } from '../../src/usage/month';
import { systemTimeZone } from '../../src/config/settings';
import { intOption, parseCommandLine, UsageError } from '../../src/util/cli-args';

const HELP = `Usage: npm run bench -- [options]

Measures the daemon (dist/, built first by npm run bench) against its targets and writes
the figures into BENCHMARKS.md. Every figure is the median of --runs runs.

Options:
  --smoke                 small and quick (a few thousand items, ~30 s): checks that everything
                          runs and counts right; writes nothing (for .ci/run); includes a tiny
                          scale run (2 worker processes on PostgreSQL when it is installed, 2
                          pollers on SQLite)
  --scale                 only the scale-out benchmark: the drain's backlog with 1..4 worker
                          processes on a throw-away PostgreSQL and 1 and 2 pollers on SQLite
                          (its figures go into their own block of BENCHMARKS.md)
  --scale-processes LIST  worker process counts on PostgreSQL (default 1,2,3,4; '' for none)
  --sqlite-pollers LIST   pollers per stream on SQLite (default 1,2; '' for none)
  --cores LIST            pinned PostgreSQL layouts: for each k, the whole system under test on k
                          cores (taskset) with k worker processes (default 1,2; '' for none)
  --sqlite-cores LIST     pinned SQLite layouts: k pollers on k cores (default 1,2; '' for none)
  --runs N                runs per figure (default 3; 1 with --smoke)
  --only LIST             some of: drain,memory,aggregates,status,startup,conversations
                          (default: all); drain includes the drain's peak RSS, memory is the
                          steady-traffic soak, conversations the text messages API (
                          1,000,000 texts + 300,000 replies over 30,000 numbers; its figures
                          go into their own block of BENCHMARKS.md). The main block is merged
                          by section: the sections a run measured replace theirs, the others
                          stay, and its header says which run each comes from
  --receipts N            receipts waiting at the mock for the drain (default 1000000)
  --inbound N             inbound messages waiting at the mock for the drain (default 200000)
  --month-messages N      messages in the month database (default 1000000)
  --clinics N             clinics in the month database (default 100)
  --soak-seconds N        steady-traffic duration of the memory check (default 1800: the
                          30 minutes the target names; shorter for a quick look)
  --soak-rate N           items per second of that traffic (default 25)
  --dir DIR               where runs keep their files (default /var/tmp); removed afterwards
  --keep                  keep the run's files
  --profile               start the drain's daemon with --cpu-prof and report where each of its
                          threads spent the drain (scripts/bench/profile.ts); with --scale, the
                          first worker process and the HQ mock of every run
  --out FILE              report file (default BENCHMARKS.md at the project root)
  --json FILE             also write every raw figure as JSON
  --daemon-root DIR       measure another build (a tree with package.json, config/ and dist/)
  --label TEXT            name of this build in the report (default "current")
  --strict                exit 1 when a target is missed (correctness failures always exit 1)
  -h, --help              this text`;

interface Options {
  smoke: boolean;
  runs: number;
  only: Set<string>;
  receipts: number;
  inbound: number;
  monthMessages: number;
  clinics: number;
  soakSeconds: number;
  soakRate: number;
  dir: string;
  keep: boolean;
  profile: boolean;
  out: string;
  json: string | null;
  daemonRoot: string | undefined;
  label: string;
  strict: boolean;
  scale: boolean;
  scaleProcesses: number[];
  sqlitePollers: number[];
  cores: number[];
  sqliteCores: number[];
}

const SECTIONS = ['drain', 'memory', 'aggregates', 'status', 'startup', 'conversations'];

const OPTIONS = {
  smoke: { type: 'boolean' }, runs: { type: 'string' }, only: { type: 'string' }, receipts: { type: 'string' }, inbound: { type: 'string' },
  'month-messages': { type: 'string' }, clinics: { type: 'string' }, 'soak-seconds': { type: 'string' }, 'soak-rate': { type: 'string' },
  dir: { type: 'string' }, keep: { type: 'boolean' }, profile: { type: 'boolean' }, out: { type: 'string' }, json: { type: 'string' }, 'daemon-root': { type: 'string' },
  label: { type: 'string' }, strict: { type: 'boolean' },
  scale: { type: 'boolean' }, 'scale-processes': { type: 'string' }, 'sqlite-pollers': { type: 'string' }, cores: { type: 'string' }, 'sqlite-cores': { type: 'string' },
} as const;

/** A comma-separated list of counts from 1 to 16 ('' for none). */
function countList(name: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  return raw.split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1 || n > 16) throw new UsageError(`--${name}: ${JSON.stringify(t)} is not a count from 1 to 16`);
    return n;
  });
}

function parseArgs(argv: string[]): Options | 'help' {
  const { values: v, help } = parseCommandLine(argv, OPTIONS);
  if (help) return 'help';
  const o: Options = {
    smoke: false, runs: 3, only: new Set(SECTIONS), receipts: 1_000_000, inbound: 200_000, monthMessages: 1_000_000, clinics: 100,
    soakSeconds: 1800, soakRate: 25, dir: '/var/tmp', keep: false, profile: false, out: join(ROOT, 'BENCHMARKS.md'), json: null, daemonRoot: undefined, label: 'current', strict: false,
    scale: false, scaleProcesses: [1, 2, 3, 4], sqlitePollers: [1, 2], cores: [1, 2], sqliteCores: [1, 2],
  };
  const int = (name: keyof typeof OPTIONS, min: number, fallback: number): number => intOption(name, v[name] as string | undefined, min, Number.MAX_SAFE_INTEGER) ?? fallback;
  const runsSet = v.runs !== undefined;
  const explicit = new Set(Object.keys(v).map((k) => `--${k}`));
  o.smoke = v.smoke === true;
  o.runs = int('runs', 1, o.runs);
  if (v.only !== undefined) {
    const list = v.only.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of list) if (!SECTIONS.includes(s)) throw new UsageError(`--only: unknown section ${s} (${SECTIONS.join(', ')})`);
    o.only = new Set(list);
  }
  o.receipts = int('receipts', 0, o.receipts);
  o.inbound = int('inbound', 0, o.inbound);
  o.monthMessages = int('month-messages', 1, o.monthMessages);
  o.clinics = int('clinics', 1, o.clinics);
  o.soakSeconds = int('soak-seconds', 1, o.soakSeconds);
  o.soakRate = int('soak-rate', 1, o.soakRate);
  if (v.dir !== undefined) o.dir = resolve(v.dir);
  o.keep = v.keep === true;
  o.profile = v.profile === true;
  if (v.out !== undefined) o.out = resolve(v.out);
  if (v.json !== undefined) o.json = resolve(v.json);
  if (v['daemon-root'] !== undefined) o.daemonRoot = resolve(v['daemon-root']);
  if (v.label !== undefined) o.label = v.label;
  o.strict = v.strict === true;
  o.scale = v.scale === true;
  o.scaleProcesses = countList('scale-processes', v['scale-processes'] as string | undefined, o.scaleProcesses);
  o.sqlitePollers = countList('sqlite-pollers', v['sqlite-pollers'] as string | undefined, o.sqlitePollers);
  o.cores = countList('cores', v.cores as string | undefined, o.cores);
  o.sqliteCores = countList('sqlite-cores', v['sqlite-cores'] as string | undefined, o.sqliteCores);
  // --scale runs the scale-out benchmark alone (its own block of BENCHMARKS.md).
  if (o.scale && v.only === undefined) o.only = new Set();
  if (o.smoke) {
    if (!runsSet) o.runs = 1;
    if (!explicit.has('--receipts')) o.receipts = 3000;
    if (!explicit.has('--inbound')) o.inbound = 600;
    if (!explicit.has('--month-messages')) o.monthMessages = 20_000;
    if (!explicit.has('--clinics')) o.clinics = 20;
    if (!explicit.has('--soak-seconds')) o.soakSeconds = 5;
    // A tiny scale run: two processes writing side by side on PostgreSQL (when installed), two pollers on SQLite.
    if (!o.scale && v.only === undefined) {
      o.scale = true;
      if (!explicit.has('--scale-processes')) o.scaleProcesses = postgresBinDir() ? [2] : [];
      if (!explicit.has('--sqlite-pollers')) o.sqlitePollers = [2];
      // And one pinned run, to check that the pinning holds and the count stays exact on one core.
      if (!explicit.has('--cores')) o.cores = postgresBinDir() ? [1] : [];
      if (!explicit.has('--sqlite-cores')) o.sqliteCores = postgresBinDir() ? [] : [1];
    }
  }
  return o;
}

interface Results {
  label: string;
  startedAt: string;
  smoke: boolean;
  options: Record<string, unknown>;
  machine: MachineInfo;
  loadAtEnd?: number[];
  drain?: Array<DrainResult & { baseline: BaselineResult; loadAtStart: number; profile?: ThreadProfile[] }>;
  monthDb?: Omit<MonthDb, 'path'>;
  aggregates?: AggregatesResult;
  startup?: StartupResult;
  status?: StatusResult;
  soak?: SoakResult;
  conversations?: ConversationsResult;
  scale?: ScaleResult;
}

interface Check {
  what: string;
  target: string;
  measured: string;
  ok: boolean;
  /** Correctness is judged in every mode; speed and memory only at full size (not --smoke). */
  correctness?: boolean;
}

function sqliteVersions(): string {
  const mem = new Database(':memory:');
  const better = (mem.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  mem.close();
  const pkg = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  return `sqlite3 ${pkg('sqlite3')} (used by @mikro-orm/sqlite ${pkg('@mikro-orm/sqlite')}), better-sqlite3 ${pkg('better-sqlite3')} (SQLite ${better})`;
}

function checks(r: Results): Check[] {
  const out: Check[] = [];
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  if (r.drain?.length) {
    const rate = median(r.drain.map((d) => d.itemsPerSecond));
    const base = median(r.drain.map((d) => d.baseline.itemsPerSecond));
    const ratio = median(r.drain.map((d) => d.itemsPerSecond / d.baseline.itemsPerSecond));
    out.push({ what: 'drain: items recorded and acknowledged per second', target: '≥ 40,000/s', measured: `${fmt(rate)}/s`, ok: rate >= 40_000 });
    out.push({ what: 'drain: rate ÷ lean raw better-sqlite3 writer of the same rows (same run)', target: '≥ 0.80', measured: `${round(ratio, 2)} (baseline ${fmt(base)}/s)`, ok: ratio >= 0.8 });
    const correct = r.drain.every((d) => d.statusDiffs.length === 0);
    out.push({ what: 'drain: /status equals the mock\'s ground truth; every item stored once', target: 'no difference', measured: correct ? 'equal' : r.drain.flatMap((d) => d.statusDiffs).slice(0, 2).join('; '), ok: correct, correctness: true });
    const peak = Math.max(...r.drain.map((d) => d.peakRssMb));
    out.push({ what: 'memory: peak RSS of the daemon during the drain (worst run)', target: '< 200 MB', measured: `${peak} MB`, ok: peak < 200 });
  }
  if (r.soak) {
    const growth = r.soak.floorLastMb - r.soak.floorFirstMb;
    // A leak shows as a live heap that grows from one full collection to the next. Over a few
    // minutes RSS mostly follows V8 letting the heap grow before its next full collection, so RSS
    // is the judge only when the soak saw fewer than two full collections.
    const g = r.soak.liveHeapAfterGc;
    const heapGrowth = g.count >= 2 && g.firstMb !== null && g.lastMb !== null ? g.lastMb - g.firstMb : null;
    out.push({ what: `memory: growth over ${r.soak.seconds} s of steady traffic (live heap after full GCs; else RSS floors)`, target: '≈ 0 (≤ 2 MB heap; ≤ 10 MB RSS)',
      measured: `${heapGrowth !== null ? `heap ${g.firstMb} → ${g.lastMb} MB over ${g.count} full GCs; ` : ''}RSS ${r.soak.rssStartMb} → ${r.soak.rssEndMb} MB (floors ${r.soak.floorFirstMb} → ${r.soak.floorLastMb})`,
      ok: heapGrowth !== null ? heapGrowth <= 2 : growth <= 10 });
  }
  if (r.aggregates) {
    const full = median(r.aggregates.fullRecomputeMs);
    const inc = median(r.aggregates.incrementalMs);
    out.push({ what: 'aggregates: full recompute of a month (1M messages, 100 clinics)', target: '< 500 ms', measured: `${round(full, 1)} ms`, ok: full < 500 });
    out.push({ what: 'aggregates: incremental update after one 1,000-item page', target: '< 20 ms', measured: `${round(inc, 1)} ms`, ok: inc < 20 });
    out.push({ what: 'aggregates: monthly_usage equals a GROUP BY over the rows', target: 'equal', measured: r.aggregates.correct ? 'equal' : r.aggregates.problems[0] ?? 'differs', ok: r.aggregates.correct, correctness: true });
  }
  if (r.status) {
    const p99 = median(r.status.sequential.map((s) => s.p99));
    const rps = median(r.status.concurrent.map((c) => c.rps));
    out.push({ what: 'status: GET /status p99, 2,000 sequential keep-alive requests', target: '< 5 ms', measured: `${p99} ms`, ok: p99 < 5 });
    out.push({ what: 'status: GET /status from 20 concurrent clients', target: '≥ 4,000 req/s', measured: `${fmt(rps)} req/s`, ok: rps >= 4000 });
  }
  if (r.startup) {
    const ms = median(r.startup.readyMs);
    out.push({ what: 'start-up to the first 200 from /readyz', target: '< 2,000 ms', measured: `${fmt(ms)} ms`, ok: ms < 2000 });
  }
  if (r.conversations) out.push(...conversationChecks(r.conversations));
  if (r.scale) out.push(...scaleChecks(r.scale));
  return out;
}

function scaleChecks(s: ScaleResult): Check[] {
  const out: Check[] = [];
  const three = s.runs.find((x) => x.engine === 'postgresql' && x.workerProcesses === 3);
  if (three?.speedup != null) {
    out.push({ what: 'scale: 3 worker processes on PostgreSQL ÷ 1 process (items/s)', target: '≥ 1.8×', measured: `${three.speedup.toFixed(2)}× (${three.itemsPerSecond.toLocaleString('en-US')}/s)`, ok: three.speedup >= 1.8 });
  }
  const all = [...s.runs, ...s.coreRuns];
  const wrong = all.filter((x) => x.problems.length > 0);
  out.push({ what: 'scale: /status equals the truth and every item is stored once, in every layout', target: 'no difference',
    measured: wrong.length === 0 ? `equal (${all.length} runs)` : wrong.map((x) => `${x.engine} ${x.workerProcesses}×${x.pollersPerStream}${x.cpus ? ` on ${x.cpus.length} core(s)` : ''}: ${x.problems[0]}`).join('; '), ok: wrong.length === 0, correctness: true });
  return out;
}

const SCALE_MARKERS = { begin: '<!-- bench:scale:begin (written by npm run bench -- --scale; edit outside these markers) -->', end: '<!-- bench:scale:end -->' };

function scaleSection(r: Results, o: Options, s: ScaleResult, list: Check[]): string {
  const m = r.machine;
  const flags = [
    o.receipts !== 1_000_000 ? `--receipts ${o.receipts}` : '', o.inbound !== 200_000 ? `--inbound ${o.inbound}` : '',
    o.scaleProcesses.join(',') !== '1,2,3,4' ? `--scale-processes ${o.scaleProcesses.join(',')}` : '', o.sqlitePollers.join(',') !== '1,2' ? `--sqlite-pollers ${o.sqlitePollers.join(',')}` : '',
    o.cores.join(',') !== '1,2' ? `--cores ${o.cores.join(',')}` : '', o.sqliteCores.join(',') !== '1,2' ? `--sqlite-cores ${o.sqliteCores.join(',')}` : '', o.profile ? '--profile' : '',
  ].filter(Boolean).join(' ');
  return [
    `Generated by \`npm run bench -- --scale${flags ? ` ${flags}` : ''}\` (${r.label} build) on ${r.startedAt}; ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GB; load at start ${m.loadAtStart.join(' / ')}, at end ${(r.loadAtEnd ?? []).join(' / ')}.`, '',
    '| what | target | measured | |', '| --- | --- | --- | --- |',
    ...list.map((x) => `| ${x.what.replace(/^scale: /, '')} | ${x.target} | ${x.measured} | ${x.ok ? 'met' : '**missed**'} |`), '',
    `${s.receipts.toLocaleString('en-US')} receipts and ${s.inbound.toLocaleString('en-US')} replies wait at the HQ mock (its own process, no faults). Each run: a fresh database, redis-server and mock; one \`scheduler,status\` process and N \`workers\` processes (the pm2 layout), with \`ingest.pollers\` = the pollers column. Items/s from the first acknowledged item to the last; the load average of the machine is beside each run.`, '',
    ...scaleTable(s),
    ...coresTable(s),
  ].join('\n');
}

/** The command line of this run as typed, with the flags that change what the main block measures. */
function commandOf(o: Options): string {
  const flags = [
    o.only.size !== SECTIONS.length ? `--only ${[...o.only].join(',')}` : '', o.runs !== 3 ? `--runs ${o.runs}` : '',
    o.receipts !== 1_000_000 ? `--receipts ${o.receipts}` : '', o.inbound !== 200_000 ? `--inbound ${o.inbound}` : '',
    o.monthMessages !== 1_000_000 ? `--month-messages ${o.monthMessages}` : '', o.clinics !== 100 ? `--clinics ${o.clinics}` : '',
    o.soakSeconds !== 1800 ? `--soak-seconds ${o.soakSeconds}` : '', o.soakRate !== 25 ? `--soak-rate ${o.soakRate}` : '', o.profile ? '--profile' : '',
  ].filter(Boolean).join(' ');
  return `npm run bench${flags ? ` -- ${flags}` : ''}`;
}

/** This run's part of the main block: the header, its results rows and the sections it measured (merged into the file by report.ts). */
function reportSection(r: Results, o: Options, list: Check[]): FreshBlock {
  const m = r.machine;
  const runsOf = (xs: number[], unit = ''): string => xs.map((x) => `${x}${unit}`).join(', ');
  const command = commandOf(o);
  const header = [
    '### Machine', '',
    `- CPU: ${m.cpuModel}, ${m.cores} cores; memory ${m.memoryGb} GB; ${m.os}`,
    `- Node ${m.node}; ${m.sqlite3Driver}`,
    `- load average (1/5/15 min) at start ${m.loadAtStart.join(' / ')}, at end ${(r.loadAtEnd ?? []).join(' / ')} (other work shares this machine)`,
    '', '### Commands', '',
    '```', `${command}    # = npm run build && node dist/scripts/bench/main.js${command.includes(' -- ') ? command.slice(command.indexOf(' -- ') + 3) : ''}`, '```', '',
    `Every figure of this run is the median of ${o.runs} run(s); each run's own figure is listed after it.`,
  ].join('\n');
  const rows: FreshBlock['rows'] = [];
  for (const c of list) {
    const section = sectionOfCheck(c.what);
    if (section) rows.push({ section, row: `| ${c.what} | ${c.target} | ${c.measured} | ${c.ok ? 'met' : '**missed**'} |` });
    // A new check must be given its section in report.ts, or a later merge could not keep or replace it.
    else process.stderr.write(`bench: the check "${c.what}" belongs to no section of the report (scripts/bench/report.ts); left out of BENCHMARKS.md\n`);
  }
  const sections: FreshBlock['sections'] = {};
  const put = (section: BlockSection, lines: string[]): void => {
    sections[section] = [SECTION_HEADINGS[section], '', ...lines].join('\n');
  };
  if (r.drain?.length) {
    const d = r.drain;
    const lines: string[] = [];
    lines.push(`${d[0]!.receipts.toLocaleString('en-US')} receipts and ${d[0]!.inbound.toLocaleString('en-US')} inbound messages wait at the HQ mock (its own process, no faults);`
      + ` the daemon is spawned as npm start runs it, \`${startCommandLine(o.daemonRoot)}\`, with its default settings (HQ_URL, HQ_API_KEY, REDIS_URL, DATA_DIR and a free STATUS_PORT set; a redis-server of the benchmark's own);`
      + ' the clock runs from the spawn until /sim/stats shows every item acknowledged.', '');
    lines.push('| run | load at start | seconds | items/s | steady items/s (first ack → last) | baseline items/s | ratio | baseline with default pragmas (ratio) | baseline, items\' own rows only | daemon CPU s | peak RSS MB | /status = truth after |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    d.forEach((x, i) => lines.push(`| ${i + 1} | ${x.loadAtStart} | ${x.seconds} | ${x.itemsPerSecond.toLocaleString('en-US')} | ${x.steadyItemsPerSecond.toLocaleString('en-US')} | ${x.baseline.itemsPerSecond.toLocaleString('en-US')} | ${round(x.itemsPerSecond / x.baseline.itemsPerSecond, 2)} | ${x.baseline.defaultPragmasPerSecond.toLocaleString('en-US')} (${round(x.itemsPerSecond / x.baseline.defaultPragmasPerSecond, 2)}) | ${x.baseline.itemsOnlyPerSecond.toLocaleString('en-US')} | ${x.daemonCpuSeconds} | ${x.peakRssMb} | ${x.statusMatchedAfterSeconds === null ? 'not within the deadline' : `${x.statusMatchedAfterSeconds} s`} |`));
    lines.push('', 'Baseline, the lean raw writer: better-sqlite3 writes the rows the daemon stored for the items (every receipt, the final row of each receipt\'s message, every inbound message, read back in the daemon\'s order) with prepared `INSERT OR REPLACE` statements, 1,000 items per transaction, WAL, synchronous=FULL and the daemon\'s two throughput pragmas (temp_store=MEMORY, wal_autocheckpoint=10000), into a fresh file with the same schema; same disk, right after the drain. No usage, conversations or commlog: what the daemon does beyond storing the rows is part of the gap it must close.'
      + ' Two more variants for context: the same with SQLite\'s default pragmas (the baseline before 2 Dec 2026), and one that leaves out the message rows (so no random-key index at all: an upper bound, not the comparison).');
    d.forEach((x, i) => {
      if (!x.profile) return;
      lines.push('', `Where the daemon spent run ${i + 1} (\`--profile\`: V8 CPU profiles of each thread, scripts/bench/profile.ts):`, '');
      lines.push(...profileMarkdown(x.profile));
    });
    put('drain', lines);
  }
  if (r.soak) {
    const s = r.soak;
    const lines: string[] = [];
    lines.push(`Daemon on a copy of the month database; the mock gets ${o.soakRate} new items per second (80% messages with their receipts, 20% replies) for **${s.seconds} s** after a ${s.warmupSeconds} s warm-up${s.seconds < 1800 ? ' (shorter than the 30 minutes of the target: `--soak-seconds 1800`)' : ''}.`, '');
    lines.push(`RSS at start ${s.rssStartMb} MB, at end ${s.rssEndMb} MB; min ${s.rssMinMb}, max ${s.rssMaxMb}; floor of the first fifth ${s.floorFirstMb} MB, of the last fifth ${s.floorLastMb} MB; least-squares slope ${s.slopeMbPerHour} MB/hour (over a few minutes this mostly follows V8's heap growing between full collections; the live heap below is the leak check); ${s.itemsAdded} items added, ${s.itemsAcked} acknowledged by the end (the rest not yet due: a receipt comes 3 s to 5 min after its message, a second one up to 6 h later).`);
    const g = s.liveHeapAfterGc;
    lines.push('', `V8's live heap after each full collection during the soak (the daemon runs with --trace-gc here, which only logs): ${g.count} collections, first ${g.firstMb ?? '–'} MB, last ${g.lastMb ?? '–'} MB, highest ${g.maxMb ?? '–'} MB.`);
    put('memory', lines);
  }
  if (r.monthDb) {
    const lines: string[] = [];
    lines.push(`${r.monthDb.messages.toLocaleString('en-US')} outbound messages (each with its receipt) and ${r.monthDb.inbound.toLocaleString('en-US')} replies in ${r.monthDb.month} (the current month in the office zone), ${r.monthDb.clinics} clinics; schema by the project's migrations; ${round(r.monthDb.bytes / 2 ** 20, 0)} MB; built in ${round(r.monthDb.buildMs / 1000, 1)} s.`);
    put('month', lines);
  }
  if (r.aggregates) {
    const a = r.aggregates;
    const lines: string[] = [];
    lines.push(`- full recompute (all ${r.monthDb?.clinics ?? ''} pairs of the month marked dirty, then \`recomputeDirtyUsage\`): ${runsOf(a.fullRecomputeMs, ' ms')}`);
    lines.push(`- one page of 1,000 receipts (900 new messages over every clinic, 100 later receipts of stored messages): whole page transaction ${runsOf(a.pageRecordMs, ' ms')}; usage statements inside it ${runsOf(a.pageUsageMs, ' ms')}; recompute job run after it ${runsOf(a.afterPageRecomputeMs, ' ms')}; incremental total ${runsOf(a.incrementalMs, ' ms')}`);
    put('aggregates', lines);
  }
  if (r.status) {
    const s = r.status;
    const lines: string[] = [];
    lines.push(`GET /status (current month, ${s.clinicsInDocument} clinics, ${s.bytes} bytes), daemon idle otherwise (polling an empty mock).`, '');
    lines.push(`- 2,000 sequential keep-alive requests: p50 ${runsOf(s.sequential.map((x) => x.p50), ' ms')}; p99 ${runsOf(s.sequential.map((x) => x.p99), ' ms')}; max ${runsOf(s.sequential.map((x) => x.max), ' ms')}`);
    lines.push(`- 20 concurrent keep-alive clients, ${s.concurrent[0]?.requests ?? 0} requests: ${runsOf(s.concurrent.map((x) => x.rps), ' req/s')}; p99 ${runsOf(s.concurrent.map((x) => x.p99), ' ms')}; errors ${s.concurrent.reduce((a, x) => a + x.errors, 0)}`);
    put('status', lines);
  }
  if (r.startup) {
    const lines: string[] = [];
    lines.push(`Spawn to the first 200 from GET /readyz, on the month database (already migrated): ${runsOf(r.startup.readyMs, ' ms')}.`);
    put('startup', lines);
  }
  return { run: { startedAt: r.startedAt, command, label: r.label }, header, rows, sections };
}

const CONVERSATIONS_MARKERS = { begin: '<!-- bench:conversations:begin (written by npm run bench -- --only conversations; edit outside these markers) -->', end: '<!-- bench:conversations:end -->' };

function conversationChecks(c: ConversationsResult): Check[] {
  return [
    { what: 'messages: GET /api/conversations first page p99', target: '< 10 ms', measured: `${c.firstPage.p99} ms`, ok: c.firstPage.p99 < 10 },
    { what: `messages: GET /api/conversations deep page (page ${c.deepPage.depth + 1}) p99`, target: '< 10 ms', measured: `${c.deepPage.p99} ms`, ok: c.deepPage.p99 < 10 },
    { what: 'messages: GET /api/conversations/:phone p99', target: '< 10 ms', measured: `${c.thread.p99} ms`, ok: c.thread.p99 < 10 },
    { what: 'messages: GET /api/inbound/unread p99', target: '< 5 ms', measured: `${c.unread.p99} ms`, ok: c.unread.p99 < 5 },
    { what: 'messages: unread counters equal the unread replies; one conversation per number', target: 'equal', measured: c.correct ? 'equal' : c.problems.join('; '), ok: c.correct, correctness: true },
  ];
}

function conversationsSection(r: Results, c: ConversationsResult, list: Check[]): string {
  const lat = (l: { p50: number; p99: number; max: number }) => `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`;
  const m = r.machine;
  return [
    `Generated by \`npm run bench -- --only conversations\` (${r.label} build) on ${r.startedAt}; ${m.cpuModel}, ${m.cores} cores, load at start ${m.loadAtStart.join(' / ')}, at end ${(r.loadAtEnd ?? []).join(' / ')}.`, '',
    '| what | target | measured | |', '| --- | --- | --- | --- |',
    ...list.map((x) => `| ${x.what.replace(/^messages: /, '')} | ${x.target} | ${x.measured} | ${x.ok ? 'met' : '**missed**'} |`), '',
    `${c.sent.toLocaleString('en-US')} office texts and ${c.replies.toLocaleString('en-US')} replies over ${c.phones.toLocaleString('en-US')} numbers (about ${c.thread.messagesPerThread} messages each), 10 clinics, written in time order through insertOfficeMessages and recordInboundPage (pages of 1,000 replies), then a third of the numbers' replies marked read; ${Math.round(c.bytes / 2 ** 20)} MB; built in ${c.buildSeconds} s. Sequential keep-alive requests (${c.firstPage.requests} of each) to the routes of src/status/routes/messages.ts served by fastify on that SQLite file:`, '',
    `- list, first page (50): ${lat(c.firstPage)}`,
    `- list, page ${c.deepPage.depth + 1} by its cursor: ${lat(c.deepPage)}`,
    `- list, unread only: ${lat(c.unreadList)}`,
    `- list, one clinic: ${lat(c.clinicList)}`,
    `- a random number's thread (50 latest): ${lat(c.thread)}`,
    `- GET /api/inbound/unread: ${lat(c.unread)}`,
    `- recordInboundPage, a page of 1,000 replies, in the second half of the fill (${c.pageRecordMs.pages} pages): p50 ${c.pageRecordMs.p50} ms, p90 ${c.pageRecordMs.p90} ms`,
  ].join('\n');
}

function writeReport(file: string, section: string, markers: Markers): void {
  writeFileSync(file, replaceBlock(existsSync(file) ? readFileSync(file, 'utf8') : null, markers, section));
}

async function main(): Promise<void> {
  let o: Options;
  try {
    const parsed = parseArgs(process.argv.slice(2));
    if (parsed === 'help') {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    o = parsed;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (!hasBuild()) throw new Error('no build: run npm run build first (npm run bench does)');
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  mkdirSync(o.dir, { recursive: true });
  const base = mkdtempSync(join(o.dir, 'ecperf-bench-'));
  const tz = process.env.OFFICE_TZ || systemTimeZone();
  const results: Results = {
    label: o.label, startedAt: new Date().toISOString(), smoke: o.smoke, machine: machineInfo(sqliteVersions()),
    options: { runs: o.runs, receipts: o.receipts, inbound: o.inbound, monthMessages: o.monthMessages, clinics: o.clinics, soakSeconds: o.soakSeconds, soakRate: o.soakRate, tz },
  };
  log(`bench: ${o.smoke ? 'SMOKE ' : ''}${[...o.only].join(', ')}; ${o.runs} run(s); files under ${base}; load ${loadavg().map((v) => round(v, 2)).join(' ')}`);
  const started = performance.now();
  try {
    if (o.only.has('drain')) {
      results.drain = [];
      for (let run = 0; run < o.runs; run++) {
        const loadAtStart = load1();
        log(`drain ${run + 1}/${o.runs} (load ${loadAtStart})`);
        const dir = join(base, `drain-${run + 1}`);
        const profileDir = join(dir, 'profile');
        const nodeArgs = o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
        const d = await runDrain({ receipts: o.receipts, inbound: o.inbound, dir, timeoutMs: 3_600_000, seed: 1 + run, daemonRoot: o.daemonRoot, log, nodeArgs });
        log(`  ${d.items} items in ${d.seconds} s = ${d.itemsPerSecond}/s; peak RSS ${d.peakRssMb} MB; daemon CPU ${d.daemonCpuSeconds} s; /status = truth: ${d.statusDiffs.length === 0 ? 'yes' : d.statusDiffs.join('; ')}`);
        const baseline = runBaseline(d.dbPath, join(dir, 'baseline.sqlite'));
        log(`  baseline: ${baseline.itemsPerSecond}/s; ratio ${round(d.itemsPerSecond / baseline.itemsPerSecond, 2)} (with default pragmas ${baseline.defaultPragmasPerSecond}/s; items' own rows only ${baseline.itemsOnlyPerSecond}/s)`);
        const profile = o.profile ? summarizeProfiles(profileDir) : undefined;
        if (profile) for (const line of profileMarkdown(profile)) log(`  ${line}`);
        results.drain.push({ ...d, baseline, loadAtStart, ...(profile ? { profile } : {}) });
        if (!o.keep) rmSync(dir, { recursive: true, force: true });
      }
    }

    const needMonth = ['memory', 'aggregates', 'status', 'startup'].some((s) => o.only.has(s));
    let month: MonthDb | undefined;
    if (needMonth) {
      log(`month database: ${o.monthMessages} messages, ${o.clinics} clinics (zone ${tz})`);
      month = await buildMonthDb({ path: join(base, 'month.sqlite'), tz, messages: o.monthMessages, inbound: Math.round(o.monthMessages / 5), clinics: o.clinics });
      const { path: _path, ...rest } = month;
      void _path;
      results.monthDb = rest;
      log(`  built in ${round(month.buildMs / 1000, 1)} s, ${round(month.bytes / 2 ** 20, 0)} MB, month ${month.month}`);
    }
    if (month && o.only.has('aggregates')) {
      log('aggregates');
      results.aggregates = await runAggregates(month, tz, o.runs, log);
    } else if (month) {
      // The other benchmarks need the month's usage rows in place.
      const db = await openDatabase({ driver: 'sqlite', path: month.path } as Parameters<typeof openDatabase>[0]);
      await db.knex.raw("INSERT INTO usage_dirty (clinic_id, month, version) SELECT clinic_id, ?, 1 FROM clinics WHERE true ON CONFLICT DO NOTHING", [month.month]);
      await recomputeDirtyUsage(db.knex, new MonthBucketer(tz));
      await db.close();
    }
    if (month && o.only.has('startup')) {
      log('start-up');
      results.startup = await runStartup(copyMonthDb(month, join(base, 'startup-source.sqlite')), join(base, 'startup'), o.runs, log, o.daemonRoot);
    }
    if (month && o.only.has('status')) {
      log('status');
      results.status = await runStatus(month, join(base, 'status'), {
        runs: o.runs, sequential: o.smoke ? 500 : 2000, concurrentClients: 20, concurrentRequests: o.smoke ? 2000 : 20_000, daemonRoot: o.daemonRoot,
      }, log);
    }
    if (o.scale) {
      log(`scale: ${o.receipts} receipts + ${o.inbound} inbound; PostgreSQL with ${o.scaleProcesses.join(', ') || 'no'} worker process(es), SQLite with ${o.sqlitePollers.join(', ') || 'no'} poller(s); pinned: PostgreSQL on ${o.cores.join(', ') || 'no'} core(s), SQLite on ${o.sqliteCores.join(', ') || 'no'}`);
      results.scale = await runScale({
        receipts: o.receipts, inbound: o.inbound, dir: join(base, 'scale'), postgresProcesses: o.scaleProcesses, sqlitePollers: o.sqlitePollers,
        postgresCores: o.cores, sqliteCores: o.sqliteCores, profile: o.profile, timeoutMs: 3_600_000, seed: 1, daemonRoot: o.daemonRoot, keep: o.keep, log,
      });
    }
    if (o.only.has('conversations')) {
      const size = o.smoke ? { sent: 20_000, replies: 6_000, phones: 600, requests: 300 } : { sent: 1_000_000, replies: 300_000, phones: 30_000, requests: 2000 };
      log(`conversations: ${size.sent} texts + ${size.replies} replies over ${size.phones} numbers`);
      results.conversations = await runConversations({ path: join(base, 'conversations.sqlite'), ...size, clinics: 10, tz, log });
      const c = results.conversations;
      log(`  built in ${c.buildSeconds} s; first page p99 ${c.firstPage.p99} ms, deep ${c.deepPage.p99} ms, thread ${c.thread.p99} ms, unread ${c.unread.p99} ms; reply pages p50 ${c.pageRecordMs.p50} ms`);
    }
    if (month && o.only.has('memory')) {
      log(`memory over steady traffic: ${o.soakSeconds} s`);
      results.soak = await runSoak(month, join(base, 'soak'), { seconds: o.soakSeconds, warmupSeconds: o.smoke ? 2 : 30, perSecond: o.soakRate, daemonRoot: o.daemonRoot }, log);
      log(`  RSS ${results.soak.rssStartMb} → ${results.soak.rssEndMb} MB (floors ${results.soak.floorFirstMb} → ${results.soak.floorLastMb} MB)`);
    }
  } finally {
    results.loadAtEnd = loadavg().map((v) => round(v, 2));
    if (!o.keep) rmSync(base, { recursive: true, force: true });
    else log(`kept ${base}`);
  }
  const list = checks(results);
  log('');
  for (const c of list) {
    const verdict = o.smoke && !c.correctness ? 'smoke  ' : c.ok ? 'met    ' : 'MISSED ';
    log(`${verdict} ${c.what}: ${c.measured} (target ${c.target}${o.smoke && !c.correctness ? '; not judged at smoke size' : ''})`);
  }
  log(`bench: done in ${round((performance.now() - started) / 1000, 0)} s`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(results, null, 2)}\n`);
  if (!o.smoke) {
    if (results.conversations) writeReport(o.out, conversationsSection(results, results.conversations, conversationChecks(results.conversations)), CONVERSATIONS_MARKERS);
    if (results.scale) writeReport(o.out, scaleSection(results, o, results.scale, scaleChecks(results.scale)), SCALE_MARKERS);
    // The main block is merged by section: a partial run keeps the figures of the sections it did not measure.
    if (SECTIONS.some((s) => s !== 'conversations' && o.only.has(s))) {
      const fresh = reportSection(results, o, list.filter((c) => !c.what.startsWith('messages:') && !c.what.startsWith('scale:')));
      writeFileSync(o.out, mergeMainReport(existsSync(o.out) ? readFileSync(o.out, 'utf8') : null, fresh));
    }
    log(`bench: figures written to ${o.out}`);
  }
  const correctnessFailed = list.some((c) => !c.ok && c.correctness);
  if (correctnessFailed || (o.strict && list.some((c) => !c.ok))) process.exit(1);
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
