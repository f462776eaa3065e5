/**
 * `econnector import-patients <file.csv> [--skip-bad-rows] [--dry-run]` (`npm run import:patients -- …`):
 * imports patients from a CSV file into the office database.
 *
 * Every row is checked first; each bad row is reported with its line number, the field and the
 * reason (never the value). A file with a bad row imports nothing unless --skip-bad-rows is
 * given; then the good rows are imported and the bad ones listed. --dry-run only checks.
 * Re-importing updates patients by patientId. The database is the daemon's (DATABASE_URL, or
 * DATA_DIR/econnector.sqlite); the daemon may keep running. Columns: see src/office/patients.ts
 * or docs/office-api.md ("Patients"); scripts/demo-patients.csv is an example.
 *
 * Exit codes: 0 imported (or checked, with --dry-run) without problems, or imported with
 * --skip-bad-rows; 1 bad rows and nothing imported; 2 usage or configuration error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config';
import { openDatabase } from '../db/orm';
import { importPatientsCsv } from '../office/patients';
import { parseCommandLine } from '../util/cli-args';
import { progressReporter } from './progress';

const HELP = `Usage: econnector import-patients <file.csv> [--skip-bad-rows] [--dry-run]
       (npm run import:patients -- <file.csv> ...)

Imports patients from a CSV file into the office database (the daemon may keep running). Every
row is checked first; a bad row is reported with its line number, field and reason (never the
value), and then nothing is imported unless --skip-bad-rows is given. Re-importing updates
patients by patientId. Columns: see docs/office-api.md ("Patients").

Options:
  --skip-bad-rows   import the good rows, list the bad ones
  --dry-run         only check the rows
  -h, --help        show this help

Exit codes: 0 imported (or checked clean), 1 bad rows and nothing imported, 2 bad use or setting.`;

/** Problems printed at most (the count is always given). */
const MAX_LISTED = 200;

export async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals, help } = parseCommandLine(
    argv,
    { 'skip-bad-rows': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    { positionals: { min: 1, max: 1, what: 'the CSV file to import, e.g. econnector import-patients patients.csv' } },
  );
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const dryRun = values['dry-run'] === true;
  // npm runs scripts from the project root; a relative path means the caller's folder.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]!);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    console.error(`import-patients: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return 2;
  }

  const config = loadConfig(process.env);
  const progress = progressReporter('import-patients');
  progress.phase('opening the database');
  const db = await openDatabase(config.database);
  try {
    progress.phase(`checking and importing ${(text.length / 1024).toFixed(0)} KB of rows`);
    const result = await importPatientsCsv(db.knex, text, { skipBadRows: values['skip-bad-rows'] === true, dryRun });
    progress.done();
    for (const p of result.problems.slice(0, MAX_LISTED)) console.error(`line ${p.line}: ${p.field ? `${p.field}: ` : ''}${p.reason}`);
    if (result.problems.length > MAX_LISTED) console.error(`... and ${result.problems.length - MAX_LISTED} more`);
    const bad = result.problems.length;
    const summary = `${result.total} row(s) read, ${result.rows.length} good, ${bad} problem(s)`;
    if (result.imported) {
      const i = result.imported;
      console.log(`import-patients: ${summary}; imported ${i.inserted} new and updated ${i.updated} patient(s)${bad ? ' (bad rows skipped)' : ''}; `
        + `Text OK changed for ${i.textOkChanged}, opt-in suggested for ${i.optinSuggested}, ${i.rematched} repl${i.rematched === 1 ? 'y' : 'ies'} matched to another patient`);
      return 0;
    }
    if (dryRun) {
      console.log(`import-patients: ${summary}; dry run, nothing imported`);
      return bad > 0 ? 1 : 0;
    }
    if (bad > 0) {
      console.error(`import-patients: ${summary}; nothing imported (fix the rows, or run again with --skip-bad-rows to import the good ones)`);
      return 1;
    }
    console.log(`import-patients: ${summary}; nothing to import`);
    return 0;
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      // Bad use and configuration errors are one clear line; anything else is unexpected.
      console.error(`import-patients: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
