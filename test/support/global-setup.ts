/**
 * Jest's global set-up: tags this run (our-processes.ts), so that global-teardown.ts can prove no
 * process of the run is left behind. Workers are started after this and inherit the tag.
 */
import { randomBytes } from 'node:crypto';
import { RUN_TAG_ENV } from './our-processes';

export default function globalSetup(): void {
  process.env[RUN_TAG_ENV] = `r${randomBytes(4).toString('hex')}`;
}
