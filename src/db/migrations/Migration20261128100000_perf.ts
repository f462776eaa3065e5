import { Migration } from '@mikro-orm/migrations';

/**
 * Performance: drops `receipts_guid`. Recording a page no longer reads a message's
 * receipts by guid (the message row keeps its greatest receipt, and only receipts new to the
 * database are compared with it, see src/ingest/record-page.ts), so nothing queries receipts by
 * guid, and that index cost one random B-tree insert per receipt: about a quarter of the write
 * time of a backlog drain on SQLite (BENCHMARKS.md).
 *
 * The month queries are served by the covering indexes outbound_clinic_sent_charge_status and
 * inbound_clinic_received_charge; /status reads monthly_usage by its primary key.
 */
export class Migration20261128100000_perf extends Migration {
  override async up(): Promise<void> {
    this.addSchema(this.getKnex().schema.alterTable('receipts', (t) => {
      t.dropIndex([], 'receipts_guid');
    }));
  }

  /** A schema builder may compile to several statements: add each alone. */
  private addSchema(builder: { toSQL(): Array<{ sql: string }> | { sql: string } }): void {
    const compiled = builder.toSQL();
    for (const q of Array.isArray(compiled) ? compiled : [compiled]) this.addSql(q.sql);
  }

  override async down(): Promise<void> {
    this.addSchema(this.getKnex().schema.alterTable('receipts', (t) => {
      t.index(['guid'], 'receipts_guid');
    }));
  }
}
