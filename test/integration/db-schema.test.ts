import { join } from 'node:path';
import { MIGRATIONS } from '../../src/db/migrations';
import { openDatabase, type Database } from '../../src/db/orm';
import { tempDir } from '../support/tmp';

describe('database schema', () => {
  const dir = tempDir();
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase({ driver: 'sqlite', path: join(dir.path, 'econnector.sqlite') });
  });
  afterAll(async () => {
    await db.close();
    dir.remove();
  });

  it('is exactly what the entities describe once the migrations ran (no drift)', async () => {
    const diff = await db.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('runs SQLite in WAL mode with synchronous=FULL and a busy timeout', async () => {
    const [mode] = (await db.knex.raw('PRAGMA journal_mode')) as Array<{ journal_mode: string }>;
    const [sync] = (await db.knex.raw('PRAGMA synchronous')) as Array<{ synchronous: number }>;
    const [busy] = (await db.knex.raw('PRAGMA busy_timeout')) as Array<{ timeout: number }>;
    expect(mode!.journal_mode).toBe('wal');
    expect(sync!.synchronous).toBe(2);
    expect(busy!.timeout).toBeGreaterThanOrEqual(1000);
  });

  it('applies migrations once: a second open finds nothing pending', async () => {
    const pending = await db.orm.getMigrator().getPendingMigrations();
    expect(pending).toEqual([]);
    const executed = await db.orm.getMigrator().getExecutedMigrations();
    expect(executed.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(executed[0]?.name).toBe('Migration20261127000000_initial');
  });
});
