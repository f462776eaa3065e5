/**
 * A throw-away PostgreSQL server for tests: initdb in a temporary folder, a free loopback port,
 * stopped and removed afterwards. PostgreSQL refuses to run as root, so as root the server runs
 * as the `postgres` user (Debian's package creates it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/daemon/embedded-redis';

export interface TestPostgres {
  url: string;
  /** A fresh database on this server, for one test. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(base, versions[0]!, 'bin') : null;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql); .ci/run installs it');
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'econnector-pg-'));
  const postgresUid = asRoot ? Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()) : -1;
  const postgresGid = asRoot ? Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()) : -1;
  if (asRoot) chownSync(dir, postgresUid, postgresGid);
  const run = (cmd: string, args: string[]): string[] => (asRoot ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args]);

  const data = join(dir, 'data');
  const [initCmd, ...initArgs] = run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'econnector', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const init = spawnSync(initCmd!, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = await freePort();
  const [pgCmd, ...pgArgs] = run(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    // A test server: durability off for speed (the daemon's own durability is tested on SQLite).
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ]);
  const child: ChildProcess = spawn(pgCmd!, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));

  const { Client } = await import('pg');
  const adminUrl = `postgres://econnector@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const client = new Client({ connectionString: adminUrl });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`postgres did not start: ${(err as Error).message}; ${stderr.trim().split('\n').pop() ?? ''}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    url: `postgres://econnector@127.0.0.1:${port}/econnector`,
    createDatabase: async (name: string) => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://econnector@127.0.0.1:${port}/${name}`;
    },
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(kill);
            child.stderr?.destroy();
            resolve();
          });
          // SIGINT: PostgreSQL's "fast" shutdown.
          child.kill('SIGINT');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
