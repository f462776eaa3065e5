/**
 * The handler shared by the two poll jobs (receipts, inbound): drain the stream within the job's
 * budget. A closed backoff gate (HQ asked us to wait, or HQ or the database failed recently) is
 * not a failure of this job: it ends quietly and the next tick looks again.
 */
import { HqBackoffError } from '../hq/errors';
import type { HqStream } from '../texting/streams';
import type { JobContext } from '../queues/job';
import { DatabaseUnavailableError, drainStream, type DrainResult } from './drain';
import { CatchUpProgress, recordCatchUp } from './catch-up';
import { recordStreamError } from '../db/store/stream-state';

export type PollResult = DrainResult & { deferredMs?: number };

/** Each process's progress lines, per app (tests run several daemons in one process). */
const progressByApp = new WeakMap<object, CatchUpProgress>();

export async function pollStream(stream: HqStream, ctx: JobContext): Promise<PollResult> {
  const { app, signal } = ctx;
  let progress = progressByApp.get(app);
  if (!progress) progressByApp.set(app, (progress = new CatchUpProgress()));
  const startedAt = Date.now();
  try {
    const result = await drainStream(
      {
        hq: app.hq,
        knex: app.db.knex,
        months: app.months,
        dbGate: app.dbGates[stream],
        pageSize: app.config.hq.pageSize,
        receiptsWriter: app.receiptsWriter,
        onPage: (_stream, page) => {
          app.metrics.pageRecorded(stream, page);
          // Pages update usage in place (deltas); pairs they leave dirty (office replies) wait for the
          // scheduled recompute (every few seconds) rather than one per page, which would hold the
          // writer with a month's scan after every page of a drain.
          // Automatic HELP replies the page recorded (the outbox sweep covers a kick that fails).
          for (const guid of page.sendGuids ?? []) app.queues.kick('send-message', { guid });
          if (page.quarantined > 0) ctx.logger.warn('items quarantined', { stream, quarantined: page.quarantined });
          progress.onPage(stream, page.items, page.more, (message, meta) => app.logger.info(message, meta));
        },
      },
      stream,
      { maxPages: app.config.ingest.maxPagesPerJob, maxMs: app.config.ingest.maxJobSeconds * 1000, signal },
    );
    // What /status says about catching up; a failure here must not fail a job whose pages are acknowledged.
    await recordCatchUp(app.db.knex, app, stream, { items: result.items, more: result.more, startedAt }).catch((err: Error) =>
      ctx.logger.warn('could not record catch-up state', { stream, error: err.message }));
    return result;
  } catch (err) {
    if (err instanceof HqBackoffError || (err instanceof DatabaseUnavailableError && !err.attempted)) {
      return { pages: 0, items: 0, recorded: 0, duplicates: 0, quarantined: 0, acked: 0, more: false, deferredMs: err.waitMs };
    }
    await recordStreamError(app.db.knex, stream, err as Error).catch(() => undefined);
    throw err;
  }
}

export function summarizePoll(result: PollResult): Record<string, unknown> {
  return {
    pages: result.pages,
    items: result.items,
    recorded: result.recorded,
    duplicates: result.duplicates,
    quarantined: result.quarantined,
    acked: result.acked,
    more: result.more,
    ...(result.deferredMs !== undefined ? { deferredMs: result.deferredMs } : {}),
    // An idle poll (nothing waiting at HQ) every two seconds is not news at info level.
    quiet: result.items === 0,
  };
}
