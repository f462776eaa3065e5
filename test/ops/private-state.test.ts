/**
 * Patient data is private on disk, and the embedded Redis is closed to other local
 * accounts. The REAL daemon (embedded redis-server, built-in HQ mock, a log file) starts on a
 * DATA_DIR that an earlier run left open (0755 folders, 0644 files): afterwards every entry
 * under it is 0600 (files) or 0700 (folders), the SQLite -wal/-shm, the log and Redis' data
 * included; a backup written by `econnector backup` is 0600; and the redis-server listens on a
 * unix socket in a 0700 folder and on no TCP port, with nothing in its command line that would
 * let another account in (no password to read, no port to reach).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_MAIN, ROOT, spawnDaemon } from '../support/daemon-spawn';
import { killAllTracked, killGroup } from '../support/processes';
import { waitFor } from '../support/stack';
import { tempDir } from '../support/tmp';

function walk(dir: string): Array<{ path: string; mode: number; kind: 'dir' | 'file' | 'socket' }> {
  const out: Array<{ path: string; mode: number; kind: 'dir' | 'file' | 'socket' }> = [];
  const st = lstatSync(dir);
  out.push({ path: dir, mode: st.mode & 0o777, kind: 'dir' });
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = lstatSync(p);
    if (s.isDirectory()) out.push(...walk(p));
    else out.push({ path: p, mode: s.mode & 0o777, kind: s.isSocket() ? 'socket' : 'file' });
  }
  return out;
}

/** Pids whose command line mentions `needle` (from /proc). */
function pidsWith(needle: string): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.join(' ').includes(needle)) out.push({ pid: Number(name), argv });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Inodes of the TCP sockets in LISTEN state (IPv4 and IPv6). */
function listeningTcpInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') inodes.add(cols[9]!); // 0A: LISTEN
    }
  }
  return inodes;
}

function socketInodesOf(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

describe('private local state and a closed embedded Redis', () => {
  const owner = {};
  const tmp = tempDir('econnector-private-');
  afterAll(async () => {
    expect(await killAllTracked(owner)).toEqual([]);
    tmp.remove();
  });

  it('makes DATA_DIR 0700/0600 (tightening what was open), backups 0600, and Redis reachable only by its socket', async () => {
    const dataDir = join(tmp.path, 'data');
    // What an earlier, careless run left: open folders and files.
    mkdirSync(join(dataDir, 'backups'), { recursive: true });
    mkdirSync(join(dataDir, 'redis'), { recursive: true });
    writeFileSync(join(dataDir, 'old-notes.log'), 'patient called\n');
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'backups'), 0o755);
    chmodSync(join(dataDir, 'redis'), 0o755);
    chmodSync(join(dataDir, 'old-notes.log'), 0o644);

    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp.path, NODE_ENV: 'test', DATA_DIR: dataDir, OFFICE_TZ: 'America/Chicago',
      STATUS_PORT: '0', LOG_LEVEL: 'info',
      ECONNECTOR_CONFIG: JSON.stringify({ log: { file: 'logs/econnector.log' }, hqMock: { demo: { backlogMessages: 50, backlogInbound: 10, backlogDays: 3, perMinute: 0 } } }),
    };
    const spawned = await spawnDaemon('private-state daemon', env, { owner });
    const { started } = spawned;
    try {
      // Let it record something, so the database has its -wal and -shm and Redis its data.
      await waitFor('a page recorded (status shows a receipts poll)', async () => {
        const res = await fetch(`${String(started.status)}/status`);
        const doc = (await res.json()) as { econnector: { lastReceiptsPollAt: string | null } };
        return doc.econnector.lastReceiptsPollAt ?? undefined;
      }, 30_000, 200);

      const entries = walk(dataDir);
      const names = entries.map((e) => e.path.slice(dataDir.length));
      expect(names).toEqual(expect.arrayContaining(['/econnector.sqlite', '/econnector.sqlite-wal', '/econnector.sqlite-shm', '/redis', '/redis/redis.sock', '/logs', '/old-notes.log']));
      expect(names.some((n) => n.startsWith('/logs/econnector'))).toBe(true);
      const open = entries.filter((e) => (e.mode & 0o077) !== 0 || (e.kind === 'dir' && e.mode !== 0o700)).map((e) => `${e.path} ${e.mode.toString(8)}`);
      expect(open).toEqual([]);

      // The embedded redis-server: a unix socket in DATA_DIR/redis, no TCP port, no secret in its argv.
      const redis = pidsWith(join(dataDir, 'redis')).filter((p) => p.argv[0]?.includes('redis-server'));
      expect(redis).toHaveLength(1);
      const argv = redis[0]!.argv.join(' ');
      expect(argv).not.toMatch(/requirepass|masterauth|--bind/);
      const listening = listeningTcpInodes();
      expect([...socketInodesOf(redis[0]!.pid)].filter((inode) => listening.has(inode))).toEqual([]);

      // A backup is private too, wherever the account's umask would have put it.
      const backup = join(dataDir, 'backups', 'copy.sqlite');
      const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'econnector.js'), 'backup', backup], { cwd: ROOT, env: { ...env, INIT_CWD: ROOT }, encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(lstatSync(backup).mode & 0o777).toBe(0o600);
    } finally {
      await killGroup(spawned, 'SIGTERM');
    }
    expect(DAEMON_MAIN).toContain('dist');
  }, 90_000);
});
