import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127000000_initial } from './Migration20261127000000_initial';
import { Migration20261128000000_office } from './Migration20261128000000_office';
import { Migration20261128100000_perf } from './Migration20261128100000_perf';
import { Migration20261201213500_consent_commlog } from './Migration20261201213500_consent_commlog';
import { Migration20261201214500_conversations } from './Migration20261201214500_conversations';
import { Migration20261201215000_quarantine_ack_id_text } from './Migration20261201215000_quarantine_ack_id_text';
import { Migration20261201221500_catch_up } from './Migration20261201221500_catch_up';
import { Migration20261201224000_conversations_one_index } from './Migration20261201224000_conversations_one_index';
import { Migration20261202040000_conversations_without_rowid } from './Migration20261202040000_conversations_without_rowid';
import { Migration20261202080000_conversation_activity } from './Migration20261202080000_conversation_activity';
import { Migration20261202140000_thread_index_by_number } from './Migration20261202140000_thread_index_by_number';

/** Every migration, in order. Listed explicitly so compiled code needs no file globbing. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261128000000_office', class: Migration20261128000000_office },
  { name: 'Migration20261128100000_perf', class: Migration20261128100000_perf },
  { name: 'Migration20261201213500_consent_commlog', class: Migration20261201213500_consent_commlog },
  { name: 'Migration20261201214500_conversations', class: Migration20261201214500_conversations },
  { name: 'Migration20261201215000_quarantine_ack_id_text', class: Migration20261201215000_quarantine_ack_id_text },
  { name: 'Migration20261201221500_catch_up', class: Migration20261201221500_catch_up },
  { name: 'Migration20261201224000_conversations_one_index', class: Migration20261201224000_conversations_one_index },
  { name: 'Migration20261202040000_conversations_without_rowid', class: Migration20261202040000_conversations_without_rowid },
  { name: 'Migration20261202080000_conversation_activity', class: Migration20261202080000_conversation_activity },
  { name: 'Migration20261202140000_thread_index_by_number', class: Migration20261202140000_thread_index_by_number },
];
