import { Migration } from '@mikro-orm/migrations';

/**
 * Text messages, speed of recording replies: the conversations table keeps ONE
 * secondary index, `conversations_recent` (last_at, phone, clinic_id, unread), instead of three.
 *
 * Every reply moves its number's conversation (last_at), so each index on last_at costs a delete
 * and an insert per number per page; with three of them the upsert of a 1,000-reply page cost about
 * as much as inserting the replies themselves (BENCHMARKS.md). One index in the list's keyset order
 * still serves every list: the first and deep pages seek it, and the clinic and unread filters are
 * read from the index entries themselves (covering), without touching the rows.
 */
export class Migration20261201224000_conversations_one_index extends Migration {
  override async up(): Promise<void> {
    for (const name of ['conversations_last', 'conversations_clinic_last', 'conversations_unread_last']) this.addSql(`DROP INDEX IF EXISTS ${name}`);
    this.addSql('CREATE INDEX conversations_recent ON conversations (last_at, phone, clinic_id, unread)');
  }

  override async down(): Promise<void> {
    this.addSql('DROP INDEX IF EXISTS conversations_recent');
    this.addSql('CREATE INDEX conversations_last ON conversations (last_at, phone)');
    this.addSql('CREATE INDEX conversations_clinic_last ON conversations (clinic_id, last_at, phone)');
    this.addSql('CREATE INDEX conversations_unread_last ON conversations (last_at, phone) WHERE unread > 0');
  }
}
