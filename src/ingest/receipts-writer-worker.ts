/**
 * The receipts writer thread (receipts-writer.ts starts it): one better-sqlite3 connection on the
 * daemon's SQLite file, with the same pragmas as every other connection, recording one page per
 * message it is sent and answering with the outcome or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SQLITE_CONNECTION_PRAGMAS } from '../db/sqlite-pragmas';
import { MonthBucketer } from '../usage/month';
import { SqliteReceiptsRecorder, type ReceiptsPage } from './sqlite-receipts';

export interface WriterRequest {
  id: number;
  page: ReceiptsPage;
}

export type WriterAnswer =
  | { id: number; ok: true; result: ReturnType<SqliteReceiptsRecorder['record']> }
  | { id: number; ok: false; message: string; code: string | null };

export interface WriterData {
  path: string;
  officeTz: string;
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('receipts-writer-worker runs as a worker thread');
  const { path, officeTz } = workerData as WriterData;
  const db = new Database(path, { fileMustExist: true });
  for (const pragma of SQLITE_CONNECTION_PRAGMAS) db.exec(pragma);
  const recorder = new SqliteReceiptsRecorder(db, new MonthBucketer(officeTz));
  port.on('message', (msg: WriterRequest | 'close') => {
    if (msg === 'close') {
      db.close();
      port.close();
      return;
    }
    let answer: WriterAnswer;
    try {
      answer = { id: msg.id, ok: true, result: recorder.record(msg.page) };
    } catch (err) {
      const e = err as Error & { code?: unknown };
      answer = { id: msg.id, ok: false, message: e.message, code: typeof e.code === 'string' ? e.code : null };
    }
    port.postMessage(answer);
  });
}

main();
