/**
 * `econnector migrate`: applies pending migrations to the office database and says which. The
 * daemon migrates at start-up too; this command lets an upgrade migrate (and show what it did)
 * before the new version starts, or check with --dry-run what an upgrade would apply.
 */
import { loadConfig } from '../config';
import { applyMigrations, openDatabase } from '../db/orm';
import { parseCommandLine } from '../util/cli-args';

const HELP = `Usage: econnector migrate [--dry-run]        (npm run migrate)

Applies the pending migrations to the office database (DATABASE_URL, default
DATA_DIR/econnector.sqlite), creating it when it does not exist, and lists what it applied. Safe
while the daemon runs: migrations run in one transaction, and a daemon starting at the same moment
waits for it.

Options:
  --dry-run    only list the pending migrations
  -h, --help   show this help`;

export async function main(argv: readonly string[]): Promise<number> {
  const { values, help } = parseCommandLine(argv, { 'dry-run': { type: 'boolean' } });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const config = loadConfig();
  const where = config.database.driver === 'sqlite' ? config.database.path : 'PostgreSQL (DATABASE_URL)';
  const db = await openDatabase(config.database, { migrate: false });
  try {
    const migrator = db.orm.getMigrator();
    const pending = (await migrator.getPendingMigrations()).map((m) => m.name);
    if (pending.length === 0) {
      process.stdout.write(`econnector migrate: ${where} is up to date (${(await migrator.getExecutedMigrations()).length} migrations applied)\n`);
      return 0;
    }
    for (const name of pending) process.stdout.write(`${values['dry-run'] ? 'pending' : 'applying'}: ${name}\n`);
    if (!values['dry-run']) {
      await applyMigrations(db.orm);
      process.stdout.write(`econnector migrate: applied ${pending.length} migration(s) to ${where}\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
