/**
 * A damaged database file heals by no retry, so readiness says so: with the SQLite
 * file replaced by something that is not a database (a botched restore), /readyz answers 503 and its database check names
 * SQLITE_NOTADB (or SQLITE_CORRUPT) and what to do, instead of passing on a `SELECT 1` that never
 * touches the file.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, waitFor, type TestStack } from '../support/stack';

describe('readiness on a damaged database', () => {
  let stack: TestStack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('fails /readyz with the damage named', async () => {
    stack = await startStack({ tz: 'America/Chicago', env: { OFFICE_TZ: 'America/Chicago' } });
    const base = stack.daemon.statusUrl;
    const readyz = async (): Promise<{ code: number; database: Array<{ status: string; output?: string }> }> => {
      const res = await fetch(`${base}/readyz`);
      const doc = (await res.json()) as { checks: { database: Array<{ status: string; output?: string }> } };
      return { code: res.status, database: doc.checks.database };
    };
    // On a loaded machine one probe can run past its deadline and read 'fail': the healthy file
    // must come to pass (and stay the baseline), not pass on the very first probe.
    await waitFor('the database check to pass on the healthy file', async () => ((await readyz()).database[0]!.status === 'pass' ? true : undefined), 20_000, 200);

    // A botched restore: something that is no database copied over the file, its WAL gone.
    const path = join(stack.dir, 'econnector.sqlite');
    writeFileSync(`${path}.stray`, Buffer.alloc(16_384, 0x5a));
    renameSync(`${path}.stray`, path);
    for (const extra of ['-wal', '-shm']) rmSync(`${path}${extra}`, { force: true });

    const failed = await waitFor('readyz to fail on the damaged file', async () => {
      const r = await readyz();
      return r.code === 503 && r.database[0]!.status === 'fail' ? r : undefined;
    }, 20_000, 200);
    expect(failed.database[0]!.output).toMatch(/^SQLITE_(NOTADB|CORRUPT): the database file is damaged or not a database.*restore the latest backup/);
  }, 60_000);
});
