/**
 * Catching up: the state of a stream while HQ answers `more` (a backlog is waiting: after downtime,
 * or a busy day). Two outputs:
 *
 * - Progress lines in the log, at most one per stream every PROGRESS_EVERY_MS while pages keep
 *   saying `more` (items recorded since the catch-up began in this process, the recent rate), and
 *   one "caught up" line when a page says there is nothing more. HQ's answer says only whether more
 *   is waiting, never how much, so the lines say `more: true` rather than an estimate.
 * - The stream's stream_state row (at the end of each poll job): since when it has been catching
 *   up, the items since then, the job's rate and when it last said so. /status reads them
 *   (usage-report.ts), so whichever process drains, the status server reports `catchingUp` and
 *   `itemsPerSecond`. A row whose last word is older than CATCH_UP_FRESH_MS is not catching up (a
 *   worker that crashed mid-drain does not leave the page saying so for ever).
 */
import type { Knex } from '@mikro-orm/knex';
import type { HqStream } from '../texting/streams';

export const PROGRESS_EVERY_MS = 5_000;
/** Longer than a poll job's budget (ingest.maxJobSeconds, 10 s) plus the poll interval. */
export const CATCH_UP_FRESH_MS = 30_000;

interface StreamProgress {
  since: number;
  items: number;
  lastLogAt: number;
  itemsAtLastLog: number;
}

export type ProgressLog = (message: string, meta: Record<string, unknown>) => void;

/** Progress lines of one process's drains. */
export class CatchUpProgress {
  private readonly streams = new Map<HqStream, StreamProgress>();

  /** A page was recorded: `items` in it, `more` as HQ said. */
  onPage(stream: HqStream, items: number, more: boolean, log: ProgressLog, now: number = Date.now()): void {
    const s = this.streams.get(stream);
    if (!more) {
      if (s) {
        const seconds = Math.max(0.001, (now - s.since) / 1000);
        log('caught up', { stream, items: s.items + items, seconds: Math.round(seconds), itemsPerSecond: Math.round((s.items + items) / seconds) });
        this.streams.delete(stream);
      }
      return;
    }
    if (!s) {
      // The first page is where the rate is measured from.
      this.streams.set(stream, { since: now, items, lastLogAt: now, itemsAtLastLog: items });
      return;
    }
    s.items += items;
    if (now - s.lastLogAt >= PROGRESS_EVERY_MS) {
      const rate = Math.round((s.items - s.itemsAtLastLog) / ((now - s.lastLogAt) / 1000));
      log('catching up', { stream, items: s.items, itemsPerSecond: rate, more: true });
      s.lastLogAt = now;
      s.itemsAtLastLog = s.items;
    }
  }
}

/** Streams whose catch-up state this process has written and so must clear. */
const written = new WeakMap<object, Set<HqStream>>();

/**
 * Records a poll job's outcome in stream_state: `more` continues (or starts) the catch-up; the
 * end of one clears it. `owner` is the process's app: only a process that wrote the state clears
 * it, so the thousands of idle polls of a day write nothing.
 */
export async function recordCatchUp(
  knex: Knex,
  owner: object,
  stream: HqStream,
  job: { items: number; more: boolean; startedAt: number },
  now: number = Date.now(),
): Promise<void> {
  let mine = written.get(owner);
  if (!mine) written.set(owner, (mine = new Set()));
  if (job.more) {
    const rate = Math.round(job.items / Math.max(0.001, (now - job.startedAt) / 1000));
    // A stale row (its last word older than CATCH_UP_FRESH_MS) starts a new catch-up. The rate is
    // the stream's, not this job's: every poller of the stream (ingest.pollers, in any process)
    // adds its items to catch_up_items, so items since the catch-up began over the time since then
    // is what all of them drain together; one job's own rate would be one poller's share.
    const fresh = now - CATCH_UP_FRESH_MS;
    await knex.raw(
      `INSERT INTO stream_state (stream, items_recorded, catch_up_since, catch_up_at, catch_up_items, items_per_second)
       VALUES (?, 0, ?, ?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET
         catch_up_since = CASE WHEN stream_state.catch_up_at >= ? THEN stream_state.catch_up_since ELSE excluded.catch_up_since END,
         catch_up_items = CASE WHEN stream_state.catch_up_at >= ? THEN stream_state.catch_up_items + excluded.catch_up_items ELSE excluded.catch_up_items END,
         items_per_second = CASE WHEN stream_state.catch_up_at >= ?
           THEN CAST(((stream_state.catch_up_items + excluded.catch_up_items) * 1000 + (? - stream_state.catch_up_since) / 2)
             / (CASE WHEN ? > stream_state.catch_up_since THEN ? - stream_state.catch_up_since ELSE 1 END) AS INTEGER)
           ELSE excluded.items_per_second END,
         catch_up_at = excluded.catch_up_at`,
      [stream, job.startedAt, now, job.items, rate, fresh, fresh, fresh, now, now, now],
    );
    mine.add(stream);
  } else if (mine.has(stream)) {
    await knex.raw('UPDATE stream_state SET catch_up_since = NULL, catch_up_at = NULL, catch_up_items = 0, items_per_second = NULL WHERE stream = ?', [stream]);
    mine.delete(stream);
  }
}

export interface CatchUpFacts {
  receiptsAt: number | null;
  receiptsRate: number | null;
  inboundAt: number | null;
  inboundRate: number | null;
}

/** /status's `catchingUp` and `itemsPerSecond` (the streams drain side by side: their rates add). */
export function catchUpStatus(f: CatchUpFacts, now: number = Date.now()): { catchingUp: boolean; itemsPerSecond: number } {
  let catchingUp = false;
  let itemsPerSecond = 0;
  for (const [at, rate] of [[f.receiptsAt, f.receiptsRate], [f.inboundAt, f.inboundRate]] as const) {
    if (at !== null && now - at <= CATCH_UP_FRESH_MS) {
      catchingUp = true;
      itemsPerSecond += rate ?? 0;
    }
  }
  return { catchingUp, itemsPerSecond };
}
