import { Migration } from '@mikro-orm/migrations';

/**
 * Text messages: the office reads, answers and manages patient replies.
 *
 * - inbound_messages gains `is_read`, `hidden` and `patient_set_by_office` (a reply the office moved
 *   to a patient keeps that patient when replies are matched again). Replies recorded before this
 *   migration start READ (the column's default), so an upgrade does not flood the unread badge; the
 *   page transaction writes both flags explicitly for every new reply.
 * - `conversations`: one row per phone number (E.164) with its latest activity (time, direction,
 *   the message it was, the clinic) and its count of unread replies, kept in the same transaction as
 *   every reply recorded and every text recorded (src/office/conversations.ts). Its indexes serve the
 *   conversation list's keyset order (last_at DESC, phone DESC), with and without a clinic, and a
 *   partial one the unread-only list.
 * - `unread_counts`: unread replies per clinic (hidden and blocked ones left out), kept in the same
 *   transactions: GET /api/inbound/unread and /status read a handful of rows, never the replies.
 * - `blocked_numbers`: numbers the office blocked, by phone key (src/office/phone.ts).
 * - A thread reads a number's replies by (from_phone, received_at), which replaces inbound_from_phone,
 *   and its office-sent texts by (to_phone, sent_at); the latter index is partial (only office texts
 *   have a recipient), so the receipts stream, whose message rows have none, never writes it.
 *
 * Existing databases: conversations are built from the replies and office texts already stored,
 * every one with nothing unread.
 */
export class Migration20261201214500_conversations extends Migration {
  override async up(): Promise<void> {
    const schema = () => this.getKnex().schema;
    const raw = (sql: string) => this.getKnex().raw(sql);

    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.boolean('is_read').notNullable().defaultTo(raw('true'));
        t.boolean('hidden').notNullable().defaultTo(raw('false'));
        t.boolean('patient_set_by_office').notNullable().defaultTo(raw('false'));
      }),
    );
    // (from_phone, received_at) serves everything inbound_from_phone (Migration20261201213500) did,
    // a number's replies, and their time order too: one index written per reply, not two.
    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.dropIndex([], 'inbound_from_phone');
        t.index(['from_phone', 'received_at'], 'inbound_from_received');
      }),
    );
    this.addSql('CREATE INDEX outbound_to_sent ON outbound_messages (to_phone, sent_at) WHERE to_phone IS NOT NULL');

    this.addSchema(
      schema().createTable('conversations', (t) => {
        t.string('phone', 255).notNullable().primary();
        t.integer('clinic_id').notNullable();
        t.bigInteger('last_at').notNullable();
        t.string('last_direction', 3).notNullable();
        t.string('last_ref', 255).notNullable();
        t.integer('unread').notNullable().defaultTo(raw('0'));
        t.index(['last_at', 'phone'], 'conversations_last');
        t.index(['clinic_id', 'last_at', 'phone'], 'conversations_clinic_last');
      }),
    );
    this.addSql('CREATE INDEX conversations_unread_last ON conversations (last_at, phone) WHERE unread > 0');

    this.addSchema(
      schema().createTable('unread_counts', (t) => {
        t.integer('clinic_id').notNullable().primary();
        t.integer('unread').notNullable();
      }),
    );

    this.addSchema(
      schema().createTable('blocked_numbers', (t) => {
        t.string('phone_key', 255).notNullable().primary();
        t.string('phone', 255).notNullable();
        t.bigInteger('blocked_at').notNullable();
      }),
    );

    // Conversations of an existing database: each number's latest message, nothing unread.
    this.addSql(`
      INSERT INTO conversations (phone, clinic_id, last_at, last_direction, last_ref, unread)
      SELECT phone, clinic_id, at, direction, ref, 0 FROM (
        SELECT phone, clinic_id, at, direction, ref,
               ROW_NUMBER() OVER (PARTITION BY phone ORDER BY at DESC, direction DESC, ref DESC) AS n
          FROM (SELECT from_phone AS phone, clinic_id, received_at AS at, 'in' AS direction, inbound_id AS ref FROM inbound_messages
                UNION ALL
                SELECT to_phone, clinic_id, sent_at, 'out', guid FROM outbound_messages WHERE to_phone IS NOT NULL) activity
      ) ranked
      WHERE n = 1`);
  }

  /** A schema builder may compile to several statements (a table and its indexes): add each alone. */
  private addSchema(builder: { toSQL(): Array<{ sql: string }> | { sql: string } }): void {
    const compiled = builder.toSQL();
    for (const q of Array.isArray(compiled) ? compiled : [compiled]) this.addSql(q.sql);
  }

  override async down(): Promise<void> {
    const schema = () => this.getKnex().schema;
    for (const table of ['blocked_numbers', 'unread_counts', 'conversations']) this.addSchema(schema().dropTableIfExists(table));
    this.addSql('DROP INDEX IF EXISTS outbound_to_sent');
    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.dropIndex([], 'inbound_from_received');
        t.index(['from_phone'], 'inbound_from_phone');
      }),
    );
    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.dropColumns('is_read', 'hidden', 'patient_set_by_office');
      }),
    );
  }
}
