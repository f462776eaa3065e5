/**
 * A throw-away PostgreSQL server for the scale benchmark (scale.ts): initdb in the run's folder,
 * a free loopback port, removed afterwards. Unlike the test suite's server it keeps PostgreSQL's
 * durable defaults (fsync, synchronous_commit, full_page_writes on): the figures are those of an
 * office's real server, where an acknowledged page's commit is on disk. PostgreSQL refuses to run
 * as root, so as root it runs as Debian's `postgres` user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/daemon/embedded-redis';
import { sleep } from './util';

export interface BenchPostgres {
  /** The server's major version ("15"). */
  version: string;
  /** The postmaster's process id (its backends are its children). */
  pid: number;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** CPU seconds (user + system) of the server and all its processes so far, live and ended. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The newest installed server's bin folder, or null when PostgreSQL is not installed. */
export function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : null;
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** utime, stime, cutime, cstime (seconds) and the parent pid of a process, from /proc. */
function procTimes(pid: number): { own: number; children: number; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS, children: (Number(f[13]) + Number(f[14])) / CLOCK_TICKS };
  } catch {
    return null;
  }
}

export async function startBenchPostgres(dir: string): Promise<BenchPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)');
  const asRoot = userInfo().uid === 0;
  mkdirSync(dir, { recursive: true });
  if (asRoot) {
    const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres']).stdout.toString().trim());
    chownSync(dir, id('-u'), id('-g'));
    // The postgres user must reach its folder: the benchmark's own folders above it (mkdtemp
    // makes them 0700) get search permission for others, nothing more.
    for (let up = dirname(dir); up !== dirname(up); up = dirname(up)) {
      const st = statSync(up);
      if (st.uid === 0 && (st.mode & 0o001) === 0) chmodSync(up, (st.mode & 0o7777) | 0o001);
    }
  }
  const as = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const data = join(dir, 'data');
  const [initCmd, initArgs] = as(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'econnector', '-E', 'UTF8', '--locale', 'C']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = await freePort();
  const [cmd, args] = as(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200']);
  let stderr = '';
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const admin = `postgres://econnector@127.0.0.1:${port}/postgres`;
  const started = Date.now();
  for (;;) {
    const c = new Client({ connectionString: admin });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() - started > 30_000) {
        child.kill('SIGKILL');
        throw new Error(`postgres did not start: ${(err as Error).message}; ${stderr.trim().split('\n').pop() ?? ''}`, { cause: err });
      }
      await sleep(200);
    }
  }
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const adminQuery = async (sql: string): Promise<void> => {
    const c = new Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  return {
    version: bin.split('/').at(-2) ?? '?',
    pid: postmaster,
    createDatabase: async (name) => {
      await adminQuery(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return `postgres://econnector@127.0.0.1:${port}/${name}`;
    },
    dropDatabase: (name) => adminQuery(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '')}" WITH (FORCE)`),
    cpuSeconds: () => {
      // The postmaster's own time, its ended children's (cutime: the backends of closed
      // connections), and every live child's.
      const main = procTimes(postmaster);
      let total = main ? main.own + main.children : 0;
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const t = procTimes(Number(entry));
        if (t && t.ppid === postmaster) total += t.own;
      }
      return total;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      process.kill(postmaster, 'SIGINT'); // "fast" shutdown
      const timer = setTimeout(() => process.kill(postmaster, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
