/**
 * `econnector start` (`npm start`), and what pm2 runs: loads the configuration, starts the daemon,
 * tells pm2 it is ready, and shuts down in order on SIGINT/SIGTERM within the configured deadline.
 * Every start-up failure is one line on stderr and a non-zero exit (2 for a bad setting).
 *
 * The configuration is checked before the rest of the daemon is even loaded: the queue, database
 * and HTTP libraries take about a second to require, and a bad setting should not wait for them.
 */
import { ConfigError, loadConfig, type Config } from '../config';
import type { Daemon } from './daemon';

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

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, deadlineMs: config.shutdown.deadlineMs });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting anyway', { deadlineMs: config.shutdown.deadlineMs });
      process.exit(1);
    }, config.shutdown.deadlineMs);
    deadline.unref();
    daemon.stop().then(
      () => {
        logger.info('stopped');
        // Let winston flush before leaving.
        logger.on('finish', () => process.exit(0));
        logger.end();
        setTimeout(() => process.exit(0), 500).unref();
      },
      (err: Error) => {
        logger.error('shutdown failed', { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // pm2 on Windows and some supervisors send a 'shutdown' message instead of a signal.
  process.on('message', (msg) => {
    if (msg === 'shutdown') stop('shutdown message');
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
