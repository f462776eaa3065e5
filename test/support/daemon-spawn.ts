/**
 * The one way tests and the benchmark run the real daemon: `node dist/src/daemon/main.js` in its
 * own process group (processes.ts, so a kill can take the whole group and a test can prove nothing
 * of it is left), its JSON log lines collected (and copied to a file when asked), resolved once it
 * logs 'econnector started'. That line names where it serves, so a daemon is started with
 * STATUS_PORT=0 and the kernel's port is read back from it: no port is picked before the bind.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { killGroup, spawnTracked, untrack, waitGroupGone, type Exit, type Spawned } from './processes';

export const ROOT = resolve(__dirname, '../..');
export const DAEMON_MAIN = join(ROOT, 'dist/src/daemon/main.js');

export type LogLine = Record<string, unknown> & { message?: string; level?: string };

export interface SpawnDaemonOptions {
  /** How long start-up may take before the group is killed and the spawn fails (default 30 s). */
  timeoutMs?: number;
  /** The owner the process is tracked under (processes.ts killAllTracked). */
  owner?: object;
  /** Node flags before the script (npm start's heap limit, the benchmark's profiling flags). */
  nodeArgs?: readonly string[];
  /** Another build of the project to run (a copy with package.json, config/ and dist/). */
  root?: string;
  /** Every chunk of stdout and stderr is also appended to this file. */
  logFile?: string;
}

export interface StopOptions {
  /** SIGTERM (default) or SIGINT (what pm2 and Ctrl-C send): both start the ordered shutdown. */
  signal?: NodeJS.Signals;
  /** After this long the group is killed -9 (default 20 s). */
  timeoutMs?: number;
}

export interface DaemonProcess extends Spawned {
  label: string;
  /** The status server's URL, from the start line ('' for a process without the status role). */
  statusUrl: string;
  /** The metrics-only server's URL of a process without the status role, or null. */
  metricsUrl: string | null;
  /** Every line written to stdout so far (lines that are not JSON: `{message, raw: true}`). */
  logs: LogLine[];
  /** The last 20,000 characters of stderr. */
  stderr(): string;
  /** The 'econnector started' line (URLs, roles, start-up time). */
  started: LogLine;
  /** When it was spawned, on this process's performance.now() clock (ms). */
  spawnedAt: number;
  /** Signals the process, waits for its exit and for its group to be gone; kills the group -9 after the timeout. */
  stop(opts?: StopOptions): Promise<Exit>;
}

/** Rejects with the daemon's stderr when it exits during start-up or is not started in time (its group is then killed). */
export async function spawnDaemon(label: string, env: Record<string, string>, opts: SpawnDaemonOptions = {}): Promise<DaemonProcess> {
  const root = opts.root ?? ROOT;
  const main = join(root, 'dist/src/daemon/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first (npm test does)`);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const spawnedAt = performance.now();
  const spawned = spawnTracked(label, process.execPath, [...(opts.nodeArgs ?? []), main], { cwd: root, env }, opts.owner);
  const logs: LogLine[] = [];
  let stderr = '';
  let partial = '';
  let started: LogLine | undefined;
  const copy = (chunk: Buffer): void => {
    if (opts.logFile !== undefined) appendFileSync(opts.logFile, chunk);
  };
  spawned.child.stdout!.on('data', (chunk: Buffer) => {
    copy(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as LogLine;
        logs.push(entry);
        if (entry.message === 'econnector started') started = entry;
      } catch {
        logs.push({ message: line, raw: true });
      }
    }
  });
  spawned.child.stderr!.on('data', (chunk: Buffer) => {
    copy(chunk);
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const deadline = Date.now() + timeoutMs;
  while (started === undefined) {
    if (!spawned.running()) throw new Error(`${label} exited during start-up: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      await killGroup(spawned);
      throw new Error(`${label} not started within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const line = started;
  return Object.assign(spawned, {
    label,
    statusUrl: typeof line.status === 'string' ? line.status : '',
    metricsUrl: typeof line.metrics === 'string' ? line.metrics : null,
    logs,
    stderr: () => stderr,
    started: line,
    spawnedAt,
    stop: async ({ signal = 'SIGTERM', timeoutMs: stopMs = 20_000 }: StopOptions = {}): Promise<Exit> => {
      if (!spawned.running()) return spawned.exited;
      process.kill(spawned.pid, signal);
      const exit = await Promise.race([spawned.exited, new Promise<null>((r) => setTimeout(() => r(null), stopMs).unref())]);
      if (exit === null) return killGroup(spawned);
      await waitGroupGone(spawned.pid);
      untrack(spawned.pid);
      return exit;
    },
  });
}
