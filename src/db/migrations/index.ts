import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127000000_initial } from './Migration20261127000000_initial';

/** Every migration, in order. Listed explicitly so compiled code needs no file globbing. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
];
