/**
 * The processes a benchmark runs: a redis-server, the HQ mock in its own process (so the daemon's
 * CPU is its own), and the daemon itself, spawned exactly as `npm start` runs it. Plus samplers
 * that read a process's memory and CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEV_API_KEY } from '../../src/config/dev-hq';
import { spawnDaemon, type DaemonProcess } from '../../test/support/daemon-spawn';
import { sleep } from './util';

/** The project root (dist/scripts/bench -> ../../..). */
export const ROOT = resolve(__dirname, '..', '..', '..');
const NODE = process.execPath;

function startScript(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return (pkg.scripts?.start ?? '').split(/\s+/).filter(Boolean);
}

/** The Node flags of package.json's `start` script (`NAME=value … node --flag … bin/econnector.js start`), read from `root`. */
function startScriptNodeFlags(root: string = ROOT): string[] {
  return startScript(root).filter((t) => t.startsWith('--'));
}

/** The environment package.json's `start` script sets before `node` (MALLOC_ARENA_MAX), read from `root`. */
function startScriptEnv(root: string = ROOT): Record<string, string> {
  const env: Record<string, string> = {};
  for (const token of startScript(root)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(token);
    if (!m) break;
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** How npm start runs the daemon, for a report: `NAME=value node --flag … dist/src/daemon/main.js`. */
export function startCommandLine(root: string = ROOT): string {
  const env = Object.entries(startScriptEnv(root)).map(([k, v]) => `${k}=${v}`);
  return [...env, 'node', ...startScriptNodeFlags(root), 'dist/src/daemon/main.js'].join(' ');
}

export interface MockProcess {
  url: string;
  apiKey: string;
  pid: number;
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolvePromise(child.exitCode);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

/** Starts `node dist/src/hq-mock/cli.js` on a free port and waits for its "listening" line. */
export async function startMockProcess(opts: { seed?: number; logFile: string; nodeArgs?: readonly string[] }): Promise<MockProcess> {
  const err = openSync(opts.logFile, 'a');
  const child = spawn(NODE, [...(opts.nodeArgs ?? []), join(ROOT, 'dist/src/hq-mock/cli.js'), '--port', '0', '--seed', String(opts.seed ?? 1)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', err],
  });
  closeSync(err);
  const url = await new Promise<string>((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hq mock did not start: ${out}`)), 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`hq mock exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return {
    url,
    apiKey: DEV_API_KEY,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await waitExit(child, 5000);
    },
  };
}

export interface DaemonEnv {
  hqUrl: string;
  apiKey: string;
  redisUrl: string;
  dataDir: string;
  logFile: string;
  /** Extra environment (e.g. OFFICE_TZ); the daemon otherwise runs with its defaults. */
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Another build of the project to run (a copy of package.json, config/ and dist/), to compare versions. */
  root?: string;
}

/**
 * Spawns the daemon as `npm start` runs it, `<npm start's environment> node <npm start's flags>
 * dist/src/daemon/main.js`, through the tests' one spawner (test/support/daemon-spawn.ts), with its
 * default settings: only HQ_URL, HQ_API_KEY, REDIS_URL and DATA_DIR are set, plus STATUS_PORT=0
 * (other daemons may hold 7380; the bound port is read back from its start line). Its output goes
 * to `logFile`. Stop it with `stop({ signal: 'SIGINT' })`, the ordered shutdown pm2 and Ctrl-C ask for.
 */
export function spawnBenchDaemon(opts: DaemonEnv): Promise<DaemonProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? opts.dataDir,
    HQ_URL: opts.hqUrl,
    HQ_API_KEY: opts.apiKey,
    REDIS_URL: opts.redisUrl,
    DATA_DIR: opts.dataDir,
    STATUS_PORT: '0',
    ...startScriptEnv(opts.root ?? ROOT),
    ...(process.env.TZ !== undefined ? { TZ: process.env.TZ } : {}),
    ...opts.env,
  };
  const root = opts.root ?? ROOT;
  // The flags npm start gives (the heap limit), then the benchmark's own (profiling, --trace-gc).
  return spawnDaemon('daemon', env, { root, nodeArgs: [...startScriptNodeFlags(root), ...(opts.nodeArgs ?? [])], logFile: opts.logFile });
}

export interface ProcMemory {
  rssKb: number;
  hwmKb: number;
}

export function readMemory(pid: number): ProcMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return rss && hwm ? { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) } : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** User + system CPU seconds a process has used so far. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs`; VmHWM is the kernel's own peak. */
export class RssSampler {
  readonly samples: Array<{ atMs: number; rssKb: number }> = [];
  peakRssKb = 0;
  peakHwmKb = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();

  constructor(private readonly pid: number, everyMs = 100) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): ProcMemory | null {
    const m = readMemory(this.pid);
    if (m) {
      this.samples.push({ atMs: performance.now() - this.started, rssKb: m.rssKb });
      this.peakRssKb = Math.max(this.peakRssKb, m.rssKb);
      this.peakHwmKb = Math.max(this.peakHwmKb, m.hwmKb);
    }
    return m;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }
}

export function hasBuild(): boolean {
  return existsSync(join(ROOT, 'dist/src/daemon/main.js'));
}

/** Waits until GET url answers with `status`; returns ms waited, or throws after timeoutMs. */
export async function waitHttp(url: string, status: number, timeoutMs: number, everyMs = 10): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === status) return performance.now() - started;
    } catch {
      /* not listening yet */
    }
    if (performance.now() - started > timeoutMs) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
