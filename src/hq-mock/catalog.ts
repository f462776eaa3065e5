/**
 * The mock office's fixed facts: its clinics, per-part prices by country, and the patient replies
 * the traffic generator draws from. Kept apart so tests and /sim/config can reason about them.
 */
import { countSegments } from '../texting/segments';

export interface Clinic {
  clinicId: number;
  name: string;
  subscribed: boolean;
  primaryPhone: string;
  countryCode: string;
}

export const OFFICE_ID = 'office-mock-1';

/** Four locations: three texting (two in the US, one in Canada) and one not signed up. */
export const DEFAULT_CLINICS: readonly Clinic[] = Object.freeze([
  { clinicId: 1, name: 'Main Street', subscribed: true, primaryPhone: '+15035550100', countryCode: 'US' },
  { clinicId: 2, name: 'Riverside', subscribed: true, primaryPhone: '+15035550101', countryCode: 'US' },
  { clinicId: 3, name: 'Lakeside', subscribed: true, primaryPhone: '+16045550102', countryCode: 'CA' },
  { clinicId: 4, name: 'Harbor', subscribed: false, primaryPhone: '+15035550103', countryCode: 'US' },
]);

/**
 * A clinic that HQ knows but /v1/account does not list (a location the office closed, or one run
 * from another workstation). The contract says receipts may name such a clinicId and they still
 * count, so generated traffic uses it now and then.
 */
export const STRAY_CLINIC: Clinic = Object.freeze({
  clinicId: 7,
  name: 'Old Town (not in account)',
  subscribed: false,
  primaryPhone: '+15035550107',
  countryCode: 'US',
});

/** Price of one message part by country, in micro-dollars. */
export const DEFAULT_PRICES_MICROS: Readonly<Record<string, number>> = Object.freeze({
  US: 7_900,
  CA: 7_500,
  GB: 40_000,
});
/** For a country without a listed price (a clinic added through /sim/config). */
export const FALLBACK_PRICE_MICROS = 50_000;

/** Patient replies, with weights: mostly one part, some long or UCS-2 ones, a few carrier keywords. */
const REPLIES: ReadonlyArray<[string, number]> = [
  ['Yes, see you then', 30],
  ['C', 15],
  ['Confirmed, thanks!', 15],
  ['Can we move it to Thursday afternoon?', 8],
  ['Running 10 minutes late, sorry', 6],
  ['Thank you 😊', 5],
  ['STOP', 2],
  ['HELP', 1],
  ['START', 1],
  ['¿Pueden llamarme mañana? Gracias', 3],
  [
    'Hi, this is about my daughter’s appointment next week. She has a school trip that day, ' +
      'so could we please reschedule to the following Monday or Tuesday after 3pm? Thanks so much.',
    4,
  ],
  [
    'Hello! I got your reminder. I also wanted to ask whether my insurance changed anything for the ' +
      'cleaning and x-rays, and whether I need to bring my new card. My husband will call about his own ' +
      'appointment separately. See you soon and thanks for the reminder!',
    3,
  ],
];

export const REPLY_BODIES: readonly string[] = REPLIES.map(([b]) => b);
export const REPLY_WEIGHTS: readonly number[] = REPLIES.map(([, w]) => w);
export const REPLY_SEGMENTS: readonly number[] = REPLY_BODIES.map((b) => countSegments(b).segments);

/** Parts of an outbound text, weighted: reminders are mostly one part, some two or three. */
export const OUTBOUND_SEGMENT_WEIGHTS: readonly number[] = [0, 85, 11, 4];
