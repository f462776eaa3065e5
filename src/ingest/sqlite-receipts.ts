/**
 * Records a page of receipts on SQLite through better-sqlite3: the same transaction as
 * recordReceiptsPage (record-page.ts; the rows and conflict rules come from page-sql.ts), written
 * with prepared one-row statements instead of one multi-row statement per table.
 *
 * Why a second writer: on the knex driver (node-sqlite3, SQLite 3.44) a page travels as JSON that
 * SQLite unpacks with json_each, every statement is compiled again, and each one is a round trip
 * between the event loop and the driver's threads. Prepared one-row statements in a synchronous
 * driver do the same work in about half the database time (BENCHMARKS.md), and the receipts
 * stream is most of any backlog. This runs on its own thread (receipts-writer.ts), so the event
 * loop never waits for it. PostgreSQL keeps recordReceiptsPage.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ValidReceipt } from '../hq/schemas';
import { sentContribution, USAGE_ADDS_DELTA, USAGE_COLUMNS, UsageDeltas } from '../usage/aggregates';
import type { MonthBucketer } from '../usage/month';
import { compareReceiptOrder } from './final-receipt';
import {
  CLINIC_SEEN, greatestPerMessage, MESSAGE_COLUMNS, MESSAGE_IF_NEW, MESSAGE_TAKES_RECEIPT, messageRow, QUARANTINE_COLUMNS, QUARANTINE_SEEN_AGAIN, quarantineRow,
  RECEIPT_COLUMNS, RECEIPT_IF_NEW, receiptRow, STREAM_PROGRESS, uniqueBy,
} from './page-sql';
import type { QuarantineEntry } from './validate';

export interface ReceiptsPage {
  receipts: readonly ValidReceipt[];
  quarantined: readonly QuarantineEntry[];
  now: number;
}

export interface ReceiptsPageResult {
  /** Receipts new to the database. */
  recorded: number;
  /** Receipts of the page already stored (redeliveries, or twice in the page). */
  duplicates: number;
  /** (clinic, month) usage pairs the page updated in place. */
  usagePairs: number;
}

interface StoredMessage {
  clinic_id: number;
  sent_at: number;
  status: string;
  charge_micros: number | null;
  final_receipt_id: string | null;
  final_status_at: number | null;
}

const insertSql = (table: string, columns: readonly string[], onConflict: string): string =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${onConflict}`;

/** Booleans as SQLite stores them (better-sqlite3 binds no booleans). */
const sqlValue = (v: unknown): unknown => (v === true ? 1 : v === false ? 0 : v);

export class SqliteReceiptsRecorder {
  private readonly insertReceipt: BetterSqlite3.Statement;
  private readonly insertMessage: BetterSqlite3.Statement;
  private readonly readMessage: BetterSqlite3.Statement;
  private readonly updateMessage: BetterSqlite3.Statement;
  private readonly upsertQuarantine: BetterSqlite3.Statement;
  private readonly addUsage: BetterSqlite3.Statement;
  private readonly seeClinic: BetterSqlite3.Statement;
  private readonly progress: BetterSqlite3.Statement;
  /** BEGIN IMMEDIATE, like every other transaction on this file (src/db/sqlite-immediate.ts). */
  private readonly transaction: (page: ReceiptsPage) => ReceiptsPageResult;

  constructor(db: BetterSqlite3.Database, private readonly months: MonthBucketer) {
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
  record(page: ReceiptsPage): ReceiptsPageResult {
    return this.transaction(page);
  }

  private write({ receipts, quarantined, now }: ReceiptsPage): ReceiptsPageResult {
    const unique = uniqueBy(receipts, (r) => r.receiptId);
    let recorded = 0;
    for (const r of unique) recorded += this.insertReceipt.run(receiptRow(r, now)).changes;

    for (const e of uniqueBy(quarantined, (q) => `${q.kind}|${q.itemKey}`)) this.upsertQuarantine.run(quarantineRow(e, now));

    const latest = greatestPerMessage(unique);
    const deltas = new UsageDeltas();
    const adds = (r: ValidReceipt): void => {
      const is = sentContribution({ status: r.status, charge_micros: r.chargeMicros });
      deltas.sent(r.clinicId, this.months.monthOf(r.sentAtMs), is.count, is.micros, 1);
    };
    for (const r of latest.values()) {
      const row = messageRow(r, now);
      if (this.insertMessage.run(row).changes === 1) {
        adds(r);
        continue;
      }
      const before = this.readMessage.get(r.guid) as StoredMessage | undefined;
      if (before === undefined) throw new Error('a message neither inserted nor found'); // cannot happen: fail the page, never miscount
      if (before.final_receipt_id !== null
        && compareReceiptOrder({ statusAtMs: Number(before.final_status_at), receiptId: before.final_receipt_id }, r) >= 0) continue;
      this.updateMessage.run(row);
      const was = sentContribution(before);
      deltas.sent(before.clinic_id, this.months.monthOf(Number(before.sent_at)), was.count, was.micros, -1);
      adds(r);
    }
    const usage = deltas.rows(now);
    for (const row of usage) this.addUsage.run(row);
    for (const clinicId of new Set(receipts.map((r) => r.clinicId))) this.seeClinic.run(clinicId, sqlValue(true));
    this.progress.run('receipts', now, recorded);
    return { recorded, duplicates: receipts.length - recorded, usagePairs: usage.length };
  }
}
