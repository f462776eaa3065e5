/**
 * The files operators install: deploy/econnector.service (systemd-analyze verify, from Debian's
 * systemd package), deploy/prometheus-alerts.yml (promtool check rules, from Debian's prometheus
 * package), and deploy/grafana-dashboard.json, whose every query, like every alert, names only
 * metrics a real scrape of the daemon shows. .ci/run installs both packages.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { startStack, waitFor, type TestStack } from '../support/stack';
import { tempDir } from '../support/tmp';

const ROOT = join(__dirname, '../..');
const UNIT = join(ROOT, 'deploy/econnector.service');
const ALERTS = join(ROOT, 'deploy/prometheus-alerts.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana-dashboard.json');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const START = (require('../../package.json') as { scripts: Record<string, string> }).scripts.start!;
/** npm start's Node flags and the environment it sets before node: every other start path uses the same. */
const START_FLAGS = START.split(/\s+/).filter((t) => t.startsWith('--'));
const START_ENV = START.split(/\s+/).filter((t) => /^[A-Z_]+=/.test(t));

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number | string }).code === 'ENOENT' ? -1 : Number((err as { code?: number }).code ?? 1)) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const missing = (tool: string, pkg: string): string => `${tool} is not installed: apt-get install ${pkg} (.ci/run does)`;

/** The unit's settings, `Key` -> values (a key may repeat). */
function unitSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe('deploy/econnector.service', () => {
  const tmp = tempDir('econnector-deploy-');
  afterAll(() => tmp.remove());

  it('passes systemd-analyze verify without a warning, which does catch a bad line', async () => {
    const ok = await run('systemd-analyze', ['verify', UNIT]);
    expect(ok.code === -1 ? missing('systemd-analyze', 'systemd') : ok).toEqual({ code: 0, stdout: '', stderr: '' });
    const broken = join(tmp.path, 'econnector.service');
    writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('KillSignal=SIGINT', 'KillSignal=SIGNOPE'));
    expect((await run('systemd-analyze', ['verify', broken])).stderr).toContain('SIGNOPE');
  });

  it('stops the daemon the way it shuts down, and never restarts it on a bad setting', () => {
    const s = unitSettings(readFileSync(UNIT, 'utf8'));
    const one = (k: string): string | undefined => s.get(k)?.[0];
    expect(one('KillSignal')).toBe('SIGINT');
    // Above the daemon's shutdown deadline (config shutdown.deadlineMs).
    expect(Number(one('TimeoutStopSec')) * 1000).toBeGreaterThan(loadConfig({ OFFICE_TZ: 'UTC' }).shutdown.deadlineMs);
    expect(one('RestartPreventExitStatus')).toBe('2');
    expect(one('Restart')).toBe('on-failure');
    expect(one('EnvironmentFile')).toBe('/etc/econnector/env');
    expect(one('User')).toBe('econnector');
    expect(one('ProtectSystem')).toBe('strict');
    // DATA_DIR is the one writable place.
    const dataDir = /DATA_DIR=(\S+)/.exec(one('Environment') ?? '')?.[1];
    expect(dataDir).toBe('/var/lib/econnector');
    expect(one('ReadWritePaths')).toBe(dataDir);
    // The same Node flags as npm start and pm2 (the heap limits), through the econnector command (its build check).
    expect(one('ExecStart')).toBe(`/usr/bin/node ${START_FLAGS.join(' ')} /opt/econnector/bin/econnector.js start`);
    // And the same environment npm start sets before node (the malloc arenas).
    expect(START_ENV).toEqual(['MALLOC_ARENA_MAX=2']);
    const unitEnv = (s.get('Environment') ?? []).join(' ').split(/\s+/);
    for (const kv of START_ENV) expect(unitEnv).toContain(kv);
  });
});

describe('scripts/setup.sh --start', () => {
  it('starts the daemon with the Node flags and environment of npm start', () => {
    const exec = readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => /\bexec node\b/.test(l));
    expect(exec).toHaveLength(1);
    const m = /^(.*)\bexec node (.*) bin\/econnector\.js start$/.exec(exec[0]!);
    expect(m?.[2]).toBe(START_FLAGS.join(' '));
    // NAME="${NAME:-value}": the same value unless the operator's shell sets another.
    const env = [...(m?.[1] ?? '').matchAll(/([A-Z_]+)="\$\{\1:-([^}]*)\}"/g)].map((e) => `${e[1]}=${e[2]}`);
    expect(env).toEqual(START_ENV);
  });
});

describe('the start flags', () => {
  // The one WebAssembly module the daemon runs is the HTTP parser of Node's fetch (the HQ client).
  // Compiled by V8's optimizing tier it took ~30 MB of malloc'd memory at the first request,
  // which glibc then kept (BENCHMARKS.md, "Memory"); the start flags keep it on the baseline tier.
  it("keep the compile of fetch's HTTP parser small", async () => {
    const probe = `
      const http = require('node:http');
      const v8 = require('node:v8');
      // Pages of about the size of HQ's (a 1,000-receipt page is ~250 KB): the parser gets hot, as in a drain.
      const page = JSON.stringify({ receipts: Array.from({ length: 1000 }, (_, i) => ({ receiptId: 'r-' + i, status: 'delivered', statusAt: new Date(0).toISOString() })) });
      const server = http.createServer((q, s) => s.end(page)).listen(0, '127.0.0.1', async () => {
        for (let i = 0; i < 300; i++) await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
        process.stdout.write(JSON.stringify({ mallocedMb: v8.getHeapStatistics().peak_malloced_memory / 1048576 }));
        server.close();
      });`;
    const peakMallocMb = async (flags: string[]): Promise<number> => {
      const r = await run(process.execPath, [...flags, '-e', probe]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      return (JSON.parse(r.stdout) as { mallocedMb: number }).mallocedMb;
    };
    // ~2.5 MB with the start flags, ~31 MB without them (the check can fail: it is measured both ways).
    const started = await peakMallocMb(START_FLAGS);
    expect(started).toBeLessThan(10);
    expect(await peakMallocMb([])).toBeGreaterThan(started + 10);
  });
});

describe('pm2 (ecosystem.config.js)', () => {
  it("keeps no unbounded copy of stdout: the daemon writes its own rotated file under production's settings", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { apps } = require('../../ecosystem.config.js') as { apps: Array<{ out_file?: string; env: { NODE_ENV: string } }> };
    for (const app of apps) {
      expect(app.out_file).toBe('/dev/null');
      expect(loadConfig({ OFFICE_TZ: 'UTC', NODE_ENV: app.env.NODE_ENV, REDIS_URL: 'redis://127.0.0.1:1', HQ_URL: 'http://127.0.0.1:1', HQ_API_KEY: 'k'.repeat(20) }).log.file).toMatch(/\/logs\/econnector\.log$/);
    }
  });
});

describe('deploy/prometheus-alerts.yml', () => {
  const tmp = tempDir('econnector-alerts-');
  afterAll(() => tmp.remove());

  it('passes promtool check rules, which does catch a bad expression', async () => {
    const ok = await run('promtool', ['check', 'rules', ALERTS]);
    expect(ok.code === -1 ? missing('promtool', 'prometheus') : [ok.code, ok.stdout]).toEqual([0, expect.stringContaining('SUCCESS: 8 rules found')]);
    const broken = join(tmp.path, 'alerts.yml');
    writeFileSync(broken, readFileSync(ALERTS, 'utf8').replace('> 120', '> > 120'));
    expect((await run('promtool', ['check', 'rules', broken])).code).not.toBe(0);
  });

  it('has the alerts operators need', () => {
    const names = [...readFileSync(ALERTS, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(names).toEqual([
      'EconnectorReceiptsNotPolled', 'EconnectorMetricsDown', 'EconnectorHqErrors', 'EconnectorHqRejected', 'EconnectorQuarantineGrowing',
      'EconnectorSharedStateUnreadable', 'EconnectorOverMonthlyLimit', 'EconnectorRepliesUnreadForAnHour',
    ]);
  });
});

describe('monitoring files against a real scrape', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ mock: { seed: 4, monthlyLimitUsd: '1.00' } });
    const now = stack.now();
    await stack.sim('POST', '/sim/traffic', { messages: 200, inbound: 60, malformed: 2, from: new Date(now - 10 * 86_400_000).toISOString(), to: new Date(now - 3_600_000).toISOString(), seed: 3 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Metric names used by PromQL expressions (ours all start with econnector_). */
  const namesIn = (exprs: string[]): Set<string> => new Set(exprs.flatMap((e) => [...e.matchAll(/\beconnector_[a-z0-9_]+/g)].map((m) => m[0])));

  it('every dashboard query and every alert names only metrics the daemon exports', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    const alertExprs = [...readFileSync(ALERTS, 'utf8').matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!);
    const wanted = namesIn([...queries, ...alertExprs]);
    expect(wanted.size).toBeGreaterThanOrEqual(12);
    // Some series appear only once something happened (a poll, a job, the account sync): wait for them.
    const scraped = await waitFor('a scrape with every metric the monitoring files name', async () => {
      const text = await (await fetch(`${stack.daemon.statusUrl}/metrics`)).text();
      const names = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));
      return [...wanted].every((n) => names.has(n)) ? names : undefined;
    }, 30_000, 500).catch(async () => {
      const text = await (await fetch(`${stack.daemon.statusUrl}/metrics`)).text();
      return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));
    });
    expect([...wanted].filter((n) => !scraped.has(n))).toEqual([]);
  });
});
