/**
 * The page store on PostgreSQL (page-store.ts): each page in one transaction on the ORM's knex
 * pool, a few multi-row statements per table (src/db/bulk-sql.ts: a column's values travel as one
 * typed array that unnest zips back into rows, built before the transaction), side by side with the pages
 * of other pollers and processes (src/db/pg-serialized.ts says how they stay exact). Receipts are inserted or
 * ignored by receiptId (RETURNING names the new ones), messages new to the database are inserted
 * outright with their greatest receipt of the page, and stored ones are read once and merged
 * (page-merge.ts). Replies go through recordInboundPage (record-inbound.ts).
 */
import type { Knex } from '@mikro-orm/knex';
import { insertPreparedReturning, insertRows, isSqlite, PreparedRows, selectIn, type SqlValue } from '../db/bulk-sql';
import { pageTransaction } from '../db/pg-serialized';
import type { ValidReceipt } from '../hq/items';
import { applyUsageDeltas, UsageDeltas } from '../usage/aggregates';
import type { MonthBucketer } from '../usage/month';
import { ackIdsOf, byCodeUnit, greatestPerMessage, mergeReceipt, uniqueBy, type StoredMessage } from './page-merge';
import { MESSAGE_COLUMNS, MESSAGE_IF_NEW, MESSAGE_TAKES_RECEIPT, messageRow, RECEIPT_COLUMNS, RECEIPT_IF_NEW, receiptRow } from './page-sql';
import type { InboundPage, PageOutcome, PageStore, ReceiptsPage } from './page-store';
import { markClinicsSeen, recordEmptyPoll, recordInboundPage, recordStreamProgress, storeQuarantine } from './record-inbound';

export class PostgresPageStore implements PageStore {
  constructor(private readonly knex: Knex, private readonly months: MonthBucketer) {}

  recordReceipts(page: ReceiptsPage): Promise<PageOutcome> {
    return recordReceiptsPage(this.knex, this.months, page);
  }

  recordInbound(page: InboundPage): Promise<PageOutcome> {
    return recordInboundPage(this.knex, page.messages, page.quarantined, this.months, page.now);
  }

  async close(): Promise<void> {
    // Nothing of its own: the pool belongs to the database (src/db/orm.ts).
  }
}

async function recordReceiptsPage(knex: Knex, months: MonthBucketer, { receipts, quarantined, now }: ReceiptsPage): Promise<PageOutcome> {
  if (receipts.length === 0 && quarantined.length === 0) return recordEmptyPoll(knex, 'receipts', now);
  // Sorted by id: pages written side by side then lock the rows they share in one order, so they
  // wait for each other instead of deadlocking (src/db/pg-serialized.ts).
  const unique = uniqueBy(receipts, (r) => r.receiptId).sort((a, b) => byCodeUnit(a.receiptId, b.receiptId));

  // Everything that does not depend on what is stored is built before the transaction begins, so
  // it overlaps the other stream's transaction instead of holding a connection.
  const receiptRows = new PreparedRows(knex, 'receipts', RECEIPT_COLUMNS, unique.map((r) => receiptRow(r, now)));
  const latest = new Map([...greatestPerMessage(unique)].sort(([a], [b]) => byCodeUnit(a, b)));
  // unnest hands the rows out in the arrays' order: the sorted order the page locks them in.
  const newMessageRows = new PreparedRows(knex, 'outbound_messages', MESSAGE_COLUMNS, [...latest.values()].map((r) => messageRow(r, now)));
  // The stored messages are read under a row lock: no other page can change one between this
  // page's reading it and writing it (SQLite, where the reference test runs this, has one writer).
  const lockStored = isSqlite(knex) ? '' : ' ORDER BY guid FOR UPDATE';

  // The transaction may run more than once (a deadlock): what it collects starts inside.
  const outcome = await pageTransaction(knex, async (trx) => {
    const deltas = new UsageDeltas();
    const inserted = await insertPreparedReturning<{ receipt_id: string }>(trx, receiptRows, RECEIPT_IF_NEW, 'receipt_id');
    await storeQuarantine(trx, quarantined, now);

    // Messages new to the database (nearly all, in a backlog) are inserted outright: their greatest
    // receipt is their final one. RETURNING names them; the insert's own key lookup is the only one.
    const pending = new Map<string, ValidReceipt>(latest);
    for (const { guid } of await insertPreparedReturning<{ guid: string }>(trx, newMessageRows, MESSAGE_IF_NEW, 'guid')) {
      mergeReceipt(null, pending.get(guid)!, months, deltas);
      pending.delete(guid);
    }

    // Messages already stored: a receipt wins only over the greatest one stored before. A message
    // another page inserted meanwhile is among them: its insert made ours wait for its commit.
    const stored = new Map<string, StoredMessage>();
    for (const m of await selectIn<StoredMessage & { guid: string }>(trx,
      `SELECT guid, clinic_id, sent_at, status, charge_micros, final_receipt_id, final_status_at FROM outbound_messages WHERE guid IN {in}${lockStored}`, [...pending.keys()])) {
      stored.set(m.guid, m);
    }
    const changed: SqlValue[][] = [];
    for (const [guid, r] of pending) {
      const before = stored.get(guid);
      if (before === undefined) throw new Error('a message neither inserted nor found'); // cannot happen: fail the page, never miscount
      if (mergeReceipt(before, r, months, deltas)) changed.push(messageRow(r, now));
    }
    await insertRows(trx, 'outbound_messages', MESSAGE_COLUMNS, changed, MESSAGE_TAKES_RECEIPT);
    // The rows every page shares (usage, clinics, the stream's progress) come last, so a page
    // beside this one waits for them only through this page's commit.
    const usagePairs = await applyUsageDeltas(trx, deltas, now);
    await markClinicsSeen(trx, unique.map((r) => r.clinicId));
    await recordStreamProgress(trx, 'receipts', now, inserted.length);
    return { recorded: inserted.length, duplicates: receipts.length - inserted.length, usagePairs };
  });

  return { ...outcome, quarantined: quarantined.length, ackIds: ackIdsOf(unique.map((r) => r.receiptId), quarantined), sendGuids: [] };
}
