import { accountSchema, parserFor } from '../src/hq/schemas';
import { storeAccount } from '../src/ingest/account';
import { recordStreamError, recordStreamOk } from '../src/db/store/stream-state';
import type { JobDefinition } from '../src/queues/job';

const parseAccount = parserFor(accountSchema);

/** Reads GET /v1/account (clinics, monthly limit) and stores it. */
export const syncAccountJob: JobDefinition<object, { clinics: number }> = {
  name: 'sync-account',
  jobId: () => 'sync-account',
  concurrency: 1,
  handler: async (_payload, { app, signal }) => {
    try {
      const account = await app.hq.getAccount(parseAccount, signal);
      await storeAccount(app.db.em(), account);
      await recordStreamOk(app.db.knex, 'account');
      return { clinics: account.clinics.length };
    } catch (err) {
      await recordStreamError(app.db.knex, 'account', err as Error).catch(() => undefined);
      throw err;
    }
  },
  summarize: (result) => result,
};
