/**
 * `econnector export-commlog --after <id> [--format csv|jsonl]` (`npm run export:commlog -- …`):
 * writes the communication log's rows after an id to stdout, oldest first, for the practice
 * software to import (rules of the log: src/db/commlog.ts; the same rows as GET /api/commlog).
 *
 * The export is a snapshot: it stops at the greatest id there was when it began, so a log growing
 * meanwhile does not keep it running; the next export starts after the last id, which the closing
 * line on stderr gives. A long export shows a progress line on stderr (when it is a terminal).
 * Rows are read 1,000 at a time by id (a keyset scan of the primary key), and written as fast as
 * stdout takes them, so memory stays flat however many there are.
 *
 * Exit codes: 0 written (also when stdout closed early, as `| head` does), 2 bad use or setting.
 */
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Knex } from '@mikro-orm/knex';
import { loadConfig } from '../config';
import { readCommlog, type CommlogRow } from '../db/commlog';
import { rowsOf } from '../db/bulk-sql';
import { openDatabase } from '../db/orm';
import { intOption, parseCommandLine, UsageError } from '../util/cli-args';
import { progressReporter, type ProgressReporter } from './progress';

const HELP = `Usage: econnector export-commlog --after <id> [--format csv|jsonl]
       (npm run export:commlog -- --after <id> ...)

Writes the communication log's rows with an id greater than <id> to stdout, oldest first: every
text sent, reply received, opt-out and opt-in, Text OK change and reply moved. Pass 0 for all of
them; the closing line on stderr names the last id written, the --after of the next export.

Options:
  --after <id>      export the rows after this id (required; 0: from the start)
  --format <f>      csv (the default: a header row, then one row per line) or jsonl (one JSON object a line)
  -h, --help        show this help

Columns: id, at (ISO 8601 UTC), kind, patientId, clinicId, phone, guid, inboundId, summary, body.
The rows hold patients' numbers and texts: keep the file where the practice software's data is.

Exit codes: 0 written, 2 bad use or setting.`;

export const COMMLOG_COLUMNS = ['id', 'at', 'kind', 'patientId', 'clinicId', 'phone', 'guid', 'inboundId', 'summary', 'body'] as const;
export type ExportFormat = 'csv' | 'jsonl';

const PAGE = 1000;

export interface ExportResult {
  rows: number;
  /** The id of the last row written, or the `after` given when there was none. */
  lastId: number;
  /** stdout closed before the end (a reader like `head` stopped reading). */
  cutShort: boolean;
}

function formatRows(rows: readonly CommlogRow[], format: ExportFormat, header: boolean): string {
  if (format === 'jsonl') return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
  return stringify(rows.map((r) => COMMLOG_COLUMNS.map((c) => r[c])), {
    header,
    columns: [...COMMLOG_COLUMNS],
    // Nulls as empty cells; quotes only where a value needs them (RFC 4180).
    cast: { number: (n) => String(n) },
  });
}

/** Writes, resolving once the chunk is flushed (so memory stays flat); false once the reader has gone (EPIPE). */
function writeOut(out: Writable, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (out.destroyed || out.writableEnded) return resolve(false);
    out.write(text, (err) => resolve(!err));
  });
}

/** Streams the rows after `after` (up to the greatest id at the start) to `out`. */
export async function exportCommlog(
  knex: Knex,
  opts: { after: number; format: ExportFormat },
  out: Writable,
  progress: ProgressReporter,
): Promise<ExportResult> {
  const bounds = rowsOf<{ last: number | string | null; n: number | string }>(await knex.raw(
    'SELECT MAX(id) AS last, COUNT(*) AS n FROM commlog WHERE id > ?', [opts.after]))[0];
  const end = bounds?.last == null ? opts.after : Number(bounds.last);
  const total = Number(bounds?.n ?? 0);
  // The write callbacks report a closed stdout; without a listener its 'error' event would end the process.
  const ignore = (): void => undefined;
  out.on('error', ignore);
  progress.phase('exporting the commlog');
  let cursor = opts.after;
  let written = 0;
  let first = true;
  while (cursor < end) {
    const rows = (await readCommlog(knex, cursor, PAGE)).filter((r) => r.id <= end);
    if (rows.length === 0) break;
    if (!(await writeOut(out, formatRows(rows, opts.format, first)))) return { rows: written, lastId: cursor, cutShort: true };
    first = false;
    written += rows.length;
    cursor = rows[rows.length - 1]!.id;
    progress.count(written, total);
  }
  // An empty CSV export still has its header, so a reader sees the columns.
  if (first && opts.format === 'csv' && !(await writeOut(out, formatRows([], 'csv', true)))) return { rows: 0, lastId: cursor, cutShort: true };
  progress.done();
  out.off('error', ignore);
  return { rows: written, lastId: cursor, cutShort: false };
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values, help } = parseCommandLine(argv, { after: { type: 'string' }, format: { type: 'string' } }, {
    needs: { after: 'a commlog id (0: from the start)', format: 'csv or jsonl' },
  });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const after = intOption('after', values.after, 0, Number.MAX_SAFE_INTEGER);
  if (after === undefined) throw new UsageError('--after is required: the id after which to export (0: from the start; see --help)');
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl (see --help)`);

  const config = loadConfig(process.env);
  const db = await openDatabase(config.database);
  try {
    const result = await exportCommlog(db.knex, { after, format }, process.stdout, progressReporter('export-commlog'));
    if (!result.cutShort) {
      process.stderr.write(`export-commlog: ${result.rows} row(s) after id ${after}; last id ${result.lastId} (the next export: --after ${result.lastId})\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
