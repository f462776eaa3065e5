/**
 * The commlog writer on real SQLite and PostgreSQL: one row per event key whatever is appended
 * again, ids growing in the order of the facts, rows after a cursor.
 */
import { appendCommlog, countCommlogAfter, readCommlog, type CommlogEntry } from '../../src/db/commlog';
import type { Database } from '../../src/db/orm';
import { databaseEngines, type OpenDatabase } from '../support/databases';

const entry = (key: string, at: number): CommlogEntry => ({
  eventKey: key, at, kind: 'reply_received', patientId: 7, clinicId: 1, phone: '+15035550142', inboundId: key, summary: 'Reply received', body: 'Yes',
});

function suite(name: string, open: OpenDatabase): void {
  describe(`commlog on ${name}`, () => {
    let db: Database;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ db, close } = await open());
    }, 60_000);
    afterAll(async () => {
      await close?.();
    });

    it('appends each event key once, in order, and reads after a cursor', async () => {
      await db.knex.transaction((trx) => appendCommlog(trx, [entry('reply:a', 1000), entry('reply:b', 2000)]));
      // The same facts again (a redelivered page) and one new one.
      await db.knex.transaction((trx) => appendCommlog(trx, [entry('reply:b', 2000), entry('reply:a', 1000), entry('reply:c', 3000)]));
      const all = await readCommlog(db.knex, 0, 100);
      expect(all.map((r) => r.inboundId)).toEqual(['reply:a', 'reply:b', 'reply:c']);
      expect(all[0]).toMatchObject({ at: '1970-01-01T00:00:01.000Z', kind: 'reply_received', patientId: 7, clinicId: 1, phone: '+15035550142', body: 'Yes', guid: null });
      const ids = all.map((r) => r.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(await readCommlog(db.knex, ids[0]!, 1)).toEqual([all[1]]);
      expect(await readCommlog(db.knex, ids[2]!, 10)).toEqual([]);
      expect(await countCommlogAfter(db.knex, ids[0]!)).toBe(2);
    });

    it('rolls back with the fact: a failed transaction leaves no row', async () => {
      await expect(db.knex.transaction(async (trx) => {
        await appendCommlog(trx, [entry('reply:rolled-back', 4000)]);
        throw new Error('the fact failed');
      })).rejects.toThrow('the fact failed');
      expect((await readCommlog(db.knex, 0, 100)).map((r) => r.inboundId)).not.toContain('reply:rolled-back');
    });
  });
}

const engines = databaseEngines('commlog');
afterAll(() => engines.stop());
for (const [name, open] of engines.each) suite(name, open);
