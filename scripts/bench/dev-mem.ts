/** Development helper: where the daemon's memory is at the end of a drain (smaps by mapping kind). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fillBacklog } from './drain';
import { RssSampler, spawnDaemon, startMockProcess } from './procs';
import { startTestRedis } from '../../test/support/redis';
import { sleep } from './util';
import { simClient, type SimStats } from '../../test/support/hq-sim';

function bigAnon(pid: number): string {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const out: Array<[string, number, number]> = [];
  let range = ''; let name = ''; let size = 0;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+-[0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) { range = head[1]!; name = head[2] || '[anon]'; continue; }
    const sz = /^Size:\s+(\d+) kB/.exec(line);
    if (sz) size = Number(sz[1]);
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && name === '[anon]' && Number(rss[1]) > 2048) out.push([range, Math.round(size / 1024), Math.round(Number(rss[1]) / 1024)]);
  }
  return out.map(([r, s, x]) => `${r.slice(0, 6)} size ${s} rss ${x}`).join('; ');
}

function smapsSummary(pid: number): Record<string, number> {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const out: Record<string, number> = {};
  let name = '';
  let size = 0;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) { name = head[1] || '[anon]'; size = 0; continue; }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const key = name.includes('node_modules') ? 'native modules' : name.startsWith('/') ? 'files' : name;
      out[key] = (out[key] ?? 0) + Number(rss[1]) / 1024;
    }
  }
  void size;
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v)]).filter(([, v]) => (v as number) > 0));
}

async function main(): Promise<void> {
  const dir = mkdtempSync('/var/tmp/ecperf-mem-');
  const redis = await startTestRedis(join(dir, 'redis'));
  const mock = await startMockProcess({ logFile: join(dir, 'mock.log') });
  await fillBacklog(mock, Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 200_000));
  const d = await spawnDaemon({ hqUrl: mock.url, apiKey: mock.apiKey, redisUrl: redis.url, dataDir: join(dir, 'data'), logFile: join(dir, 'daemon.log'), nodeArgs: (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean), env: process.env.DENV ? JSON.parse(process.env.DENV) : {} });
  const s = new RssSampler(d.pid, 50);
  await sleep(3000);
  console.log('early', Math.round(s.peakRssKb / 1024), smapsSummary(d.pid));
  for (;;) {
    const st = await simClient(mock)<SimStats>('GET', '/sim/stats');
    if (st.receipts.available + st.receipts.leased + st.inbound.available + st.inbound.leased === 0) break;
    await sleep(500);
  }
  console.log('end', 'peak', Math.round(s.peakRssKb / 1024), smapsSummary(d.pid));
  console.log(bigAnon(d.pid));
  s.stop();
  await d.stop();
  await mock.stop();
  await redis.stop();
  if (process.env.KEEP) console.log('kept', dir); else rmSync(dir, { recursive: true, force: true });
}
main().catch((e) => { console.error(e); process.exit(1); });
