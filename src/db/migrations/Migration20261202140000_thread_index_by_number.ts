import { Migration } from '@mikro-orm/migrations';
import { isSqlite } from '../bulk-sql';

/**
 * Text messages, speed of recording replies: on SQLite the thread index of the replies keys a
 * number by the integer of its digits instead of its text: `inbound_thread` on
 * (CAST(substr(from_phone, 2) AS INTEGER), received_at), in place of `inbound_from_received` on
 * (from_phone, received_at).
 *
 * Every reply adds an entry to this index at its number's place, so a page of 1,000 replies
 * dirties about as many of its pages as it has replies; an entry keyed by a 6-byte integer instead
 * of a 13-byte text makes the index smaller and its comparisons cheaper. Measured on the
 * reply-pages benchmark's file (BENCHMARKS.md, "Recording a page of 1,000 replies"): a page's CPU
 * over a fold cycle against the schema before text messages, 1.104 with the text key, 1.069 with
 * the integer key, both indexes freshly built.
 *
 * SQLite uses an index on an expression only for a query that names the same expression, so the
 * queries by number go through src/office/thread-index.ts. Every stored from_phone is E.164 (HQ's
 * replies are checked, src/hq/items.ts), so the integer names one number; the queries compare the
 * text as well. On PostgreSQL the index keeps its columns and takes the new name, so the queries
 * and the entities name one index on both engines.
 */
export class Migration20261202140000_thread_index_by_number extends Migration {
  override async up(): Promise<void> {
    if (isSqlite(this.getKnex())) {
      this.addSql('DROP INDEX IF EXISTS inbound_from_received');
      this.addSql('CREATE INDEX inbound_thread ON inbound_messages (CAST(substr(from_phone, 2) AS INTEGER), received_at)');
    } else {
      this.addSql('ALTER INDEX inbound_from_received RENAME TO inbound_thread');
    }
  }

  override async down(): Promise<void> {
    if (isSqlite(this.getKnex())) {
      this.addSql('DROP INDEX IF EXISTS inbound_thread');
      this.addSql('CREATE INDEX inbound_from_received ON inbound_messages (from_phone, received_at)');
    } else {
      this.addSql('ALTER INDEX inbound_thread RENAME TO inbound_from_received');
    }
  }
}
