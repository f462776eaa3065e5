/**
 * `econnector backup <file>` (`npm run backup -- <file>`): a consistent copy of the office database while the daemon runs.
 *
 * The database is SQLite in WAL mode: committed pages may still sit in `econnector.sqlite-wal`,
 * so a plain copy of `econnector.sqlite` alone misses them (and may catch a checkpoint half
 * written). `VACUUM INTO` reads one snapshot of the database, WAL included, and writes it as a
 * new, compact, self-contained file; readers and the daemon's writers go on meanwhile. It uses
 * the `sqlite3` package the daemon itself runs on, so it needs nothing else installed.
 *
 * Exit codes: 0 written, 1 failed, 2 bad use or setting. Refuses to overwrite an existing file.
 */
import { chmodSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { parseCommandLine, UsageError } from '../util/cli-args';

const HELP = `Usage: econnector backup <file>        (npm run backup -- <file>)

Writes a consistent copy of the office database (DATABASE_URL, default DATA_DIR/econnector.sqlite)
to <file>, safely while econnector runs. <file> must not exist yet.`;

interface SqliteDatabase {
  run(sql: string, params: unknown[], cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
}
interface Sqlite3Module {
  OPEN_READONLY: number;
  Database: new (file: string, mode: number, cb: (err: Error | null) => void) => SqliteDatabase;
}

/** Copies the SQLite database at `source` into the new file `target` with VACUUM INTO. */
export async function backupSqlite(source: string, target: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sqlite3 = require('sqlite3') as Sqlite3Module;
  const db = await new Promise<SqliteDatabase>((res, rej) => {
    const handle: SqliteDatabase = new sqlite3.Database(source, sqlite3.OPEN_READONLY, (err) => (err ? rej(err) : res(handle)));
  });
  try {
    await new Promise<void>((res, rej) => db.run('PRAGMA busy_timeout = 10000', [], (err) => (err ? rej(err) : res())));
    await new Promise<void>((res, rej) => db.run('VACUUM INTO ?', [target], (err) => (err ? rej(err) : res())));
    // A copy of the patient data is as private as the database (the process umask says so too, src/cli/main.ts).
    chmodSync(target, 0o600);
  } finally {
    await new Promise<void>((res) => db.close(() => res()));
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const fail = (code: number, message: string): number => {
    process.stderr.write(`econnector backup: ${message}\n`);
    return code;
  };
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, {}, { positionals: { min: 1, max: 1, what: 'the file to write, e.g. econnector backup backups/econnector-2026-11-27.sqlite' } });
  } catch (err) {
    if (err instanceof UsageError) return fail(2, err.message);
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  // npm runs scripts from the project root; a relative path means the caller's folder.
  const target = resolve(process.env.INIT_CWD ?? process.cwd(), parsed.positionals[0]!);
  if (existsSync(target)) return fail(2, `${target} exists already: choose a new file`);
  try {
    const config = loadConfig();
    if (config.database.driver !== 'sqlite') return fail(2, 'DATABASE_URL is not SQLite: back PostgreSQL up with pg_dump');
    if (!existsSync(config.database.path)) return fail(1, `no database at ${config.database.path} (check DATA_DIR or DATABASE_URL)`);
    const started = Date.now();
    await backupSqlite(config.database.path, target);
    process.stdout.write(`econnector backup: ${config.database.path} -> ${target} (${Date.now() - started} ms)\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) return fail(2, err.message);
    return fail(1, (err as Error).message.split('\n')[0] ?? 'failed');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
