import { Migration } from '@mikro-orm/migrations';
import { isSqlite } from '../bulk-sql';

/**
 * A quarantined item keeps its ack id even when HQ's id is longer than 255 characters
 * (an id that long is quarantined, and still acknowledged; src/ingest/validate.ts acknowledges ids
 * up to 1,000 characters). On PostgreSQL `varchar(255)` refused such a row and failed the whole
 * page; SQLite does not enforce a varchar length, so only PostgreSQL changes.
 */
export class Migration20261201215000_quarantine_ack_id_text extends Migration {
  override async up(): Promise<void> {
    if (!isSqlite(this.getKnex())) this.addSql('ALTER TABLE quarantine ALTER COLUMN ack_id TYPE text');
  }

  override async down(): Promise<void> {
    if (!isSqlite(this.getKnex())) this.addSql('ALTER TABLE quarantine ALTER COLUMN ack_id TYPE varchar(255) USING left(ack_id, 255)');
  }
}
