import { Migration } from '@mikro-orm/migrations';

/**
 * The office side of texting: patients, carrier opt-outs, the outbox of office messages
 * not yet accepted by HQ, the columns an office-sent message needs (recipient, text, patient,
 * HQ's refusal reason) and the columns a matched reply needs (patient, match count, keyword).
 *
 * The usage index of outbound_messages gains `status` so the per-(clinic, month) recompute, which
 * now leaves out messages HQ refused (status 'failed', never sent), stays an index-only scan.
 */
export class Migration20261128000000_office extends Migration {
  override async up(): Promise<void> {
    const schema = () => this.getKnex().schema;

    this.addSchema(
      schema().alterTable('outbound_messages', (t) => {
        t.string('to_phone', 255).nullable();
        t.text('body').nullable();
        t.integer('patient_id').nullable();
        t.string('failure_reason', 255).nullable();
        t.bigInteger('accepted_at').nullable();
      }),
    );
    this.addSchema(
      schema().alterTable('outbound_messages', (t) => {
        t.dropIndex([], 'outbound_clinic_sent_charge');
        t.index(['clinic_id', 'sent_at', 'charge_micros', 'status'], 'outbound_clinic_sent_charge_status');
      }),
    );

    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.integer('patient_id').nullable();
        t.integer('match_count').nullable();
        t.string('keyword', 255).nullable();
      }),
    );

    this.addSchema(
      schema().createTable('patients', (t) => {
        t.integer('patient_id').notNullable().primary();
        t.string('name', 255).notNullable();
        t.string('wireless_phone', 255).nullable();
        t.string('phone_key', 255).nullable();
        t.integer('clinic_id').nullable();
        t.integer('guarantor_id').notNullable();
        t.string('text_ok', 255).notNullable();
        t.bigInteger('updated_at').notNullable();
        t.index(['phone_key'], 'patients_phone_key');
      }),
    );

    this.addSchema(
      schema().createTable('opt_outs', (t) => {
        t.string('phone_key', 255).notNullable().primary();
        t.boolean('opted_out').notNullable();
        t.bigInteger('changed_at').notNullable();
        t.string('inbound_id', 255).nullable();
        t.bigInteger('updated_at').notNullable();
      }),
    );

    this.addSchema(
      schema().createTable('outbox', (t) => {
        t.string('guid', 255).notNullable().primary();
        t.bigInteger('created_at').notNullable();
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
    for (const table of ['outbox', 'opt_outs', 'patients']) this.addSchema(schema().dropTableIfExists(table));
    this.addSchema(
      schema().alterTable('inbound_messages', (t) => {
        t.dropColumns('patient_id', 'match_count', 'keyword');
      }),
    );
    this.addSchema(
      schema().alterTable('outbound_messages', (t) => {
        t.dropIndex([], 'outbound_clinic_sent_charge_status');
        t.index(['clinic_id', 'sent_at', 'charge_micros'], 'outbound_clinic_sent_charge');
      }),
    );
    this.addSchema(
      schema().alterTable('outbound_messages', (t) => {
        t.dropColumns('to_phone', 'body', 'patient_id', 'failure_reason', 'accepted_at');
      }),
    );
  }
}
