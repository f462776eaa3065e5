/**
 * The automatic answer to HELP and INFO (carriers require one, always): who is texting, what
 * it costs, and how to stop. Plain GSM-7 text, so with a usual title it is one part.
 */
export function helpReplyText(title: string): string {
  return `${title}: appointment reminders and messages. Msg & data rates may apply. Reply STOP to opt out, START to opt back in.`;
}
