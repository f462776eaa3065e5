/** `econnector start` (`npm start`): the daemon in this process; see src/daemon/main.ts. */
import { runDaemon } from '../daemon/main';
import { parseCommandLine } from '../util/cli-args';

const HELP = `Usage: econnector start        (npm start)

Runs the daemon in this process until SIGINT or SIGTERM (Ctrl-C), then shuts down in order within
shutdown.deadlineMs (10 s by default). With no settings it runs on embedded defaults: the built-in
HQ mock with demo traffic, its own redis-server and SQLite under ./data. ECONNECTOR_ROLES chooses
what this process runs (scheduler, status, workers; default all).

Exit codes: 2 a bad setting (one line naming it; restarting cannot help), 1 another start-up
failure or a shutdown past its deadline, 0 a clean stop.

Options:
  -h, --help   show this help`;

export async function main(argv: readonly string[]): Promise<number> {
  if (parseCommandLine(argv, {}).help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  await runDaemon();
  // The daemon now runs until a signal; its shutdown sets the exit code and leaves.
  return new Promise<number>(() => undefined);
}
