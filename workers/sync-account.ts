import { z } from 'zod';
import { accountSchema, parserFor } from '../src/hq/schemas';
import { storeAccount } from '../src/ingest/account';
import { recordStreamError, recordStreamOk } from '../src/db/store/stream-state';
import { defineJob } from '../src/queues/job';
import { everyMinutes } from '../src/scheduler';
import type { WorkerServices } from './services';

const parseAccount = parserFor(accountSchema);

/** Reads GET /v1/account (clinics, monthly limit) and stores it. */
export const syncAccountJob = defineJob({
  name: 'sync-account',
  payload: z.strictObject({}),
  jobId: () => 'sync-account',
  concurrency: () => 1,
  schedule: { cron: (config) => everyMinutes(config.schedule.accountSyncEveryMinutes) },
  deps: (s: WorkerServices) => ({ hq: s.hq, db: s.db }),
  handler: async (_payload, { hq, db }, { signal, logger }) => {
    try {
      const account = await hq.getAccount(parseAccount, signal);
      await storeAccount(db.em(), account);
      await recordStreamOk(db.knex, 'account');
      return { clinics: account.clinics.length };
    } catch (err) {
      // What /status shows as the account sync's last error; failing to write it must not replace
      // the job's own error (the one it fails with), so it is one warning of its own.
      await recordStreamError(db.knex, 'account', err as Error).catch((writeErr: Error) =>
        logger.warn('could not record the account sync\'s last error', { stream: 'account', error: writeErr.message }));
      throw err;
    }
  },
  summarize: (result) => result,
});
