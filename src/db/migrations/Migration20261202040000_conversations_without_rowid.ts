import { Migration } from '@mikro-orm/migrations';
import { isSqlite } from '../bulk-sql';

/**
 * Text messages, speed of recording replies: on SQLite the conversations table becomes a WITHOUT
 * ROWID table, its rows stored in the B-tree of its primary key (phone).
 *
 * A page of 1,000 replies moves about 1,000 conversations (src/office/conversations.ts). In a
 * rowid table each of them is found through the primary key's own index, then read and rewritten
 * in the table's B-tree: two B-trees per number, both touched at random places, so a page dirtied
 * most pages of both and wrote them to the WAL. Keyed by phone, the row is found and rewritten
 * in one B-tree, and the table is no bigger than before (BENCHMARKS.md, "Recording a page of 1,000
 * replies"). The list's index, conversations_recent, holds the same entries (a WITHOUT ROWID
 * table's index entries end with the primary key, phone, which it already names).
 *
 * Every row is copied. PostgreSQL has no rowid (its primary key is an index beside the heap as
 * any other): nothing changes there.
 */
export class Migration20261202040000_conversations_without_rowid extends Migration {
  override async up(): Promise<void> {
    if (!isSqlite(this.getKnex())) return;
    this.rebuild(true);
  }

  override async down(): Promise<void> {
    if (!isSqlite(this.getKnex())) return;
    this.rebuild(false);
  }

  /** Copies conversations into a table of the same columns, WITHOUT ROWID or not, and puts its index back. */
  private rebuild(withoutRowid: boolean): void {
    const raw = (sql: string) => this.getKnex().raw(sql);
    // The same column definitions as Migration20261201214500_conversations, so the schema is what the entities describe.
    const compiled = this.getKnex().schema.createTable('conversations_rebuilt', (t) => {
      t.string('phone', 255).notNullable().primary();
      t.integer('clinic_id').notNullable();
      t.bigInteger('last_at').notNullable();
      t.string('last_direction', 3).notNullable();
      t.string('last_ref', 255).notNullable();
      t.integer('unread').notNullable().defaultTo(raw('0'));
    }).toSQL();
    const statements = (Array.isArray(compiled) ? compiled : [compiled]).map((q) => q.sql);
    if (statements.length !== 1) throw new Error('conversations: the table compiled to more than one statement');
    this.addSql(withoutRowid ? `${statements[0]} WITHOUT ROWID` : statements[0]!);
    this.addSql(`INSERT INTO conversations_rebuilt (phone, clinic_id, last_at, last_direction, last_ref, unread)
      SELECT phone, clinic_id, last_at, last_direction, last_ref, unread FROM conversations`);
    this.addSql('DROP TABLE conversations');
    this.addSql('ALTER TABLE conversations_rebuilt RENAME TO conversations');
    this.addSql('CREATE INDEX conversations_recent ON conversations (last_at, phone, clinic_id, unread)');
  }
}
