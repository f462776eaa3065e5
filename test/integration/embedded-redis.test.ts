import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisServerMissingError, startEmbeddedRedis } from '../../src/daemon/embedded-redis';
import { waitFor } from '../support/stack';
import { tempDir } from '../support/tmp';

/** Running: a zombie (exited, not yet reaped by its parent) counts as dead. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // gone between the two looks
  }
};

describe('embedded redis-server', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('starts on a unix socket with its data under DATA_DIR/redis, and stops', async () => {
    const redis = await startEmbeddedRedis({ dataDir: dir.path });
    const client = new Redis(redis.url);
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(existsSync(join(dir.path, 'redis', 'redis-server.pid'))).toBe(true);
    } finally {
      client.disconnect();
      await redis.stop();
    }
    expect(alive(redis.pid()!)).toBe(false);
    expect(existsSync(join(dir.path, 'redis', 'redis-server.pid'))).toBe(false);
  });

  it('reaps a server orphaned by a daemon killed with -9, and restarts one that dies', async () => {
    const orphan = await startEmbeddedRedis({ dataDir: dir.path, restartOnExit: false });
    const orphanPid = Number(readFileSync(join(dir.path, 'redis', 'redis-server.pid'), 'utf8'));
    // The next start finds the pid file of a live redis-server and kills it.
    const next = await startEmbeddedRedis({ dataDir: dir.path });
    try {
      await waitFor('the orphaned redis-server to die', async () => !alive(orphanPid), 10_000, 20);
      const firstPid = next.pid()!;
      process.kill(firstPid, 'SIGKILL');
      await waitFor('a new redis-server after the kill', async () => next.pid() !== firstPid && next.pid() !== undefined, 15_000, 50);
      const client = new Redis(next.url, { maxRetriesPerRequest: 20 });
      try {
        expect(await client.ping()).toBe('PONG');
      } finally {
        client.disconnect();
      }
    } finally {
      await next.stop();
      await orphan.stop();
    }
  });

  it('says in one line what to do when redis-server is not installed', async () => {
    await expect(startEmbeddedRedis({ dataDir: dir.path, binary: 'redis-server-that-does-not-exist' })).rejects.toThrow(RedisServerMissingError);
    await expect(startEmbeddedRedis({ dataDir: dir.path, binary: 'redis-server-that-does-not-exist' })).rejects.toThrow(
      /redis-server is not installed: install it .* or set REDIS_URL/,
    );
  });
});
