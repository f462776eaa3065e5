/**
 * With REDIS_URL unset the daemon starts and owns a redis-server, its data under DATA_DIR/redis.
 * The daemon's server listens on a unix socket in that folder (0700) and on no TCP port at all:
 * a loopback port would let every local account read and change the queues (and the job data
 * in them), while the socket is reachable only by the daemon's own account. No password is
 * needed, so none shows in `ps` (docs/security.md). Tests and benchmarks start theirs the same way
 * (test/support/redis.ts): there is no TCP mode. A pid file lets the next start clean up a server
 * orphaned by a kill -9 of the daemon (Node cannot ask the kernel to kill a child when its parent dies). If the server dies
 * while the daemon runs, it is started again on the same socket; BullMQ's connections reconnect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EmbeddedRedisOptions {
  dataDir: string;
  binary?: string;
  /** Start the server again when it dies (default true; fault tests turn it off to kill it at will). */
  restartOnExit?: boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

export interface EmbeddedRedis {
  /** The socket's absolute path, DATA_DIR/redis/redis.sock (ioredis takes it as a URL). */
  url: string;
  /** The server's current process id. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export class RedisServerMissingError extends Error {
  override name = 'RedisServerMissingError';
}

function isRedisProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
}

/** Kills a redis-server left behind by a daemon that died without stopping it. */
function reapOrphan(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isRedisProcess(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(pidFile, { force: true });
}

async function waitForReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not become ready within ${timeoutMs} ms: ${output.trim().split('\n').pop() ?? ''}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
      // On a socket: 'The server is now ready to accept connections at <socket>'.
      if (/ready to accept connections/i.test(output)) done();
    };
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited (code ${code}) during start: ${output.trim().split('\n').pop() ?? ''}`));
    const onError = (err: NodeJS.ErrnoException): void =>
      fail(err.code === 'ENOENT'
        ? new RedisServerMissingError('redis-server is not installed: install it (apt-get install redis-server, or npm run setup) or set REDIS_URL')
        : err);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const done = (): void => { cleanup(); resolve(); };
    const fail = (err: Error): void => { cleanup(); reject(err); };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** A unix socket's path must fit in sockaddr_un.sun_path (108 bytes with its NUL on Linux). */
const MAX_SOCKET_PATH_BYTES = 107;

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const dir = join(opts.dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Only the daemon's account may reach the socket (and read the data) in this folder.
  chmodSync(dir, 0o700);
  const pidFile = join(dir, 'redis-server.pid');
  reapOrphan(pidFile);
  const socket = join(dir, 'redis.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`DATA_DIR: too long a path for the embedded Redis' socket (${socket} is ${Buffer.byteLength(socket)} bytes, at most ${MAX_SOCKET_PATH_BYTES}): choose a shorter DATA_DIR or set REDIS_URL`);
  }
  // --port 0: no TCP listener at all.
  const listen = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700'];
  const log = opts.log ?? (() => undefined);
  let stopping = false;
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    child = spawn(opts.binary ?? 'redis-server', [
      ...listen, '--dir', dir,
      // Queue state is rebuilt from HQ and the schedule, but keep it across restarts anyway.
      '--appendonly', 'yes', '--save', '',
      // BullMQ requires that Redis never evicts its keys.
      '--maxmemory-policy', 'noeviction',
      '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'notice',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Redis logs "Ready to accept connections" at notice level; ask for it on stdout.
    try {
      await waitForReady(child, 10_000);
    } catch (err) {
      // Never leave a half-started server behind.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw err;
    }
    writeFileSync(pidFile, String(child.pid));
    child.stdout?.resume();
    child.stderr?.resume();
    child.once('exit', (code, signal) => {
      if (stopping || opts.restartOnExit === false) return;
      log('error', 'embedded redis-server exited; starting it again', { code, signal });
      setTimeout(() => {
        if (!stopping) launch().catch((err: Error) => log('error', 'could not restart embedded redis-server', { error: err.message }));
      }, 1000).unref();
    });
  };

  // A process that exits without stopping it (a forced exit on a second signal, the shutdown
  // deadline) still asks the server to go: redis-server ends cleanly on SIGTERM, in the background.
  const onProcessExit = (): void => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', onProcessExit);

  await launch().catch((err: unknown) => {
    process.off('exit', onProcessExit);
    throw err;
  });
  log('info', 'embedded redis-server started', { socket });
  return {
    url: socket,
    pid: () => child.pid,
    stop: async () => {
      stopping = true;
      process.off('exit', onProcessExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          rmSync(pidFile, { force: true });
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}
