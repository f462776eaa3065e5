import { IANAZone } from 'luxon';

// IANA names only: Intl also accepts offsets like '+05:00' on newer runtimes, which are not zones.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** True for a time zone name that this runtime knows (e.g. 'America/Chicago', 'UTC'). */
export function isValidTimeZone(tz: string): boolean {
  return typeof tz === 'string' && tz.length <= 64 && ZONE_NAME.test(tz) && IANAZone.isValidZone(tz);
}
