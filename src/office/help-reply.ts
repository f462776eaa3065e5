/**
 * The connector's own texts: the answers the carriers require and the opt-in prompt
 * (docs/texting-services.md). Plain GSM-7 text, so with a usual title each is one part. `title`
 * is the OptIn Office Title in effect (settings.ts, titleInEffect).
 */

/** The answer to HELP and INFO: who is texting, what it costs, and how to stop. */
export function helpReplyText(title: string): string {
  return `${title}: appointment reminders and messages. Msg & data rates may apply. Reply STOP to opt out, START to opt back in.`;
}

/** The one confirmation a STOP (or its family) gets. */
export function stopConfirmationText(title: string): string {
  return `${title}: you are unsubscribed and will get no more texts. Reply START to resubscribe.`;
}

/** The one confirmation a START (or UNSTOP, OPTIN, or a YES that opted in) gets. */
export function startConfirmationText(title: string): string {
  return `${title}: you are resubscribed. Reply STOP to opt out.`;
}

/** The text asking a patient for consent (POST /api/patients/:id/optin-request). */
export function optinRequestText(title: string): string {
  return `${title}: reply YES to receive texts from us, STOP to opt out. Msg & data rates may apply.`;
}
