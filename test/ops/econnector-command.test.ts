/**
 * The `econnector` command as an operator runs it: `node bin/econnector.js …` (what npm's bin
 * link and the npm scripts run), against the built dist/. Every command answers --help, bad use
 * and bad settings are one line and exit code 2, check-config never shows a secret, and a stale
 * or missing build is refused in one line.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tmp';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/econnector.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildProblem } = require('../../bin/build-freshness.js') as { buildProblem(root: string): string | null };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { version: string; bin: Record<string, string>; scripts: Record<string, string> };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function econnector(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'test', OFFICE_TZ: 'America/Chicago', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const COMMANDS = ['start', 'status', 'check-config', 'migrate', 'backup', 'import-patients', 'export-commlog', 'hq-mock'];

describe('the econnector command', () => {
  it('is the package bin, and the npm scripts are aliases of it', () => {
    expect(pkg.bin).toEqual({ econnector: 'bin/econnector.js' });
    expect(pkg.scripts.start).toBe('MALLOC_ARENA_MAX=2 node --max-old-space-size=256 --max-semi-space-size=8 --liftoff-only bin/econnector.js start');
    for (const [script, command] of [['status', 'status'], ['backup', 'backup'], ['import:patients', 'import-patients'], ['hq-mock', 'hq-mock'], ['check-config', 'check-config'], ['migrate', 'migrate']]) {
      expect(pkg.scripts[script!]).toBe(`node bin/econnector.js ${command}`);
    }
    // npm start runs the build; it never compiles.
    expect(pkg.scripts.start).not.toMatch(/tsc|build/);
    expect(pkg.scripts.prestart).toBeUndefined();
  });

  it('--version, --help, and an unknown command', async () => {
    expect(await econnector(['--version'])).toEqual({ code: 0, stdout: `econnector ${pkg.version}\n`, stderr: '' });
    const help = await econnector(['--help']);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    const none = await econnector([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: econnector <command>');
    const unknown = await econnector(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toBe(`econnector: unknown command "frobnicate" (commands: ${COMMANDS.join(', ')}; see econnector --help)\n`);
  });

  it.each(COMMANDS)('%s --help shows its usage and starts nothing', async (command) => {
    const r = await econnector([command, '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^Usage: econnector ${command}\\b`));
  });

  it.each([
    [['start', '--now'], 'econnector start: unknown option "--now" (see --help)'],
    [['status', '--month'], 'econnector status: --month needs a value: YYYY-MM, e.g. 2026-11 (see --help)'],
    [['status', '--months', '3'], 'econnector status: --months goes with --history'],
    [['status', '--history', '--month', '2026-01'], 'econnector status: --history shows the months up to this one: leave out --month'],
    [['status', '--history', '--months', '40'], 'econnector status: --months needs an integer from 1 to 36 (got "40")'],
    [['backup'], 'econnector backup: give the file to write, e.g. econnector backup backups/econnector-2026-11-27.sqlite (see --help)'],
    [['import-patients', 'a.csv', 'b.csv'], 'econnector import-patients: too many arguments: "b.csv" (see --help)'],
    [['hq-mock', '--port', 'x'], 'econnector hq-mock: --port needs an integer from 0 to 65535 (got "x")'],
    [['check-config', '--json=yes'], 'econnector check-config: --json takes no value'],
  ])('%j is bad use: one line, exit code 2', async (args, line) => {
    const r = await econnector(args);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
  });

  it('start and check-config stop on a bad setting with the one line that names it', async () => {
    for (const command of ['start', 'check-config']) {
      const r = await econnector([command], { OFFICE_TZ: 'Mars/Phobos' });
      expect(r).toEqual({ code: 2, stdout: '', stderr: `econnector: OFFICE_TZ: 'Mars/Phobos' is not a known IANA time zone\n`.replace('econnector:', command === 'start' ? 'econnector:' : 'econnector check-config:') });
    }
  });

  it('check-config prints the effective settings with every secret masked', async () => {
    const secrets = { HQ_API_KEY: 'hq-secret-key-0123456789', API_TOKEN: 'office-token-0123456789abcdef', REDIS_URL: 'redis://user:redis-pass-987@10.0.0.5:6380/2', HQ_URL: 'https://hq.example.com' };
    const text = await econnector(['check-config'], { ...secrets, DATABASE_URL: 'postgres://app:pg-pass-654@db:5432/office' });
    const json = await econnector(['check-config', '--json'], { ...secrets, DATABASE_URL: 'postgres://app:pg-pass-654@db:5432/office' });
    for (const r of [text, json]) {
      expect(r.code).toBe(0);
      for (const secret of ['hq-secret-key', 'office-token', 'redis-pass-987', 'pg-pass-654']) expect(r.stdout + r.stderr).not.toContain(secret);
    }
    expect(text.stdout).toMatch(/^hq\.url +"https:\/\/hq\.example\.com"$/m);
    expect(text.stdout).toMatch(/^apiToken +"\*{8}"$/m);
    expect(text.stderr).toBe('econnector check-config: the settings are valid\n');
    const doc = JSON.parse(json.stdout) as { hq: { apiKey: string }; redis: { url: string }; database: { url: string }; officeTz: string };
    expect(doc).toMatchObject({ officeTz: 'America/Chicago', hq: { apiKey: '********' }, redis: { url: 'redis://user:********@10.0.0.5:6380/2' }, database: { url: 'postgres://app:********@db:5432/office' } });
  });
});

describe('the build check (bin/build-freshness.js)', () => {
  const tmp = tempDir('econnector-build-');
  afterAll(() => tmp.remove());

  it('says how to build when dist/ is missing or older than a source file, and passes when current', () => {
    const root = tmp.path;
    mkdirSync(join(root, 'src/db'), { recursive: true });
    writeFileSync(join(root, 'src/db/orm.ts'), 'export {};\n');
    expect(buildProblem(root)).toBe('econnector: not built yet: run `npm run setup` (or `npm run build`) first');
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'dist/.build-stamp'), 'x\n');
    const built = new Date('2026-11-30T12:00:00Z');
    utimesSync(join(root, 'dist/.build-stamp'), built, built);
    const before = new Date('2026-11-30T11:00:00Z');
    utimesSync(join(root, 'src/db/orm.ts'), before, before);
    expect(buildProblem(root)).toBeNull();
    const after = new Date('2026-11-30T13:00:00Z');
    utimesSync(join(root, 'src/db/orm.ts'), after, after);
    expect(buildProblem(root)).toBe('econnector: the build is older than src/db/orm.ts: run `npm run build` (or start with `npm run dev`, which builds first)');
  });

  it('passes for an installed package without sources', () => {
    expect(buildProblem(join(tmp.path, 'no-such-folder'))).toBeNull();
  });
});
