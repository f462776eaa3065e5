/**
 * Ordered shutdown in named phases. Start-up registers each thing as soon as it has started, under
 * the phase that stops it; stop() runs the phases in this fixed order, and within a phase the
 * steps newest first (what was started later may use what was started before it: the queues use
 * the Redis connection, the page store the database), and logs every phase with its duration.
 * Registering at once means a start-up that fails half-way stops exactly what it had started. A failing step is logged and the rest go on:
 * what is left open would otherwise keep the process alive. Under a deadline, a phase that does not
 * end in time stops the shutdown with ShutdownDeadlineError, naming the phase.
 *
 * Why this order: nothing new may start while pages finish (1); a page is either committed and
 * acknowledged or abandoned before commit, to be handed out again after its lease (2); only then
 * may the workers let go of their jobs (3) and the status server stop answering (4); the queues and
 * their Redis connections (5) and the database (6) outlive everything that uses them; the embedded
 * redis-server and HQ mock (7) go last, after every client of theirs.
 */
import type { Logger } from 'winston';

export const SHUTDOWN_PHASES = [
  'stop taking work',
  'finish or abandon pages',
  'close workers',
  'close servers',
  'close queues',
  'close the database',
  'stop embedded services',
] as const;
type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

export class ShutdownDeadlineError extends Error {
  override name = 'ShutdownDeadlineError';
  constructor(readonly phase: ShutdownPhase, deadlineMs: number) {
    super(`shutdown deadline (${deadlineMs} ms) passed during phase '${phase}'`);
  }
}

interface Step {
  name: string;
  run: () => Promise<unknown>;
}

export class Shutdown {
  private readonly steps = new Map<ShutdownPhase, Step[]>(SHUTDOWN_PHASES.map((p) => [p, []]));
  private running: Promise<void> | null = null;

  constructor(private readonly logger: Logger) {}

  /** Registers what stops one thing, under the phase it belongs to (run newest first within the phase). */
  add(phase: ShutdownPhase, name: string, run: () => Promise<unknown>): void {
    this.steps.get(phase)!.push({ name, run });
  }

  /**
   * Runs every phase once (a second call returns the first one's promise). With `deadlineMs`,
   * rejects with ShutdownDeadlineError when a phase is still running at the deadline.
   */
  stop(opts: { deadlineMs?: number } = {}): Promise<void> {
    this.running ??= this.runPhases(opts.deadlineMs);
    return this.running;
  }

  private async runPhases(deadlineMs: number | undefined): Promise<void> {
    const started = Date.now();
    for (const phase of SHUTDOWN_PHASES) {
      const steps = this.steps.get(phase)!.splice(0).reverse();
      if (steps.length === 0) continue;
      const phaseStarted = Date.now();
      const work = this.runSteps(steps);
      if (deadlineMs === undefined) {
        await work;
      } else {
        const left = deadlineMs - (Date.now() - started);
        let timer: NodeJS.Timeout | undefined;
        const inTime = await Promise.race([
          work.then(() => true),
          new Promise<false>((resolve) => {
            timer = setTimeout(() => resolve(false), Math.max(0, left));
          }),
        ]).finally(() => clearTimeout(timer));
        if (!inTime) {
          this.logger.error('shutdown phase did not end by the deadline', { phase, steps: steps.map((s) => s.name).join(', '), deadlineMs });
          throw new ShutdownDeadlineError(phase, deadlineMs);
        }
      }
      this.logger.info('shutdown phase done', { phase, steps: steps.map((s) => s.name).join(', '), durationMs: Date.now() - phaseStarted });
    }
  }

  private async runSteps(steps: readonly Step[]): Promise<void> {
    for (const step of steps) {
      const started = Date.now();
      try {
        await step.run();
        this.logger.debug('stopped', { component: step.name, durationMs: Date.now() - started });
      } catch (err) {
        this.logger.warn('error while stopping', { component: step.name, error: (err as Error).message });
      }
    }
  }
}
