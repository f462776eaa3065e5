import { Migration } from '@mikro-orm/migrations';

/**
 * Consent and the communication log:
 *
 * - `commlog`: the append-only record of every text sent, every reply received, every opt-out and
 *   opt-in, every Text OK change and every reply moved to another patient, written in the same
 *   transaction as the fact (src/db/commlog.ts). `id` only grows (AUTOINCREMENT on SQLite, a
 *   sequence on PostgreSQL, where every transaction also holds the write lock of pg-serialized.ts,
 *   so ids become visible in order): the practice software pulls rows after the last id it has.
 *   `event_key` names the fact ('reply:i-000045', 'sent:<guid>'): a fact recorded twice, whatever
 *   the redeliveries, still has one row.
 * - patients: `name_key` (the name in lower case, for the name-prefix search), and the opt-in
 *   request's state (`optin_status` suggested | sent | confirmed | declined, when it was set, the
 *   guid of the opt-in text, when the last one was requested: at most one a day).
 * - outbound_messages: `purpose` of an office text (null: a text the office wrote; help_reply,
 *   optin_request, stop_confirmation, start_confirmation): the send worker lets only the carrier's
 *   required answers through to an opted-out number.
 * - inbound_messages: an index on `from_phone`, so the replies of a number are found at once
 *   (matching them again after a patient change, a conversation's thread).
 */
export class Migration20261201213500_consent_commlog extends Migration {
  override async up(): Promise<void> {
    const schema = () => this.getKnex().schema;

    this.addSchema(
      schema().createTable('commlog', (t) => {
        t.bigIncrements('id').primary();
        t.bigInteger('at').notNullable();
        t.string('kind', 255).notNullable();
        t.integer('patient_id').nullable();
        t.integer('clinic_id').nullable();
        t.string('phone', 255).nullable();
        t.string('guid', 255).nullable();
        t.string('inbound_id', 255).nullable();
        t.text('summary').notNullable();
        t.text('body').nullable();
        t.string('event_key', 255).notNullable();
        t.unique(['event_key'], { indexName: 'commlog_event_key_unique' });
        t.index(['patient_id', 'id'], 'commlog_patient');
      }),
    );

    this.addSchema(
      schema().alterTable('patients', (t) => {
        t.string('name_key', 255).nullable();
        t.string('optin_status', 255).nullable();
        t.bigInteger('optin_at').nullable();
        t.string('optin_guid', 255).nullable();
        t.bigInteger('optin_requested_at').nullable();
      }),
    );
    // Existing names: lower() folds ASCII on SQLite (all of Unicode on PostgreSQL); the next
    // import or PUT of a patient writes JavaScript's toLowerCase, which the search uses.
    this.addSql('UPDATE patients SET name_key = lower(name)');

    this.addSchema(
      schema().alterTable('outbound_messages', (t) => {
        t.string('purpose', 255).nullable();
      }),
    );
    // The automatic HELP answers recorded before this migration (their guids are name-based, but
    // their text is the HELP answer's): recognised by their text's fixed middle.
    this.addSql("UPDATE outbound_messages SET purpose = 'help_reply' WHERE origin = 'office' AND body LIKE '%: appointment reminders and messages. Msg & data rates may apply. Reply STOP to opt out, START to opt back in.'");

    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.index(['from_phone'], 'inbound_from_phone');
      }),
    );
  }

  /** A schema builder may compile to several statements (a table and its indexes): add each alone. */
  private addSchema(builder: { toSQL(): Array<{ sql: string }> | { sql: string } }): void {
    const compiled = builder.toSQL();
    for (const q of Array.isArray(compiled) ? compiled : [compiled]) this.addSql(q.sql);
  }

  override async down(): Promise<void> {
    const schema = () => this.getKnex().schema;
    this.addSchema(schema().alterTable('inbound_messages', (t) => {
      t.dropIndex([], 'inbound_from_phone');
    }));
    this.addSchema(schema().alterTable('outbound_messages', (t) => {
      t.dropColumns('purpose');
    }));
    this.addSchema(schema().alterTable('patients', (t) => {
      t.dropColumns('name_key', 'optin_status', 'optin_at', 'optin_guid', 'optin_requested_at');
    }));
    this.addSchema(schema().dropTableIfExists('commlog'));
  }
}
