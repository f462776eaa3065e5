/**
 * The SQLite page store's writer thread (page-store-sqlite.ts starts it): one better-sqlite3
 * connection on the daemon's SQLite file, with the same pragmas as every other connection, that
 * records one page per message it is sent, in the order sent, and answers with the outcome or the
 * error (its message and SQLite code, which the drain's bisect of a refused item reads:
 * src/db/errors.ts).
 *
 * Receipts pages: prepared one-row statements. On the ORM's driver (node-sqlite3) a page travels
 * as JSON that SQLite unpacks with json_each, every statement is compiled again, and each one is a
 * round trip between the event loop and the driver's threads. Prepared statements in a synchronous
 * driver do the same work in about half the database time (BENCHMARKS.md), and on this thread the
 * event loop never waits for it. The rows and conflict rules are page-sql.ts's, the decisions
 * page-merge.ts's, exactly as on PostgreSQL (page-store-postgres.ts).
 *
 * Reply pages: recordInboundPage (record-inbound.ts), the very code PostgreSQL and the tests run,
 * through knex on this same connection (src/db/sqlite-connection-knex.ts), so the office's upkeep
 * of each reply (matching, commlog, keywords, automatic texts, conversations) runs here too, off
 * the event loop. It reads "now" from the daemon's calendar clock (src/usage/month.ts): real time
 * plus the offset the store measured on the main thread's, so both threads keep one calendar.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { knexOnConnection } from '../db/sqlite-connection-knex';
import { SQLITE_CONNECTION_PRAGMAS } from '../db/sqlite-pragmas';
import { USAGE_ADDS_DELTA, USAGE_COLUMNS, UsageDeltas } from '../usage/aggregates';
import { MonthBucketer } from '../usage/month';
import { ackIdsOf, greatestPerMessage, mergeReceipt, uniqueBy, type StoredMessage } from './page-merge';
import {
  CLINIC_SEEN, MESSAGE_COLUMNS, MESSAGE_IF_NEW, MESSAGE_TAKES_RECEIPT, messageRow, QUARANTINE_COLUMNS, QUARANTINE_SEEN_AGAIN, quarantineRow,
  RECEIPT_COLUMNS, RECEIPT_IF_NEW, receiptRow, STREAM_PROGRESS,
} from './page-sql';
import type { InboundPage, PageOutcome, ReceiptsPage } from './page-store';
import { unpackReceipts, type PackedReceipts } from './receipts-transfer';
import { recordInboundPage } from './record-inbound';

export interface WriterData {
  path: string;
  officeTz: string;
  /** The daemon's calendar clock minus real time (0 unless a test moved the calendar: docs/testing.md). */
  calendarOffsetMs: number;
}

/** A receipts page travels as columns when it can (receipts-transfer.ts); a reply page as it is. */
export type WriterPage =
  | { kind: 'receipts'; page: Omit<ReceiptsPage, 'receipts'> & { receipts: PackedReceipts | ReceiptsPage['receipts'] } }
  | { kind: 'inbound'; page: InboundPage };

export type WriterRequest = WriterPage & { id: number };

export type WriterAnswer =
  | { id: number; ok: true; result: PageOutcome }
  | { id: number; ok: false; message: string; code: string | null };

const insertSql = (table: string, columns: readonly string[], onConflict: string): string =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${onConflict}`;

class ReceiptsRecorder {
  private readonly insertReceipt: Database.Statement;
  private readonly insertMessage: Database.Statement;
  private readonly readMessage: Database.Statement;
  private readonly updateMessage: Database.Statement;
  private readonly upsertQuarantine: Database.Statement;
  private readonly addUsage: Database.Statement;
  private readonly seeClinic: Database.Statement;
  private readonly progress: Database.Statement;
  /** BEGIN IMMEDIATE, like every other transaction on this file (src/db/sqlite-immediate.ts). */
  private readonly transaction: (page: ReceiptsPage) => PageOutcome;

  constructor(db: Database.Database, private readonly months: MonthBucketer) {
    this.insertReceipt = db.prepare(insertSql('receipts', RECEIPT_COLUMNS, RECEIPT_IF_NEW));
    this.insertMessage = db.prepare(insertSql('outbound_messages', MESSAGE_COLUMNS, MESSAGE_IF_NEW));
    this.readMessage = db.prepare('SELECT clinic_id, sent_at, status, charge_micros, final_receipt_id, final_status_at FROM outbound_messages WHERE guid = ?');
    this.updateMessage = db.prepare(insertSql('outbound_messages', MESSAGE_COLUMNS, MESSAGE_TAKES_RECEIPT));
    this.upsertQuarantine = db.prepare(insertSql('quarantine', QUARANTINE_COLUMNS, QUARANTINE_SEEN_AGAIN));
    this.addUsage = db.prepare(insertSql('monthly_usage', USAGE_COLUMNS, USAGE_ADDS_DELTA));
    this.seeClinic = db.prepare(insertSql('clinics', ['clinic_id', 'seen_in_traffic'], CLINIC_SEEN));
    this.progress = db.prepare(insertSql('stream_state', ['stream', 'last_ok_at', 'items_recorded'], STREAM_PROGRESS));
    const tx = db.transaction((page: ReceiptsPage) => this.write(page));
    this.transaction = (page) => tx.immediate(page);
  }

  /** Records the page in one transaction; throws (and rolls back) on any failure. */
  record(page: ReceiptsPage): PageOutcome {
    return this.transaction(page);
  }

  private write({ receipts, quarantined, now }: ReceiptsPage): PageOutcome {
    const unique = uniqueBy(receipts, (r) => r.receiptId);
    let recorded = 0;
    for (const r of unique) recorded += this.insertReceipt.run(receiptRow(r, now)).changes;

    for (const e of uniqueBy(quarantined, (q) => `${q.kind}|${q.itemKey}`)) this.upsertQuarantine.run(quarantineRow(e, now));

    const deltas = new UsageDeltas();
    for (const r of greatestPerMessage(unique).values()) {
      const row = messageRow(r, now);
      // Nearly every message of a backlog is new: the insert's own key lookup is the only one.
      if (this.insertMessage.run(row).changes === 1) {
        mergeReceipt(null, r, this.months, deltas);
        continue;
      }
      const stored = this.readMessage.get(r.guid) as StoredMessage | undefined;
      if (stored === undefined) throw new Error('a message neither inserted nor found'); // cannot happen: fail the page, never miscount
      if (mergeReceipt(stored, r, this.months, deltas)) this.updateMessage.run(row);
    }
    const usage = deltas.rows(now);
    for (const row of usage) this.addUsage.run(row);
    // better-sqlite3 binds no booleans: SQLite stores true as 1.
    for (const clinicId of new Set(unique.map((r) => r.clinicId))) this.seeClinic.run(clinicId, 1);
    this.progress.run('receipts', now, recorded);
    return {
      recorded, duplicates: receipts.length - recorded, quarantined: quarantined.length, usagePairs: usage.length,
      ackIds: ackIdsOf(unique.map((r) => r.receiptId), quarantined), sendGuids: [],
    };
  }
}

const unpacked = (receipts: PackedReceipts | ReceiptsPage['receipts']): ReceiptsPage['receipts'] =>
  'numbers' in receipts ? unpackReceipts(receipts) : receipts;

function main(): void {
  const port = parentPort!;
  const { path, officeTz, calendarOffsetMs } = workerData as WriterData;
  const db = new Database(path, { fileMustExist: true });
  for (const pragma of SQLITE_CONNECTION_PRAGMAS) db.exec(pragma);
  const months = new MonthBucketer(officeTz, () => Date.now() + calendarOffsetMs);
  const receipts = new ReceiptsRecorder(db, months);
  const knex = knexOnConnection(db, path);

  const record = (request: WriterPage): PageOutcome | Promise<PageOutcome> => request.kind === 'receipts'
    ? receipts.record({ ...request.page, receipts: unpacked(request.page.receipts) })
    : recordInboundPage(knex, request.page.messages, request.page.quarantined, months, request.page.now);
  const answer = async (msg: WriterRequest): Promise<void> => {
    let reply: WriterAnswer;
    try {
      reply = { id: msg.id, ok: true, result: await record(msg) };
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      reply = { id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err), code: typeof code === 'string' ? code : null };
    }
    try {
      port.postMessage(reply);
    } catch (err) {
      // An outcome that cannot be sent (it should not happen) must still fail its page, not leave it waiting.
      port.postMessage({ id: msg.id, ok: false, message: `the page's answer could not be sent: ${(err as Error).message}`, code: null } satisfies WriterAnswer);
    }
  };
  const close = async (): Promise<void> => {
    try {
      await knex.destroy();
    } finally {
      db.close();
      port.close();
    }
  };
  // One request at a time, in the order sent: a reply page awaits knex, and a receipts page's
  // transaction must not begin on the connection while a reply page's is open (the store sends one
  // page at a time anyway: takeTurn in page-store-sqlite.ts).
  let turn: Promise<void> = Promise.resolve();
  port.on('message', (msg: WriterRequest | 'close') => {
    turn = turn.then(() => (msg === 'close' ? close() : answer(msg)));
  });
}

// Loaded as the writer thread's entry point; importing it elsewhere (for its types) does nothing.
if (parentPort !== null && (workerData as Partial<WriterData> | null)?.officeTz !== undefined) main();
