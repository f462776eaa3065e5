/**
 * Why an office text is sent (outbound_messages.purpose). A text the office wrote has none; the
 * connector's own texts name theirs, for the commlog and for the one exception to an opt-out:
 * carriers require a STOP, and a START, to be answered with one confirmation, and those
 * confirmations are the only texts that may go to a number that has opted out.
 */
export const PURPOSES = ['help_reply', 'optin_request', 'stop_confirmation', 'start_confirmation'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Texts that go out even to an opted-out number. */
export function allowedWhenOptedOut(purpose: Purpose | null): boolean {
  return purpose === 'stop_confirmation' || purpose === 'start_confirmation';
}

/** The commlog's words for a text of this purpose. */
export function purposeLabel(purpose: Purpose | null): string {
  switch (purpose) {
    case null:
      return 'Text sent';
    case 'help_reply':
      return 'Automatic answer to HELP sent';
    case 'optin_request':
      return 'Opt-in request sent';
    case 'stop_confirmation':
      return 'Opt-out confirmation sent';
    case 'start_confirmation':
      return 'Opt-in confirmation sent';
  }
}
