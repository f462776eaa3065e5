/**
 * The migrations after the conversations' first schema (Migration20261202040000_conversations_without_rowid
 * and whatever follows) keep every conversation of an existing database, on SQLite and on a
 * throw-away PostgreSQL, and the table still takes a page's upkeep afterwards; going back down keeps
 * them too.
 */
import { join } from 'node:path';
import { rowsOf } from '../../src/db/bulk-sql';
import { openDatabase, type Database } from '../../src/db/orm';
import { noteActivity } from '../../src/office/conversations';
import { startPostgres, type TestPostgres } from '../support/postgres';
import { tempDir } from '../support/tmp';

/** The last migration before the conversations were rebuilt for speed. */
const BEFORE = 'Migration20261201224000_conversations_one_index';

const ROWS = [
  { phone: '+15035550101', clinic_id: 2, last_at: 3000, last_direction: 'in', last_ref: 'i-2', unread: 2 },
  { phone: '+15035550102', clinic_id: 1, last_at: 2500, last_direction: 'out', last_ref: '6f1c2b4e-0000-4000-8000-000000000001', unread: 0 },
  { phone: '+15035550103', clinic_id: 1, last_at: 2500, last_direction: 'in', last_ref: 'i-3', unread: 1 },
];

const num = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])));
const conversations = async (db: Database) => num(rowsOf(await db.knex.raw('SELECT phone, clinic_id, last_at, last_direction, last_ref, unread FROM conversations ORDER BY phone')));

let pg: TestPostgres | undefined;
let pgUrl: string | undefined;
const dir = tempDir();
afterAll(async () => {
  await pg?.stop();
  dir.remove();
});

const engines: Array<[string, (open: { migrate: boolean }) => Promise<Database>]> = [
  ['SQLite', (o) => openDatabase({ driver: 'sqlite', path: join(dir.path, 'upgrade.sqlite') }, o)],
  ['PostgreSQL', async (o) => {
    if (!pg) pg = await startPostgres();
    pgUrl ??= await pg.createDatabase('conv_upgrade');
    return openDatabase({ driver: 'postgresql', url: pgUrl }, o);
  }],
];

describe.each(engines)('upgrading the conversations on %s', (engine, open) => {
  it('keeps every conversation, up and down, and takes a page\'s upkeep afterwards', async () => {
    const old = await open({ migrate: false });
    try {
      await old.orm.getMigrator().up({ to: BEFORE });
      await old.knex('conversations').insert(ROWS);
    } finally {
      await old.close();
    }

    const db = await open({ migrate: true });
    try {
      expect(await conversations(db)).toEqual(ROWS);
      if (engine === 'SQLite') {
        const [table] = rowsOf<{ sql: string }>(await db.knex.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'conversations'"));
        expect(table!.sql).toMatch(/WITHOUT ROWID\s*$/i);
      }
      // The list's index is there and the upsert still moves a conversation forward and counts.
      await db.knex.transaction((trx) => noteActivity(trx, [
        { phone: '+15035550101', clinicId: 1, at: 4000, direction: 'in', ref: 'i-4', unread: 1 },
        { phone: '+15035550104', clinicId: 1, at: 4000, direction: 'in', ref: 'i-5', unread: 1 },
      ]));
      expect((await conversations(db)).filter((r) => r.phone === '+15035550101' || r.phone === '+15035550104')).toEqual([
        { phone: '+15035550101', clinic_id: 1, last_at: 4000, last_direction: 'in', last_ref: 'i-4', unread: 3 },
        { phone: '+15035550104', clinic_id: 1, last_at: 4000, last_direction: 'in', last_ref: 'i-5', unread: 1 },
      ]);
      const after = await conversations(db);

      await db.orm.getMigrator().down({ to: BEFORE });
      expect(await conversations(db)).toEqual(after);
      await db.orm.getMigrator().up();
      expect(await conversations(db)).toEqual(after);
    } finally {
      await db.close();
    }
  }, 60_000);
});
