/**
 * The pragmas of every connection the daemon opens on its SQLite file: the ORM's (orm.ts) and the
 * SQLite page store's writer thread (src/ingest/sqlite-page-writer.ts). Why each one is set: orm.ts.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** WAL pages before an automatic checkpoint (SQLite's default is 1000). */
export const SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000;
/** Each connection's page cache, in KiB (a negative cache_size is KiB): SQLite's own default. */
const SQLITE_CACHE_KIB = 2000;

export const SQLITE_CONNECTION_PRAGMAS: readonly string[] = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA synchronous = FULL',
  `PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`,
  'PRAGMA foreign_keys = OFF',
  'PRAGMA temp_store = MEMORY',
  `PRAGMA wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`,
  `PRAGMA cache_size = -${SQLITE_CACHE_KIB}`,
];
