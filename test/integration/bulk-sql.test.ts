/**
 * The multi-row insert of src/db/bulk-sql.ts stores exactly what a plain bound insert stores, on
 * both engines: a batch travels as one JSON parameter (SQLite) or as one array literal per column
 * (PostgreSQL), and neither may change a value on the way (quotes, backslashes, control
 * characters, the text "NULL", braces and commas, a lone surrogate, an empty string, null).
 */
import { insertRows, insertRowsReturning, pgArrayLiteral, type SqlValue } from '../../src/db/bulk-sql';
import type { Database } from '../../src/db/orm';
import { databaseEngines, type OpenDatabase } from '../support/databases';

const TRICKY: Array<string | null> = [
  'plain', 'a "quoted" word', 'back\\slash', 'ends with \\', '\\"', 'new\nline', 'tab\there', 'bell\u0007', '{curly}, and a comma', 'NULL', 'null', '',
  ' spaces around ', 'line\u2028separator', 'lone \ud800 surrogate', 'emoji 😀', 'ünïcödé', null,
];

describe('pgArrayLiteral', () => {
  it('quotes every string and writes null as NULL', () => {
    expect(pgArrayLiteral(['a', 'NULL', null, ''])).toBe('{"a","NULL",null,""}');
    expect(pgArrayLiteral([1, 2, null])).toBe('{1,2,null}');
    expect(pgArrayLiteral([true, false])).toBe('{true,false}');
    // A newline is not an escape in an array literal: the string is quoted by hand, the newline kept.
    expect(pgArrayLiteral(['a\nb', 'c"d\\'])).toBe('{"a\nb","c\\"d\\\\"}');
  });
});

function suite(name: string, open: OpenDatabase): void {
  describe(`insertRows on ${name}`, () => {
    let db: Database;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ db, close } = await open());
    }, 60_000);
    afterAll(async () => {
      await close?.();
    });

    const columns = ['kind', 'item_key', 'ack_id', 'raw', 'reason', 'first_seen_at', 'last_seen_at', 'times_seen'];
    const row = (key: string, v: string | null, i: number): SqlValue[] => ['receipt', key, v, v ?? 'none', `reason ${i}`, 1_700_000_000_000 + i, 2 ** 40 + i, i + 1];

    it('stores what a bound insert stores, value for value', async () => {
      const batch = TRICKY.map((v, i) => row(`batch-${i}`, v, i));
      const returned = await db.knex.transaction((trx) => insertRowsReturning<{ item_key: string }>(trx, 'quarantine', columns, batch, 'ON CONFLICT (kind, item_key) DO NOTHING', 'item_key'));
      // The rows come back in the batch's order.
      expect(returned.map((r) => r.item_key)).toEqual(batch.map((r) => r[1]));
      for (const [i, v] of TRICKY.entries()) {
        const values = row(`bound-${i}`, v, i);
        await db.knex('quarantine').insert(Object.fromEntries(columns.map((c, k) => [c, values[k]])));
      }
      const read = async (prefix: string) => (await db.knex('quarantine').where('item_key', 'like', `${prefix}-%`).select(...columns))
        .map((r: Record<string, unknown>): Record<string, unknown> => ({ ...r, item_key: String(r.item_key).slice(prefix.length), first_seen_at: Number(r.first_seen_at), last_seen_at: Number(r.last_seen_at) }))
        .sort((a, b) => Number(a.times_seen) - Number(b.times_seen));
      const stored = await read('batch');
      expect(stored).toEqual(await read('bound'));
      expect(stored.map((r) => r.ack_id)).toEqual(TRICKY.map((v) => (v === null ? null : v.replace(/\p{Cs}/gu, '\ufffd'))));
    });

    it('runs ON CONFLICT against the stored rows', async () => {
      await db.knex.transaction((trx) => insertRows(trx, 'quarantine', columns, [row('again', 'x', 0)], 'ON CONFLICT (kind, item_key) DO NOTHING'));
      await db.knex.transaction((trx) => insertRows(trx, 'quarantine', columns, [row('again', 'y', 5)],
        'ON CONFLICT (kind, item_key) DO UPDATE SET last_seen_at = excluded.last_seen_at, times_seen = quarantine.times_seen + 1'));
      const [r] = await db.knex('quarantine').where({ item_key: 'again' }).select('ack_id', 'times_seen', 'last_seen_at');
      expect({ ackId: r.ack_id, timesSeen: Number(r.times_seen), lastSeenAt: Number(r.last_seen_at) }).toEqual({ ackId: 'x', timesSeen: 2, lastSeenAt: 2 ** 40 + 5 });
    });
  });
}

const engines = databaseEngines('bulksql');
afterAll(() => engines.stop());
for (const [name, open] of engines.each) suite(name, open);
