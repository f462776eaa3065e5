/**
 * The raw baseline of benchmark 1, the lean writer: better-sqlite3 (synchronous, in-process) writes
 * the rows the daemon must store for the items it drained — every receipt, the final row of each
 * receipt's message, every inbound message, read back from the drained database in the order the
 * daemon recorded them — with prepared `INSERT OR REPLACE` statements in transactions of 1,000
 * items, WAL mode, synchronous=FULL and the daemon's two throughput pragmas (temp_store=MEMORY,
 * wal_autocheckpoint=10000), into a fresh file with the same schema (tables and indexes copied from
 * the drained database). No HTTP, no validation, no ORM, no usage, no office upkeep (commlog,
 * conversations): the fastest way to store the same rows as durably on this disk, so "drain ÷
 * baseline" says how much of the gap is the daemon's own.
 *
 * Two variants for context: the same with SQLite's default pragmas (the benchmark's baseline
 * before 2 Dec 2026, for comparing with older figures), and one that writes only the items' own
 * rows (no message rows, so no random-key index at all: an upper bound, not the comparison).
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { round } from './util';

export interface BaselineResult {
  items: number;
  seconds: number;
  itemsPerSecond: number;
  /** The same rows with SQLite's default pragmas (the earlier baseline). */
  defaultPragmasPerSecond: number;
  /** Only the items' own rows (receipts, inbound), not the messages' rows: an upper bound. */
  itemsOnlyPerSecond: number;
}

type Row = unknown[];

const RECEIPT_COLS = ['receipt_id', 'guid', 'clinic_id', 'status', 'charge_micros', 'segments', 'country_code', 'sent_at', 'status_at', 'recorded_at'];
const MESSAGE_COLS = ['guid', 'clinic_id', 'sent_at', 'status', 'charge_micros', 'segments', 'final_receipt_id', 'final_status_at', 'origin', 'created_at'];
const INBOUND_COLS = ['inbound_id', 'clinic_id', 'from_phone', 'to_phone', 'body', 'received_at', 'charge_micros', 'segments', 'recorded_at'];

interface Loaded {
  schema: string[];
  receipts: Row[];
  messages: Map<string, Row>;
  inbound: Row[];
}

/** Reads the rows to write (not timed). */
export function loadRows(srcPath: string): Loaded {
  const src = new Database(srcPath, { readonly: true });
  const schema = (src.prepare(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'mikro_orm_%'
    ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid`).all() as Array<{ sql: string }>).map((r) => r.sql);
  const receipts = src.prepare(`SELECT ${RECEIPT_COLS.join(', ')} FROM receipts ORDER BY rowid`).raw().all() as Row[];
  const messages = new Map<string, Row>();
  for (const row of src.prepare(`SELECT ${MESSAGE_COLS.join(', ')} FROM outbound_messages`).raw().iterate() as Iterable<Row>) messages.set(row[0] as string, row);
  const inbound = src.prepare(`SELECT ${INBOUND_COLS.join(', ')} FROM inbound_messages ORDER BY rowid`).raw().all() as Row[];
  src.close();
  return { schema, receipts, messages, inbound };
}

function writeOnce(rows: Loaded, dstPath: string, withMessages: boolean, daemonPragmas = false): number {
  for (const suffix of ['', '-wal', '-shm']) rmSync(dstPath + suffix, { force: true });
  const db = new Database(dstPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  if (daemonPragmas) {
    db.pragma('temp_store = MEMORY');
    db.pragma('wal_autocheckpoint = 10000');
  }
  for (const sql of rows.schema) db.exec(sql);
  const marks = (n: number) => Array(n).fill('?').join(', ');
  const putReceipt = db.prepare(`INSERT OR REPLACE INTO receipts (${RECEIPT_COLS.join(', ')}) VALUES (${marks(RECEIPT_COLS.length)})`);
  const putMessage = db.prepare(`INSERT OR REPLACE INTO outbound_messages (${MESSAGE_COLS.join(', ')}) VALUES (${marks(MESSAGE_COLS.length)})`);
  const putInbound = db.prepare(`INSERT OR REPLACE INTO inbound_messages (${INBOUND_COLS.join(', ')}) VALUES (${marks(INBOUND_COLS.length)})`);
  const receiptChunk = db.transaction((chunk: Row[]) => {
    for (const r of chunk) {
      putReceipt.run(r);
      if (withMessages) {
        const m = rows.messages.get(r[1] as string);
        if (m) putMessage.run(m);
      }
    }
  });
  const inboundChunk = db.transaction((chunk: Row[]) => {
    for (const r of chunk) putInbound.run(r);
  });
  const started = performance.now();
  for (let i = 0; i < rows.receipts.length; i += 1000) receiptChunk(rows.receipts.slice(i, i + 1000));
  for (let i = 0; i < rows.inbound.length; i += 1000) inboundChunk(rows.inbound.slice(i, i + 1000));
  const ms = performance.now() - started;
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(dstPath + suffix, { force: true });
  return ms;
}

export function runBaseline(srcPath: string, dstPath: string): BaselineResult {
  const rows = loadRows(srcPath);
  const items = rows.receipts.length + rows.inbound.length;
  const ms = writeOnce(rows, dstPath, true, true);
  const defaultPragmasMs = writeOnce(rows, dstPath, true);
  const itemsOnlyMs = writeOnce(rows, dstPath, false, true);
  return {
    items,
    seconds: round(ms / 1000, 2),
    itemsPerSecond: Math.round(items / (ms / 1000)),
    defaultPragmasPerSecond: Math.round(items / (defaultPragmasMs / 1000)),
    itemsOnlyPerSecond: Math.round(items / (itemsOnlyMs / 1000)),
  };
}
