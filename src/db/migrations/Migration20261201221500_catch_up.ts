import { Migration } from '@mikro-orm/migrations';

/**
 * Catching up: while HQ answers `more`, each poll job of a stream records in its
 * stream_state row since when the stream has been catching up, the items recorded since then, its
 * last rate and when it last said so; /status reports `econnector.catchingUp` and `itemsPerSecond`
 * from these, whichever process ran the job (src/ingest/catch-up.ts).
 */
const COLUMNS = [
  ['catch_up_since', 'BIGINT NULL'],
  ['catch_up_at', 'BIGINT NULL'],
  ['catch_up_items', 'BIGINT NOT NULL DEFAULT 0'],
  ['items_per_second', 'INTEGER NULL'],
] as const;

export class Migration20261201221500_catch_up extends Migration {
  override async up(): Promise<void> {
    // Plain ALTER TABLE ... ADD COLUMN: the same statement on SQLite and PostgreSQL.
    for (const [name, type] of COLUMNS) this.addSql(`ALTER TABLE stream_state ADD COLUMN ${name} ${type}`);
  }

  override async down(): Promise<void> {
    for (const [name] of COLUMNS) this.addSql(`ALTER TABLE stream_state DROP COLUMN ${name}`);
  }
}
