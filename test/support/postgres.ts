/**
 * A throw-away PostgreSQL server for tests: initdb in a temporary folder, listening only on a unix
 * socket in that folder (no TCP port to pick, race for or leave bound), stopped and removed
 * afterwards. Its URLs name the socket's folder as the host, percent-encoded
 * (postgres://econnector@%2Ftmp%2F…:5432/db), which the pg driver and the daemon both take. PostgreSQL refuses to run as root, so as root the server runs
 * as the `postgres` user (Debian's package creates it).
 *
 * The server start itself (startPostgresServer) is shared with the scale benchmark
 * (scripts/bench/postgres.ts), which already takes its Redis and its daemons from test/support.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
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

/** The newest installed server's bin folder (Debian's layout), or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : null;
}

export interface PostgresServerOptions {
  /** The server's own folder, made by the caller and removed by it: data/ and the socket (DIR/.s.PGSQL.<port>) go in it. */
  dir: string;
  /** The port: on a socket only, just a part of the socket's name. */
  port: number;
  /** Listen on 127.0.0.1:port as well as on the socket (the benchmark: an office reaches its server over TCP). */
  tcp?: boolean;
  /** Server settings (-c name=value) beyond PostgreSQL's defaults and max_connections=200. */
  settings?: Record<string, string>;
  /** initdb --no-sync (a throw-away test server). */
  noSync?: boolean;
  /** How long a start may take before it is a failure (default 30 s: a loaded 2-core machine). */
  startTimeoutMs?: number;
}

/** A PostgreSQL server of our own, for tests (startPostgres below) and benchmarks (scripts/bench/postgres.ts). */
export interface PostgresServer {
  /** The server's major version ("15"). */
  version: string;
  /** A URL of `database` as the superuser econnector: over TCP when the server listens there, else its socket. */
  urlOf(database: string): string;
  /** Runs one statement on the postgres database (CREATE DATABASE, DROP DATABASE). */
  adminQuery(sql: string): Promise<void>;
  /** The postmaster's process id (as root the spawned child is runuser, which need not pass every signal on). */
  postmasterPid(): number;
  /** Starts the server on its data again (after halt) and waits until it answers. */
  launch(): Promise<void>;
  /** Signals the postmaster and waits for it to exit (SIGKILL after 30 s). */
  halt(signal: NodeJS.Signals): Promise<void>;
  /** The last lines the server wrote to stderr (for a failing test's message). */
  log(): string;
}

/**
 * initdb in `opts.dir`, then starts the server and waits until it answers. PostgreSQL refuses to
 * run as root, so as root both run as the `postgres` user (Debian's package creates it), which
 * gets the folder and search permission on the root-owned folders above it (mkdtemp makes them
 * 0700). Nothing is left running when it throws.
 */
export async function startPostgresServer(opts: PostgresServerOptions): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql); .ci/run installs it');
  const { dir, port } = opts;
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres']).stdout.toString().trim());
    chownSync(dir, id('-u'), id('-g'));
    for (let up = dirname(dir); up !== dirname(up); up = dirname(up)) {
      const st = statSync(up);
      if (st.uid === 0 && (st.mode & 0o001) === 0) chmodSync(up, (st.mode & 0o7777) | 0o001);
    }
  }
  const run = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

  const data = join(dir, 'data');
  const [initCmd, initArgs] = run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'econnector', ...(opts.noSync ? ['--no-sync'] : []), '-E', 'UTF8', '--locale', 'C']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const settings = { listen_addresses: opts.tcp ? '127.0.0.1' : '', max_connections: '200', ...opts.settings };
  const [pgCmd, pgArgs] = run(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
  const urlOf = (database: string): string =>
    opts.tcp ? `postgres://econnector@127.0.0.1:${port}/${database}` : `postgres://econnector@${encodeURIComponent(dir)}:${port}/${database}`;
  const adminUrl = urlOf('postgres');
  let stderr = '';
  let child: ChildProcess;
  const { Client } = await import('pg');

  const launch = async (): Promise<void> => {
    stderr = '';
    child = spawn(pgCmd, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
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

  const postmasterPid = (): number => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || child.pid!;
    } catch {
      return child.pid!; // not written yet: the child is the postmaster or its runuser
    }
  };

  const halt = (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const postmaster = postmasterPid();
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

  await launch();
  return {
    version: bin.split('/').at(-2) ?? '?',
    urlOf,
    adminQuery: async (sql) => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    postmasterPid,
    launch,
    halt,
    log: () => stderr,
  };
}

export interface PostgresOptions {
  /**
   * Keep synchronous_commit on, so a commit the server answered survives restart() (an immediate
   * shutdown drops WAL not yet written). fsync stays off: the OS keeps what was written.
   */
  crashSafe?: boolean;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  const tmp = tempDir('econnector-pg-');
  let server: PostgresServer;
  try {
    server = await startPostgresServer({
      dir: tmp.path,
      // The socket is DIR/.s.PGSQL.5432: the folder is the test's own, so the port number is only a name.
      port: 5432,
      noSync: true,
      // A test server: durability off for speed, except that a crash-safe one keeps every answered commit.
      settings: { fsync: 'off', synchronous_commit: opts.crashSafe ? 'on' : 'off', full_page_writes: 'off' },
    });
  } catch (err) {
    tmp.remove();
    throw err;
  }
  return {
    url: server.urlOf('econnector'),
    createDatabase: async (name: string) => {
      await server.adminQuery(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return server.urlOf(name);
    },
    log: () => server.log(),
    restart: async (downMs = 0) => {
      await server.halt('SIGQUIT'); // PostgreSQL's "immediate" shutdown: what a crash looks like to clients
      await new Promise((r) => setTimeout(r, downMs));
      await server.launch();
    },
    stop: async () => {
      await server.halt('SIGINT'); // PostgreSQL's "fast" shutdown
      tmp.remove();
    },
  };
}
