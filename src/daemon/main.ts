/**
 * `econnector start` (`npm start`), and what pm2 runs: loads the configuration, starts the daemon,
 * tells pm2 it is ready, and shuts down in named phases on SIGINT/SIGTERM within the configured
 * deadline; a second signal forces the exit at once (src/daemon/signals.ts).
 * Every start-up failure is one line on stderr and a non-zero exit (2 for a bad setting).
 *
 * The configuration is checked before the rest of the daemon is even loaded: the queue, database
 * and HTTP libraries take about a second to require, and a bad setting should not wait for them.
 */
import { ConfigError, loadConfig, type Config } from '../config';
import type { Daemon } from './daemon';
import { ShutdownDeadlineError } from './shutdown';
import { exitCodeFor, onStopRequest } from './signals';

/** How long after the shutdown deadline the backstop timer ends a process whose phases do not yield. */
const DEADLINE_BACKSTOP_MS = 1_000;

export async function runDaemon(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`econnector: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  let daemon: Daemon;
  try {
    const { startDaemon } = await import('./daemon');
    daemon = await startDaemon(config);
  } catch (err) {
    process.stderr.write(`econnector: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { logger } = daemon.app;
  // pm2's wait_ready: only now is the status server answering.
  process.send?.('ready');

  onStopRequest((request) => {
    if (request.kind === 'repeat') {
      logger.info('shutdown already under way: signal ignored', { signal: request.signal, sinceFirstMs: request.sinceFirstMs });
      return;
    }
    if (request.kind === 'force') {
      // Nothing is lost: a page not acknowledged yet is handed out again by HQ after its lease,
      // and every write is an idempotent transaction. Said on stderr too: the log may not flush.
      logger.error('second signal: exiting now, without finishing the shutdown', { signal: request.signal, sinceFirstMs: request.sinceFirstMs });
      process.stderr.write(`econnector: ${request.signal} again: exiting now, without finishing the shutdown\n`);
      process.exit(exitCodeFor(request.signal));
    }
    logger.info('shutting down', { signal: request.signal, deadlineMs: config.shutdown.deadlineMs });
    // A backstop for a phase that never yields (its own deadline check cannot run then either).
    setTimeout(() => {
      logger.error('shutdown deadline passed; exiting anyway', { deadlineMs: config.shutdown.deadlineMs });
      process.exit(1);
    }, config.shutdown.deadlineMs + DEADLINE_BACKSTOP_MS).unref();
    daemon.stop({ deadlineMs: config.shutdown.deadlineMs }).then(
      () => {
        logger.info('stopped');
        // Let winston flush before leaving.
        logger.on('finish', () => process.exit(0));
        logger.end();
        setTimeout(() => process.exit(0), 500).unref();
      },
      (err: Error) => {
        logger.error(err instanceof ShutdownDeadlineError ? 'shutdown deadline passed; exiting anyway' : 'shutdown failed', { error: err.message, deadlineMs: config.shutdown.deadlineMs });
        process.exit(1);
      },
    );
  });
  exitOnUnhandledRejection(logger);
}

/**
 * A promise nobody awaited failed: the daemon's state is no longer known. End the process with
 * one clear line; pm2 starts it again, and nothing is lost (HQ hands out again whatever was not
 * acknowledged, and every write is an idempotent transaction).
 */
export function exitOnUnhandledRejection(logger: { error(message: string, meta?: object): unknown }): void {
  process.on('unhandledRejection', (reason) => {
    const error = (reason instanceof Error ? reason.message : String(reason)).split('\n')[0]!.slice(0, 300);
    logger.error('unhandled promise rejection: exiting so the supervisor restarts the daemon', { error });
    process.stderr.write(`econnector: unhandled promise rejection (${error}); exiting so that pm2 restarts it\n`);
    process.exit(1);
  });
}

if (require.main === module) {
  runDaemon().catch((err: Error) => {
    process.stderr.write(`econnector: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
