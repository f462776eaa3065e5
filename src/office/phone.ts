/**
 * Phone numbers of the office side: what a user may type (E.164, or a North American number with
 * the usual punctuation) and the digits-only key that replies are matched by.
 *
 * Matching rule (docs/texting-services.md): digits only, and a 10-digit North American number equals the
 * same number with a leading 1. So the key of a 10-digit number is '1' + the 10 digits, and
 * '+1 (503) 555-0123', '503.555.0123' and '15035550123' all share the key '15035550123'.
 *
 * Nothing here ever puts a number into an error message: callers report the field, not the value.
 */

/** Separators people type inside numbers. */
const PUNCTUATION = /[\s().\-\u00A0\u2010-\u2015]/g;
/** NANP: area code and exchange start with 2-9 (NXX NXX XXXX). */
const NANP_10 = /^[2-9]\d{2}[2-9]\d{6}$/;
/** E.164 after the '+': a country code not starting with 0, at most 15 digits in all. */
const E164_DIGITS = /^[1-9]\d{7,14}$/;

/**
 * The E.164 form of a number a user typed, or null when it is not one:
 * - '+' then 8 to 15 digits (punctuation allowed), where a '+1' number must be a valid NANP number;
 * - 10 digits (NANP) or '1' + 10 digits, with punctuation: '(503) 555-0123', '1-503-555-0123'.
 */
export function normalizePhone(input: string): string | null {
  if (typeof input !== 'string' || input.length > 40) return null;
  const trimmed = input.trim();
  const plus = trimmed.startsWith('+');
  const digits = (plus ? trimmed.slice(1) : trimmed).replace(PUNCTUATION, '');
  if (!/^\d+$/.test(digits)) return null;
  if (plus) {
    if (!E164_DIGITS.test(digits)) return null;
    if (digits.startsWith('1') && !(digits.length === 11 && NANP_10.test(digits.slice(1)))) return null;
    return `+${digits}`;
  }
  if (digits.length === 10 && NANP_10.test(digits)) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith('1') && NANP_10.test(digits.slice(1))) return `+${digits}`;
  return null;
}

/**
 * The key that phone numbers are matched by: digits only, a 10-digit number given its leading 1.
 * Null when there are no digits at all.
 */
export function phoneMatchKey(phone: string): string | null {
  const digits = phone.replace(/\D/g, '');
  if (digits.length === 0) return null;
  return digits.length === 10 ? `1${digits}` : digits;
}
