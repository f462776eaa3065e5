import { Migration } from '@mikro-orm/migrations';

/**
 * The first schema. Written with knex's schema builder so the same migration serves SQLite and
 * PostgreSQL. Timestamps are epoch ms and money micro-dollars, both bigint.
 */
export class Migration20261127000000_initial extends Migration {
  override async up(): Promise<void> {
    // knex's `schema` getter returns a new builder each time; a kept builder would accumulate
    // every statement and compile them all again on each toSQL().
    const schema = () => this.getKnex().schema;
    // Raw defaults: knex quotes literal defaults ('0'), which the ORM's schema diff reads as drift.
    const raw = (sql: string) => this.getKnex().raw(sql);

    this.addSchema(
      schema().createTable('clinics', (t) => {
        t.integer('clinic_id').notNullable().primary();
        t.string('name', 255).nullable();
        t.boolean('subscribed').notNullable().defaultTo(raw('false'));
        t.string('primary_phone', 255).nullable();
        t.string('country_code', 2).nullable();
        t.boolean('in_account').notNullable().defaultTo(raw('false'));
        t.boolean('seen_in_traffic').notNullable().defaultTo(raw('false'));
        t.string('optin_title', 255).nullable();
        t.boolean('prompt_optin').notNullable().defaultTo(raw('true'));
        t.bigInteger('updated_at').notNullable().defaultTo(raw('0'));
      }),
    );

    this.addSchema(
      schema().createTable('outbound_messages', (t) => {
        t.string('guid', 255).notNullable().primary();
        t.integer('clinic_id').notNullable();
        t.bigInteger('sent_at').notNullable();
        t.string('status', 255).notNullable();
        t.bigInteger('charge_micros').nullable();
        t.integer('segments').nullable();
        t.string('final_receipt_id', 255).nullable();
        t.bigInteger('final_status_at').nullable();
        t.string('origin', 255).notNullable();
        t.bigInteger('created_at').notNullable();
        // Serves the per-(clinic, month) recompute as a covering index range scan.
        t.index(['clinic_id', 'sent_at', 'charge_micros'], 'outbound_clinic_sent_charge');
      }),
    );

    this.addSchema(
      schema().createTable('receipts', (t) => {
        t.string('receipt_id', 255).notNullable().primary();
        t.string('guid', 255).notNullable();
        t.integer('clinic_id').notNullable();
        t.string('status', 255).notNullable();
        t.bigInteger('charge_micros').notNullable();
        t.integer('segments').notNullable();
        t.string('country_code', 2).notNullable();
        t.bigInteger('sent_at').notNullable();
        t.bigInteger('status_at').notNullable();
        t.bigInteger('recorded_at').notNullable();
        t.index(['guid'], 'receipts_guid');
      }),
    );

    this.addSchema(
      schema().createTable('inbound_messages', (t) => {
        t.string('inbound_id', 255).notNullable().primary();
        t.integer('clinic_id').notNullable();
        t.string('from_phone', 255).notNullable();
        t.string('to_phone', 255).notNullable();
        t.text('body').notNullable();
        t.bigInteger('received_at').notNullable();
        t.bigInteger('charge_micros').notNullable();
        t.integer('segments').notNullable();
        t.bigInteger('recorded_at').notNullable();
        t.index(['clinic_id', 'received_at', 'charge_micros'], 'inbound_clinic_received_charge');
      }),
    );

    this.addSchema(
      schema().createTable('quarantine', (t) => {
        t.string('kind', 255).notNullable();
        t.string('item_key', 255).notNullable();
        t.string('ack_id', 255).nullable();
        t.text('raw').notNullable();
        t.text('reason').notNullable();
        t.bigInteger('first_seen_at').notNullable();
        t.bigInteger('last_seen_at').notNullable();
        t.integer('times_seen').notNullable().defaultTo(raw('1'));
        t.primary(['kind', 'item_key']);
      }),
    );

    this.addSchema(
      schema().createTable('monthly_usage', (t) => {
        t.string('month', 7).notNullable();
        t.integer('clinic_id').notNullable();
        t.integer('sent_count').notNullable();
        t.bigInteger('sent_charge_micros').notNullable();
        t.integer('received_count').notNullable();
        t.bigInteger('received_charge_micros').notNullable();
        t.bigInteger('computed_at').notNullable();
        t.primary(['month', 'clinic_id']);
      }),
    );

    this.addSchema(
      schema().createTable('usage_dirty', (t) => {
        t.integer('clinic_id').notNullable();
        t.string('month', 7).notNullable();
        t.integer('version').notNullable().defaultTo(raw('1'));
        t.primary(['clinic_id', 'month']);
      }),
    );

    this.addSchema(
      schema().createTable('stream_state', (t) => {
        t.string('stream', 255).notNullable().primary();
        t.bigInteger('last_ok_at').nullable();
        t.bigInteger('last_error_at').nullable();
        t.text('last_error').nullable();
        t.bigInteger('items_recorded').notNullable().defaultTo(raw('0'));
      }),
    );

    this.addSchema(
      schema().createTable('settings', (t) => {
        t.string('key', 255).notNullable().primary();
        t.text('value').notNullable();
        t.bigInteger('updated_at').notNullable();
      }),
    );
  }

  /** A schema builder may compile to several statements (a table and its indexes): add each alone. */
  private addSchema(builder: { toSQL(): Array<{ sql: string }> | { sql: string } }): void {
    const compiled = builder.toSQL();
    for (const q of Array.isArray(compiled) ? compiled : [compiled]) this.addSql(q.sql);
  }

  override async down(): Promise<void> {
    for (const table of ['settings', 'stream_state', 'usage_dirty', 'monthly_usage', 'quarantine', 'inbound_messages', 'receipts', 'outbound_messages', 'clinics']) {
      this.addSchema(this.getKnex().schema.dropTableIfExists(table));
    }
  }
}
