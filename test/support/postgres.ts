/**
 * A throw-away PostgreSQL server for tests: initdb in a temporary folder, listening only on a unix
 * socket in that folder (no TCP port to pick, race for or leave bound), stopped and removed
 * afterwards. Its URLs name the socket's folder as the host, percent-encoded
 * (postgres://econnector@%2Ftmp%2F…:5432/db), which the pg driver and the daemon both take. PostgreSQL refuses to run as root, so as root the server runs
 * as the `postgres` user (Debian's package creates it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './tmp';

export interface TestPostgres {
  url: string;
  /** A fresh database on this server, for one test. */
  createDatabase(name: string): Promise<string>;
  /**
   * Stops the server the way a crash does (immediate shutdown: no checkpoint, every connection cut)
   * and starts it again on the same data and socket, after `downMs` of being away.
   */
  restart(downMs?: number): Promise<void>;
  /** The last lines the server wrote to stderr (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : null;
}

export interface PostgresOptions {
  /**
   * Keep synchronous_commit on, so a commit the server answered survives restart() (an immediate
   * shutdown drops WAL not yet written). fsync stays off: the OS keeps what was written.
   */
  crashSafe?: boolean;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql); .ci/run installs it');
  const asRoot = userInfo().uid === 0;
  const tmp = tempDir('econnector-pg-');
  const dir = tmp.path;
  const postgresUid = asRoot ? Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()) : -1;
  const postgresGid = asRoot ? Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()) : -1;
  if (asRoot) chownSync(dir, postgresUid, postgresGid);
  const run = (cmd: string, args: string[]): string[] => (asRoot ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args]);

  const data = join(dir, 'data');
  const [initCmd, ...initArgs] = run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'econnector', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const init = spawnSync(initCmd!, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  // The socket is DIR/.s.PGSQL.5432: the folder is the test's own, so the port number is only a name.
  const port = 5432;
  const [pgCmd, ...pgArgs] = run(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', "listen_addresses=",
    // A test server: durability off for speed, except that a crash-safe one keeps every answered commit.
    '-c', 'fsync=off', '-c', `synchronous_commit=${opts.crashSafe ? 'on' : 'off'}`, '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ]) as [string, ...string[]];
  const urlOf = (database: string): string => `postgres://econnector@${encodeURIComponent(dir)}:${port}/${database}`;
  const adminUrl = urlOf('postgres');
  let stderr = '';
  let child: ChildProcess;
  const { Client } = await import('pg');

  const launch = async (): Promise<void> => {
    stderr = '';
    child = spawn(pgCmd, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const client = new Client({ connectionString: adminUrl });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (child.exitCode !== null || Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`postgres did not start: ${(err as Error).message}; ${stderr.trim().split('\n').pop() ?? ''}`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };

  /**
   * Signals the postmaster itself (its pid file: as root, `child` is runuser, which need not pass
   * every signal on) and waits for it to exit (SIGKILL after 5 s).
   */
  const halt = (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    let postmaster = child.pid!;
    try {
      postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || postmaster;
    } catch {
      /* not written yet: the child is the postmaster or its runuser */
    }
    return new Promise<void>((resolve) => {
      // A loaded machine may take a while; only then the postmaster itself (not its runuser) is
      // killed, so a restart never starts a second server beside a live first one.
      const kill = setTimeout(() => {
        try {
          process.kill(postmaster, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, 30_000);
      child.once('exit', () => {
        clearTimeout(kill);
        child.stderr?.destroy();
        resolve();
      });
      process.kill(postmaster, signal);
    });
  };

  try {
    await launch();
  } catch (err) {
    tmp.remove();
    throw err;
  }

  return {
    url: urlOf('econnector'),
    createDatabase: async (name: string) => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    log: () => stderr,
    restart: async (downMs = 0) => {
      await halt('SIGQUIT'); // PostgreSQL's "immediate" shutdown: what a crash looks like to clients
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    stop: async () => {
      await halt('SIGINT'); // PostgreSQL's "fast" shutdown
      tmp.remove();
    },
  };
}
