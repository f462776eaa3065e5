/** Development helper: CPU profile of the daemon under sequential GET /status. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { buildMonthDb, copyMonthDb } from './month-db';
import { spawnDaemon, startMockProcess, waitHttp } from './procs';
import { startTestRedis } from '../../test/support/redis';
import { KeepAliveClient, percentile } from './util';
import { simClient } from '../../test/support/hq-sim';

async function main(): Promise<void> {
  const dir = mkdtempSync('/var/tmp/ecperf-sprof-');
  const month = await buildMonthDb({ path: join(dir, 'm.sqlite'), tz: 'UTC', messages: Number(process.argv[2] ?? 100_000), inbound: 20_000, clinics: 100 });
  mkdirSync(join(dir, 'data'), { recursive: true });
  copyMonthDb(month, join(dir, 'data', 'econnector.sqlite'));
  const redis = await startTestRedis(join(dir, 'redis'));
  const mock = await startMockProcess({ logFile: join(dir, 'mock.log') });
  await simClient(mock)('POST', '/sim/config', { clinics: Array.from({ length: 100 }, (_, i) => ({ clinicId: i + 1, name: `Clinic ${i + 1}`, subscribed: true, primaryPhone: `+1503555${String(i + 1).padStart(4, '0')}`, countryCode: 'US' })) });
  const d = await spawnDaemon({ hqUrl: mock.url, apiKey: mock.apiKey, redisUrl: redis.url, dataDir: join(dir, 'data'), logFile: join(dir, 'd.log'), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`] });
  await waitHttp(`${d.statusUrl}/readyz`, 200, 30000);
  const c = new KeepAliveClient(d.statusUrl, 1);
  const lat: number[] = [];
  const slow: Array<[number, number]> = [];
  const t0 = performance.now();
  for (let i = 0; i < 10000; i++) {
    const t = performance.now();
    await c.get('/status');
    const ms = performance.now() - t;
    lat.push(ms);
    if (ms > 4) slow.push([Math.round(t - t0), Math.round(ms * 10) / 10]);
  }
  c.close();
  console.log('p50', percentile(lat, 50).toFixed(2), 'p99', percentile(lat, 99).toFixed(2), 'slow', JSON.stringify(slow.slice(0, 40)));
  await d.stop();
  await mock.stop();
  await redis.stop();
  console.log(dir);
}
main().catch((e) => { console.error(e); process.exit(1); });
