/**
 * Stop requests: SIGINT, SIGTERM, or pm2's 'shutdown' message (pm2 on Windows, some supervisors).
 * The first one starts the ordered shutdown. A second one forces the exit at once, as in
 * graphile-worker: an operator who presses Ctrl-C twice wants out now, and nothing is lost by it
 * (an unacknowledged page is handed out again after its lease; every write is idempotent).
 *
 * A second request within REPEAT_WINDOW_MS of the first is not the operator insisting but the same
 * stop delivered twice (Ctrl-C signals every process of the terminal's group, and `npm start`
 * passes its own on; a supervisor may send a signal and the message): it is ignored.
 */
import { constants } from 'node:os';

export const REPEAT_WINDOW_MS = 2_000;

export type StopRequest =
  | { kind: 'first'; signal: string }
  | { kind: 'repeat' | 'force'; signal: string; sinceFirstMs: number };

/** Calls `handle` for every stop request of this process, telling a first one from those after it. */
export function onStopRequest(handle: (request: StopRequest) => void, proc: NodeJS.Process = process, now: () => number = Date.now): void {
  let firstAt: number | null = null;
  const request = (signal: string): void => {
    if (firstAt === null) {
      firstAt = now();
      handle({ kind: 'first', signal });
      return;
    }
    const sinceFirstMs = now() - firstAt;
    handle({ kind: sinceFirstMs < REPEAT_WINDOW_MS ? 'repeat' : 'force', signal, sinceFirstMs });
  };
  proc.on('SIGINT', () => request('SIGINT'));
  proc.on('SIGTERM', () => request('SIGTERM'));
  proc.on('message', (msg) => {
    if (msg === 'shutdown') request('shutdown message');
  });
}

/** The shell's convention for "ended by a signal": 128 + its number (SIGINT 130, SIGTERM 143); 1 otherwise. */
export function exitCodeFor(signal: string): number {
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  return number === undefined ? 1 : 128 + number;
}
