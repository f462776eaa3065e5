import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisServerMissingError, startEmbeddedRedis } from '../../src/daemon/embedded-redis';
import { tempDir } from '../support/tmp';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('embedded redis-server', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('starts on loopback with its data under DATA_DIR/redis, and stops', async () => {
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
      await new Promise((r) => setTimeout(r, 200));
      expect(alive(orphanPid)).toBe(false);
      const firstPid = next.pid()!;
      process.kill(firstPid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while ((next.pid() === firstPid || !next.pid()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(next.pid()).not.toBe(firstPid);
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
