/**
 * Catching up, end to end: a backlog drained in small pages (5 items, one page a job, so every
 * job ends with HQ saying `more` for a while) shows on /status as catchingUp with a rate, writes
 * progress lines, and stops showing once HQ has nothing more.
 */
import { startStack, waitFor, type TestStack } from '../support/stack';
import type { StatusDocument } from '../support/status-client';

describe('catching up on a backlog', () => {
  let stack: TestStack;
  afterAll(async () => {
    await stack?.stop();
  });

  it('says so on /status and in the log while HQ answers more, and not afterwards', async () => {
    stack = await startStack({
      mock: { seed: 21 },
      config: { hq: { pageSize: 5, backoff: { baseMs: 100, maxMs: 2000 }, timeoutMs: 3000 }, ingest: { maxPagesPerJob: 1, maxJobSeconds: 10 } },
    });
    const now = stack.now();
    await stack.sim('POST', '/sim/traffic', { messages: 600, inbound: 0, from: new Date(now - 5 * 86_400_000).toISOString(), to: new Date(now - 3_600_000).toISOString(), seed: 4 });
    const during = await waitFor('/status to say it is catching up', async () => {
      const s = await stack.status<StatusDocument>();
      return s.econnector.catchingUp === true && (s.econnector.itemsPerSecond as number) > 0 ? s : undefined;
    }, 30_000, 100);
    expect(during.econnector.itemsPerSecond).toEqual(expect.any(Number));
    await waitFor('HQ to be drained', async () => {
      const s = await stack.sim<{ receipts: { available: number; leased: number } }>('GET', '/sim/stats');
      return s.receipts.available + s.receipts.leased === 0;
    }, 120_000, 250);
    await waitFor('/status to stop saying it is catching up', async () => {
      const s = await stack.status<StatusDocument>();
      return s.econnector.catchingUp === false && s.econnector.itemsPerSecond === 0 ? true : undefined;
    }, 40_000, 250);
    const progress = stack.logs.filter((l) => l.message === 'catching up' || l.message === 'caught up');
    expect(progress.map((l) => l.message)).toContain('caught up');
    for (const l of progress) expect(l).toMatchObject({ stream: 'receipts', items: expect.any(Number), itemsPerSecond: expect.any(Number) });
  }, 200_000);
});
