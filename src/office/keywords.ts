/**
 * Carrier keywords (docs/texting-services.md): the whole trimmed message, case-insensitively.
 * STOP and its family opt the number out; START, YES, UNSTOP, OPTIN opt it back in (and YES or OPTIN
 * answers the opt-in text, src/office/optin.ts); HELP and INFO must get
 * a reply. "Stop please" or "STOP." is not a keyword: only the whole message counts.
 */
export type Keyword = 'stop' | 'start' | 'help';

export const STOP_WORDS = ['STOP', 'END', 'CANCEL', 'UNSUBSCRIBE', 'QUIT', 'STOPALL', 'REVOKE', 'OPTOUT'] as const;
export const START_WORDS = ['START', 'YES', 'UNSTOP', 'OPTIN'] as const;
export const HELP_WORDS = ['HELP', 'INFO'] as const;

const BY_WORD: ReadonlyMap<string, Keyword> = new Map<string, Keyword>([
  ...STOP_WORDS.map((w) => [w, 'stop'] as const),
  ...START_WORDS.map((w) => [w, 'start'] as const),
  ...HELP_WORDS.map((w) => [w, 'help'] as const),
]);

/** Longest keyword: anything longer is not one, whatever it says. */
const MAX_KEYWORD_LENGTH = 40;

export function detectKeyword(body: string): Keyword | null {
  if (typeof body !== 'string' || body.length > MAX_KEYWORD_LENGTH) return null;
  // toUpperCase without a locale argument is locale-independent (no Turkish dotted I surprises
  // for ASCII letters); a non-ASCII look-alike simply does not match.
  return BY_WORD.get(body.trim().toUpperCase()) ?? null;
}

/**
 * True for a plain YES. It opts in like START, but it is also what patients answer to an
 * appointment reminder: it is confirmed only when it changed something (lifted an opt-out, or
 * answered the opt-in text), never for "yes, see you then" said in one word.
 */
export function isPlainYes(body: string): boolean {
  return typeof body === 'string' && body.length <= MAX_KEYWORD_LENGTH && body.trim().toUpperCase() === 'YES';
}
