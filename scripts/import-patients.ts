/**
 * Imports patients from a CSV file into the office database:
 *
 *   npm run import:patients -- patients.csv [--skip-bad-rows] [--dry-run]
 *
 * Every row is checked first; each bad row is reported with its line number, the field and the
 * reason (never the value). A file with a bad row imports nothing unless --skip-bad-rows is
 * given; then the good rows are imported and the bad ones listed. --dry-run only checks.
 * Re-importing updates patients by patientId. The database is the daemon's (DATABASE_URL, or
 * DATA_DIR/econnector.sqlite); the daemon may keep running. Columns: see src/office/patients.ts
 * or the README (The office side of texting); scripts/demo-patients.csv is an example.
 *
 * Exit codes: 0 imported (or checked, with --dry-run) without problems, or imported with
 * --skip-bad-rows; 1 bad rows and nothing imported; 2 usage or configuration error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/orm';
import { importPatientsCsv } from '../src/office/patients';

const USAGE = 'usage: npm run import:patients -- <file.csv> [--skip-bad-rows] [--dry-run]';
/** Problems printed at most (the count is always given). */
const MAX_LISTED = 200;

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const files = argv.filter((a) => !a.startsWith('--'));
  for (const f of flags) {
    if (!['--skip-bad-rows', '--dry-run', '--help'].includes(f)) {
      console.error(`import-patients: unknown option ${f}\n${USAGE}`);
      return 2;
    }
  }
  if (flags.has('--help')) {
    console.log(USAGE);
    return 0;
  }
  if (files.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  // npm runs scripts from the project root; a relative path means the caller's folder.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), files[0]!);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    console.error(`import-patients: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return 2;
  }

  const config = loadConfig(process.env);
  const db = await openDatabase(config.database);
  try {
    const result = await importPatientsCsv(db.knex, text, { skipBadRows: flags.has('--skip-bad-rows'), dryRun: flags.has('--dry-run') });
    for (const p of result.problems.slice(0, MAX_LISTED)) console.error(`line ${p.line}: ${p.field ? `${p.field}: ` : ''}${p.reason}`);
    if (result.problems.length > MAX_LISTED) console.error(`... and ${result.problems.length - MAX_LISTED} more`);
    const bad = result.problems.length;
    const summary = `${result.total} row(s) read, ${result.rows.length} good, ${bad} problem(s)`;
    if (result.imported) {
      console.log(`import-patients: ${summary}; imported ${result.imported.inserted} new and updated ${result.imported.updated} patient(s)${bad ? ' (bad rows skipped)' : ''}`);
      return 0;
    }
    if (flags.has('--dry-run')) {
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    // Configuration errors are one clear line; anything else is unexpected.
    console.error(`import-patients: ${err.message}`);
    process.exitCode = 2;
  },
);
