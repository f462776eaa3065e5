/**
 * An item's id is counted in one unit everywhere: code points. zod's `.max` on the id schema counts
 * them (src/hq/schemas.ts), the quarantine key of an item that failed validation counts them
 * (quarantineEntry in src/hq/items.ts), and the column that stores the key holds them exactly
 * (PostgreSQL's varchar(255) counts characters of its UTF-8 text; SQLite does not limit a varchar).
 * An id of astral characters (two UTF-16 units each) is where counting units would disagree: at
 * the limit it is a valid id, so it is the key of its quarantined item too, and stored as it is.
 */
import { createHash } from 'node:crypto';
import { rowsOf } from '../../src/db/bulk-sql';
import { receiptSchema, splitPage } from '../../src/hq/items';
import { MAX_ID_LENGTH } from '../../src/hq/schemas';
import { PostgresPageStore } from '../../src/ingest/page-store-postgres';
import { MonthBucketer } from '../../src/usage/month';
import { databaseEngines, type OpenedDatabase } from '../support/databases';
import { contractReceipt } from '../support/hq-items';

const ASTRAL = '\u{1F600}'; // one code point, two UTF-16 units

/** The quarantine entry of a receipt with id `receiptId` and a status HQ does not have. */
const quarantinedWithId = (receiptId: string) => {
  const { valid, quarantined } = splitPage('receipt', [contractReceipt({ receiptId, status: 'bogus' })]);
  expect(valid).toEqual([]);
  return quarantined[0]!;
};
const contentKey = (raw: string): string => `sha256:${createHash('sha256').update(raw).digest('hex')}`;

describe('a quarantined item is keyed by its id when the id schema takes it, both counting code points', () => {
  it.each<[string, string, boolean]>([
    [`${MAX_ID_LENGTH} astral characters (${2 * MAX_ID_LENGTH} UTF-16 units)`, ASTRAL.repeat(MAX_ID_LENGTH), true],
    [`${MAX_ID_LENGTH - 1} letters and one astral character`, `${'r'.repeat(MAX_ID_LENGTH - 1)}${ASTRAL}`, true],
    [`${MAX_ID_LENGTH} letters`, 'r'.repeat(MAX_ID_LENGTH), true],
    [`${MAX_ID_LENGTH + 1} astral characters`, ASTRAL.repeat(MAX_ID_LENGTH + 1), false],
    [`${MAX_ID_LENGTH} letters and one astral character`, `${'r'.repeat(MAX_ID_LENGTH)}${ASTRAL}`, false],
    [`${MAX_ID_LENGTH + 1} letters`, 'r'.repeat(MAX_ID_LENGTH + 1), false],
  ])('an id of %s', (_what, receiptId, fits) => {
    // The schema's verdict on the id alone (the rest of the receipt is well formed).
    expect(receiptSchema.safeParse(contractReceipt({ receiptId })).success).toBe(fits);
    const q = quarantinedWithId(receiptId);
    expect(q.itemKey).toBe(fits ? receiptId : contentKey(q.raw));
    // Acknowledged either way: HQ handed it out under that id.
    expect(q.ackId).toBe(receiptId);
  });
});

const engines = databaseEngines('quarantine_id_length');
afterAll(() => engines.stop());

describe.each(engines.each)('the quarantine key column holds code points (%s)', (engine, open) => {
  let opened: OpenedDatabase;
  beforeAll(async () => {
    opened = await open();
  }, 60_000);
  afterAll(() => opened?.close());
  const keys = async (): Promise<string[]> =>
    rowsOf<{ item_key: string }>(await opened.db.knex.raw("SELECT item_key FROM quarantine WHERE kind = 'receipt' ORDER BY item_key")).map((r) => r.item_key);

  it('stores the key of an id of astral characters at the limit exactly, through the page store', async () => {
    const receiptId = ASTRAL.repeat(MAX_ID_LENGTH);
    const entry = quarantinedWithId(receiptId);
    expect(entry.itemKey).toBe(receiptId);
    // The knex page store (PostgreSQL's; on SQLite the same statements).
    const outcome = await new PostgresPageStore(opened.db.knex, new MonthBucketer('UTC')).recordReceipts({ receipts: [], quarantined: [entry], now: 1_000 });
    expect(outcome).toMatchObject({ quarantined: 1, ackIds: [receiptId] });
    expect(await keys()).toEqual([receiptId]);
  });

  it('takes 255 astral characters (510 UTF-16 units) in item_key; PostgreSQL refuses the 256th', async () => {
    const insert = (key: string) => opened.db.knex.raw(
      "INSERT INTO quarantine (kind, item_key, ack_id, raw, reason, first_seen_at, last_seen_at, times_seen) VALUES ('receipt', ?, NULL, '{}', 'test', 0, 0, 1)", [key]);
    await insert(`k${ASTRAL.repeat(254)}`);
    expect(await keys()).toContain(`k${ASTRAL.repeat(254)}`);
    if (engine === 'PostgreSQL') await expect(insert(`l${ASTRAL.repeat(255)}`)).rejects.toMatchObject({ code: '22001' });
  });
});
