/**
 * A look at the SQLite file itself, for readiness: a connection that is already open serves
 * its reads from its page cache and never notices that the file was overwritten or damaged, so
 * a fresh read-only connection reads the schema page. About a millisecond; readiness asks every
 * few seconds at most.
 */
import Database from 'better-sqlite3';

export async function readSqliteSchemaPage(path: string): Promise<void> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 1000');
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  } finally {
    db.close();
  }
}
