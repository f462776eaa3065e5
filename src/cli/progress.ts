/**
 * Progress of a long command on stderr, for a person watching a terminal: one line rewritten in
 * place (phase, items done of total, rate, elapsed). When stderr is not a terminal (a pipe, a log
 * file, a test) it writes nothing, so scripts see only the command's result lines.
 */
export interface ProgressReporter {
  /** A new step, e.g. "checking rows". */
  phase(what: string): void;
  /** Items done so far (of `total` when known); redrawn at most every 200 ms. */
  count(done: number, total?: number): void;
  /** Clears the line; the command then prints its result. */
  done(): void;
}

const REDRAW_MS = 200;

export function progressReporter(command: string, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) return { phase: () => undefined, count: () => undefined, done: () => undefined };
  const started = Date.now();
  let phase = '';
  let phaseStarted = started;
  let lastDraw = 0;
  const draw = (text: string): void => {
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    stream.write(`\r\x1b[2K${text.slice(0, width)}`);
  };
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  return {
    phase(what) {
      phase = what;
      phaseStarted = Date.now();
      draw(`${command}: ${phase}... (${elapsed()})`);
    },
    count(done, total) {
      const now = Date.now();
      if (now - lastDraw < REDRAW_MS && done !== total) return;
      lastDraw = now;
      const seconds = (now - phaseStarted) / 1000;
      const rate = seconds > 0 ? ` ${Math.round(done / seconds).toLocaleString('en-US')}/s` : '';
      const of = total === undefined ? '' : ` of ${total.toLocaleString('en-US')}${total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : ''}`;
      draw(`${command}: ${phase} ${done.toLocaleString('en-US')}${of},${rate}, ${elapsed()}`);
    },
    done() {
      stream.write('\r\x1b[2K');
    },
  };
}
