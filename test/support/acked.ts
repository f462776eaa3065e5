/**
 * The rule every delivery test states: an item HQ recorded as acknowledged is in the office
 * database (stored, or quarantined under its id). Checked id by id against the mock's own record
 * of what was acked, never by comparing counts.
 */
import type { Knex } from '@mikro-orm/knex';
import { rowsOf } from '../../src/db/bulk-sql';
import type { HqState } from '../../src/hq-mock/hq';

/** Runs one SELECT returning rows with an `id` column (knex, or a pg Client: see queryOf). */
export type IdQuery = (sql: string) => Promise<Array<{ id: unknown }>>;

export const knexQuery = (knex: Knex): IdQuery => async (sql) => rowsOf<{ id: unknown }>(await knex.raw(sql));

export interface AckedButMissing {
  receipts: string[];
  inbound: string[];
  /** How many ids HQ had recorded as acked, per stream (so a test can see the check was not empty). */
  acked: { receipts: number; inbound: number };
}

async function idSet(query: IdQuery, sql: string): Promise<Set<string>> {
  return new Set((await query(sql)).map((r) => String(r.id)));
}

export async function ackedButMissing(query: IdQuery, hq: HqState): Promise<AckedButMissing> {
  // HQ's record first, the database after: a daemon still draining acks more pages while the
  // SELECTs run, and an id acked after the database was read would look lost. Anything acked
  // before this snapshot was committed before it, so the later reads must see it.
  const ackedReceipts = hq.receipts.ackedIds();
  const ackedInbound = hq.inbound.ackedIds();
  const quarantined = await idSet(query, 'SELECT ack_id AS id FROM quarantine WHERE ack_id IS NOT NULL');
  const receipts = await idSet(query, 'SELECT receipt_id AS id FROM receipts');
  const inbound = await idSet(query, 'SELECT inbound_id AS id FROM inbound_messages');
  return {
    receipts: ackedReceipts.filter((id) => !receipts.has(id) && !quarantined.has(id)),
    inbound: ackedInbound.filter((id) => !inbound.has(id) && !quarantined.has(id)),
    acked: { receipts: ackedReceipts.length, inbound: ackedInbound.length },
  };
}
