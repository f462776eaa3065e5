/**
 * What a failed database write says about its cause. A page's write can fail because of its
 * ITEMS (a value the schema refuses: a constraint, a type, a length, an encoding) or because of
 * the DATABASE (locked, busy, full, down, corrupt). The first kind fails again on every retry, so
 * the page must be split to find the offending items (src/ingest/drain.ts); the second kind heals
 * by itself or by an operator, so the page is retried later as a whole.
 *
 * Only causes that are known to belong to the data are item-caused. Anything else (an error of
 * ours, an unknown code) counts as the database's: it is retried, never turned into quarantine.
 */

/** PostgreSQL SQLSTATE classes that describe the data: 22 data exception, 23 integrity constraint violation. */
const PG_ITEM_CLASSES = new Set(['22', '23']);
/** 54000 program_limit_exceeded: e.g. a value too large for an index row. */
const PG_ITEM_CODES = new Set(['54000']);

/** SQLite result codes (primary, or the extended ones better-sqlite3 reports) that describe the data. */
const SQLITE_ITEM_CODES = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG)(_|$)/;

/** SQLite codes that mean the database file itself is damaged or not a database: no retry heals them. */
const SQLITE_DAMAGED = /^SQLITE_(CORRUPT|NOTADB)(_|$)/;

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The driver's own words, without the statement knex puts before them ("<sql> - <message>"):
 * the statement is long, and says nothing the code and message do not.
 */
function driverMessage(err: unknown): string {
  const first = messageOf(err).split('\n')[0]!;
  const cut = first.lastIndexOf(' - ');
  return (cut >= 0 ? first.slice(cut + 3) : first).slice(0, 200);
}

/**
 * The database's reason when `err` is a refusal of the data written (store it with the items
 * that caused it), or null when the failure belongs to the database or is unknown. The reason is
 * the driver's code and first line, shortened: database messages name tables, columns and types,
 * and what could carry a value stays inside the quarantine row that holds the item anyway.
 */
export function itemFailureReason(err: unknown): string | null {
  const code = codeOf(err);
  if (code === null) return null;
  const isPg = /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('SQLITE');
  const itemCaused = isPg ? PG_ITEM_CLASSES.has(code.slice(0, 2)) || PG_ITEM_CODES.has(code) : SQLITE_ITEM_CODES.test(code);
  if (!itemCaused) return null;
  return `database refused the item: ${code} (${driverMessage(err)})`;
}

/** The SQLite code when `err` says the database file is corrupt or not a database at all. */
export function damagedDatabaseCode(err: unknown): string | null {
  const code = codeOf(err);
  if (code !== null && SQLITE_DAMAGED.test(code)) return code;
  // node-sqlite3 reports the primary code only in the message sometimes ("SQLITE_CORRUPT: ...").
  const m = /\b(SQLITE_(?:CORRUPT|NOTADB))\b/.exec(messageOf(err));
  return m ? m[1]! : null;
}

/** The first damage this process saw on its database (a write or read that failed as corrupt). */
let damage: { code: string; at: number } | null = null;

/**
 * Notes a failed database operation: a corrupt file or one that is not a database at all heals
 * by no retry, so readiness must say so (src/status/routes/health.ts) instead of the daemon
 * retrying quietly for ever.
 */
export function noteDatabaseError(err: unknown, now: number = Date.now()): void {
  const code = damagedDatabaseCode(err);
  if (code !== null && damage === null) damage = { code, at: now };
}

/** Readiness' database probe: a read of the file's first page (SELECT 1 touches no page), failing with the damage seen. */
export async function probeDatabase(read: () => Promise<unknown>): Promise<void> {
  if (damage !== null) throw new Error(`${damage.code}: the database file is damaged or not a database (seen ${new Date(damage.at).toISOString()}): stop the daemon and restore the latest backup`);
  try {
    await read();
  } catch (err) {
    noteDatabaseError(err);
    const code = damagedDatabaseCode(err);
    if (code !== null) throw new Error(`${code}: the database file is damaged or not a database: stop the daemon and restore the latest backup`, { cause: err });
    throw err;
  }
}
