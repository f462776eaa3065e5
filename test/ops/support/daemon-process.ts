/**
 * Spawned daemon processes for the ops tests: `node dist/src/daemon/main.js` with the roles and
 * environment a test gives, its JSON log lines collected, and where it serves (status server,
 * metrics) read from its 'econnector started' line. Processes are spawned in their own process
 * group (test/support/processes.ts) so that afterAll can prove none is left running.
 */
import { join } from 'node:path';
import { ROOT, spawnDaemonProcess, type LogLine } from '../../support/daemon-spawn';
import { killGroup, spawnTracked, untrack, waitGroupGone, type Exit, type Spawned } from '../../support/processes';

export { ROOT, type LogLine } from '../../support/daemon-spawn';

export interface DaemonProcess extends Spawned {
  label: string;
  statusUrl: string;
  metricsUrl: string | null;
  logs: LogLine[];
  stderr(): string;
  /** SIGTERM, then waits for the exit; SIGKILLs the group if it takes longer than timeoutMs. */
  stop(timeoutMs?: number): Promise<Exit>;
}

/** Spawns the daemon and resolves once it logged 'econnector started' (or rejects with its stderr). */
export async function spawnDaemon(label: string, env: Record<string, string>, timeoutMs = 30_000): Promise<DaemonProcess> {
  const { spawned, logs, stderr, started } = await spawnDaemonProcess(label, env, timeoutMs);
  return Object.assign(spawned, {
    label,
    statusUrl: typeof started.status === 'string' ? started.status : '',
    metricsUrl: typeof started.metrics === 'string' ? started.metrics : null,
    logs,
    stderr,
    stop: async (stopTimeoutMs = 20_000): Promise<Exit> => {
      if (!spawned.running()) return spawned.exited;
      process.kill(spawned.pid, 'SIGTERM');
      const exit = await Promise.race([spawned.exited, new Promise<null>((r) => setTimeout(() => r(null), stopTimeoutMs).unref())]);
      if (exit === null) return killGroup(spawned);
      await waitGroupGone(spawned.pid);
      untrack(spawned.pid);
      return exit;
    },
  });
}

/** Runs a command to completion (the status CLI): its exit code, stdout and stderr. */
export async function runNode(script: string, args: readonly string[], env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const spawned = spawnTracked(`node ${script}`, process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  spawned.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  spawned.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = await Promise.race([spawned.exited, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref())]);
  if (exit === null) {
    await killGroup(spawned);
    throw new Error(`node ${script} ${args.join(' ')} did not finish within ${timeoutMs} ms`);
  }
  await waitGroupGone(spawned.pid);
  untrack(spawned.pid);
  return { code: exit.code, stdout, stderr };
}

/** Sums a Prometheus counter/gauge's samples whose labels include `labels`. */
export function sumSamples(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total += Number(match[3]);
  }
  return total;
}
