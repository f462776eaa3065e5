/**
 * Syncs the office's account from HQ: its clinics (name, subscription, number, country) and the
 * monthly limit. Low volume, so it goes through the ORM. Clinics HQ no longer lists keep their
 * row (their past usage still shows) but lose `in_account`.
 */
import type { SqlEntityManager } from '@mikro-orm/knex';
import { ClinicSchema, SettingSchema } from '../db/entities';
import { SETTING_MONTHLY_LIMIT_MICROS, SETTING_OFFICE_ID } from '../db/store/settings';
import type { Account } from '../hq/schemas';

export async function storeAccount(em: SqlEntityManager, account: Account, now: number = Date.now()): Promise<void> {
  await em.transactional(async (tx) => {
    if (account.clinics.length > 0) {
      await tx.upsertMany(
        ClinicSchema,
        account.clinics.map((c) => ({
          clinicId: c.clinicId,
          name: c.name,
          subscribed: c.subscribed,
          primaryPhone: c.primaryPhone,
          countryCode: c.countryCode,
          inAccount: true,
          updatedAt: now,
        })),
        // Leave what the office set (opt-in preferences) and what traffic showed alone.
        { onConflictFields: ['clinicId'], onConflictMergeFields: ['name', 'subscribed', 'primaryPhone', 'countryCode', 'inAccount', 'updatedAt'] },
      );
    }
    await tx.nativeUpdate(
      ClinicSchema,
      { clinicId: { $nin: account.clinics.map((c) => c.clinicId) }, inAccount: true },
      { inAccount: false, updatedAt: now },
    );
    await tx.upsertMany(
      SettingSchema,
      [
        { key: SETTING_MONTHLY_LIMIT_MICROS, value: String(account.monthlyLimitMicros), updatedAt: now },
        { key: SETTING_OFFICE_ID, value: account.officeId, updatedAt: now },
      ],
      { onConflictFields: ['key'], onConflictMergeFields: ['value', 'updatedAt'] },
    );
  });
}
