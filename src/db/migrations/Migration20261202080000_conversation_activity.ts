import { Migration } from '@mikro-orm/migrations';

/**
 * Text messages, speed of recording replies: `conversation_activity`, where recording a page of
 * replies or a batch of texts APPENDS its conversations' activity (one row per batch, the batch's
 * per-number activity as JSON), to be folded into `conversations` many batches at a time
 * (src/office/conversation-fold.ts, docs/text-messages.md "How conversations stay exact").
 *
 * Why: a page of 1,000 replies comes from ~1,000 numbers spread over the whole conversations table
 * and its index, so moving each number's row in the page's transaction rewrote nearly every page
 * of both on every page of a backlog (+36–39% of a page's CPU, BENCHMARKS.md "Recording a page of
 * 1,000 replies"). Folded in batches, a number's row is rewritten once per batch instead of once per
 * page, in phone order.
 *
 * Existing databases: the table starts empty; `conversations` already holds everything folded.
 */
export class Migration20261202080000_conversation_activity extends Migration {
  override async up(): Promise<void> {
    const create = this.getKnex().schema.createTable('conversation_activity', (t) => {
      t.bigIncrements('id').primary();
      // How many entries the batch holds: what the fold policy sums at every page. Before the batch,
      // so SQLite reads it from the row's first page without walking the batch's overflow pages.
      t.integer('entries').notNullable();
      // One flat JSON array, six values per number (ActivityBatch in src/office/conversation-fold.ts).
      t.text('batch').notNullable();
    });
    for (const q of [create.toSQL()].flat()) this.addSql(q.sql);
  }

  override async down(): Promise<void> {
    // Pending activity is part of the conversations: the schema before this one cannot fold it.
    const [row] = await this.execute('SELECT COUNT(*) AS n FROM conversation_activity');
    if (Number((row as { n?: unknown } | undefined)?.n ?? 0) > 0) {
      throw new Error('conversation_activity still holds activity not folded into conversations: run the daemon until a poll finds no reply (which folds it), then migrate down');
    }
    this.addSql('DROP TABLE IF EXISTS conversation_activity');
  }
}
