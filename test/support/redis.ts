/**
 * The one redis-server of a test (or a benchmark run) of its own: the daemon's embedded server
 * (src/daemon/embedded-redis.ts), listening only on a unix socket in `dir/redis`, so no port is
 * picked, raced for or left bound. Starting it again on the same `dir` gives the same socket, so
 * a daemon configured with `url` reaches the new server (the fault tests kill and restart Redis).
 */
import { startEmbeddedRedis } from '../../src/daemon/embedded-redis';

export interface TestRedis {
  /** REDIS_URL for a daemon: unix:///…/redis.sock. */
  url: string;
  /** The socket's path, as ioredis takes it. */
  socket: string;
  /** The server's process id. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

/** Starts a redis-server on `dir/redis/redis.sock` that stays dead when killed (no restart). */
export async function startTestRedis(dir: string): Promise<TestRedis> {
  const redis = await startEmbeddedRedis({ dataDir: dir, restartOnExit: false });
  return { url: `unix://${redis.url}`, socket: redis.url, pid: () => redis.pid(), stop: () => redis.stop() };
}
