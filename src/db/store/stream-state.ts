/** Per-stream progress and last error, kept in the database so every process (and /status) sees it. */
import type { Knex } from '@mikro-orm/knex';
import type { HqStream } from '../../texting/streams';
import { insertRows, rowsOf } from '../bulk-sql';

/** HQ's two streams, the account sync and the usage recompute: each has one stream_state row. */
export type StateStream = HqStream | 'account' | 'aggregates';

export interface StreamStateRow {
  stream: StateStream;
  lastOkAt: number | null;
  lastErrorAt: number | null;
  lastError: string | null;
  itemsRecorded: number;
}

export async function recordStreamOk(knex: Knex | Knex.Transaction, stream: StateStream, now: number = Date.now()): Promise<void> {
  await insertRows(knex, 'stream_state', ['stream', 'last_ok_at', 'items_recorded'], [[stream, now, 0]],
    'ON CONFLICT (stream) DO UPDATE SET last_ok_at = excluded.last_ok_at');
}

/** Error messages here are our own one-liners (endpoint, status, kind): never HQ bodies or patient data. */
export async function recordStreamError(knex: Knex, stream: StateStream, err: Error, now: number = Date.now()): Promise<void> {
  await insertRows(knex, 'stream_state', ['stream', 'last_error_at', 'last_error', 'items_recorded'], [[stream, now, err.message.slice(0, 500), 0]],
    'ON CONFLICT (stream) DO UPDATE SET last_error_at = excluded.last_error_at, last_error = excluded.last_error');
}

export async function readStreamStates(knex: Knex): Promise<Map<StateStream, StreamStateRow>> {
  const rows = rowsOf<{ stream: StateStream; last_ok_at: number | null; last_error_at: number | null; last_error: string | null; items_recorded: number }>(
    await knex.raw('SELECT stream, last_ok_at, last_error_at, last_error, items_recorded FROM stream_state'),
  );
  return new Map(rows.map((r) => [r.stream, {
    stream: r.stream,
    lastOkAt: r.last_ok_at === null ? null : Number(r.last_ok_at),
    lastErrorAt: r.last_error_at === null ? null : Number(r.last_error_at),
    lastError: r.last_error,
    itemsRecorded: Number(r.items_recorded),
  }]));
}
