import { openDatabase, type Database } from '../../src/db/orm';
import { startPostgres, type TestPostgres } from '../support/postgres';

describe('database schema on PostgreSQL', () => {
  let pg: TestPostgres;
  let db: Database;

  beforeAll(async () => {
    pg = await startPostgres();
    db = await openDatabase({ driver: 'postgresql', url: await pg.createDatabase('schema_test') });
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await pg?.stop();
  });

  it('is exactly what the entities describe once the migrations ran (no drift)', async () => {
    const diff = await db.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });
});
