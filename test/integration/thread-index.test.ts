/**
 * The thread index (Migration20261202140000_thread_index_by_number, src/office/thread-index.ts):
 * queries by number find the same replies as a plain comparison, on SQLite and on PostgreSQL; on
 * SQLite they go through the index on the number's digits (SQLite uses an index on an expression
 * only for that very expression), in time order; and no query in src/ picks replies by number
 * without the helper, which would scan every reply.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { rowsOf, selectIn } from '../../src/db/bulk-sql';
import type { Database } from '../../src/db/orm';
import { fromAnyNumber, fromNumber } from '../../src/office/thread-index';
import { databaseEngines } from '../support/databases';

const engines = databaseEngines('thread');
afterAll(() => engines.stop());

const PHONES = ['+15035550101', '+15035550102', '+4915561', '+861234567890123'];
/** Not E.164 (HQ's replies always are), but its digits are the first number's: the index's key alone would mix them up. */
const LOOKALIKE = '+015035550101';

describe.each(engines.each)('replies by number on %s', (_name, open) => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await open());
    let seq = 0;
    const rows = [];
    for (const phone of [...PHONES, LOOKALIKE]) {
      for (let i = 0; i < 5; i++) {
        seq += 1;
        rows.push({
          inbound_id: `i-thread-${String(seq).padStart(4, '0')}`, clinic_id: 1, from_phone: phone, to_phone: '+15035550100', body: 'ok',
          received_at: 1_000_000 + ((seq * 7919) % 100) * 1000, charge_micros: 7900, segments: 1, recorded_at: 1, is_read: false, hidden: false,
        });
      }
    }
    await db.knex('inbound_messages').insert(rows);
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  it('finds exactly the replies a plain comparison finds, in time order', async () => {
    for (const phone of PHONES) {
      const byNumber = fromNumber(db.knex, phone);
      const got = rowsOf<{ inbound_id: string }>(await db.knex.raw(`SELECT inbound_id FROM inbound_messages WHERE ${byNumber.sql} ORDER BY received_at DESC, inbound_id DESC`, byNumber.bindings));
      const plain = rowsOf<{ inbound_id: string }>(await db.knex.raw('SELECT inbound_id FROM inbound_messages WHERE from_phone = ? ORDER BY received_at DESC, inbound_id DESC', [phone]));
      expect(got).toEqual(plain);
      expect(got).toHaveLength(5);
    }
    const some = [PHONES[0]!, PHONES[3]!, '+15035559999'];
    const rows = await selectIn<{ inbound_id: string; from_phone: string }>(db.knex, `SELECT inbound_id, from_phone FROM inbound_messages WHERE ${fromAnyNumber(db.knex)} ORDER BY inbound_id`, some);
    // By the index's key alone on SQLite, the look-alike comes too: which is why callers keep only the numbers they asked for.
    expect(rows.some((r) => r.from_phone === LOOKALIKE)).toBe(db.driver === 'sqlite');
    const got = rows.filter((r) => some.includes(r.from_phone));
    expect(got.map((r) => r.from_phone).sort()).toEqual([...Array(5).fill(PHONES[0]), ...Array(5).fill(PHONES[3])].sort());
  });

  it('goes through inbound_thread on SQLite, in time order from the index (only ties of the last term sorted)', async () => {
    if (db.driver !== 'sqlite') {
      const indexes = rowsOf<{ indexname: string }>(await db.knex.raw("SELECT indexname FROM pg_indexes WHERE tablename = 'inbound_messages' AND indexname = 'inbound_thread'"));
      expect(indexes).toHaveLength(1);
      return;
    }
    const plan = async (sql: string, bindings: unknown[]) => rowsOf<{ detail: string }>(await db.knex.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as never)).map((r) => r.detail).join(' | ');
    const byNumber = fromNumber(db.knex, PHONES[0]!);
    const thread = await plan(`SELECT inbound_id FROM inbound_messages WHERE ${byNumber.sql} AND received_at <= ? ORDER BY received_at DESC, inbound_id DESC LIMIT 51`, [...byNumber.bindings, 2_000_000]);
    expect(thread).toMatch(/^SEARCH inbound_messages USING INDEX inbound_thread \(<expr>=\? AND received_at<\?\)/);
    expect(thread).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    const latest = await plan(`SELECT clinic_id FROM inbound_messages WHERE ${byNumber.sql} ORDER BY received_at DESC LIMIT 1`, byNumber.bindings);
    expect(latest).toMatch(/^SEARCH inbound_messages USING INDEX inbound_thread \(<expr>=\?\)/);
    expect(latest).not.toMatch(/TEMP B-TREE/);
    const any = await plan(`SELECT inbound_id FROM inbound_messages WHERE ${fromAnyNumber(db.knex).replace('{in}', '(SELECT value FROM json_each(?))')}`, [JSON.stringify(PHONES)]);
    expect(any).toMatch(/SEARCH inbound_messages USING INDEX inbound_thread \(<expr>=\?\)/);
  });
});

describe('queries by number', () => {
  it('in src/ take their condition from src/office/thread-index.ts', () => {
    const root = join(__dirname, '..', '..', 'src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) files.push(path);
      }
    };
    walk(root);
    const offenders: string[] = [];
    for (const path of files) {
      const rel = relative(root, path);
      // The migrations create the index; thread-index.ts is the one place that names its key.
      if (rel.startsWith('db/migrations') || rel === join('office', 'thread-index.ts')) continue;
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        if (/from_phone\s*(=|IN\b)/i.test(line)) offenders.push(`${rel}:${i + 1}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
