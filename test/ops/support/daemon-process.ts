/**
 * Spawned daemon processes for the ops tests: `node dist/src/daemon/main.js` with the roles and
 * environment a test gives, its JSON log lines collected, and where it serves (status server,
 * metrics) read from its 'econnector started' line. Processes are spawned in their own process
 * group (test/support/processes.ts) so that afterAll can prove none is left running.
 */
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { killGroup, spawnTracked, untrack, waitGroupGone, type Exit, type Spawned } from '../../support/processes';

export const ROOT = resolve(__dirname, '../../..');
export const DAEMON_MAIN = join(ROOT, 'dist/src/daemon/main.js');

export type LogLine = Record<string, unknown> & { message?: string; level?: string };

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
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run npm run build first (npm test does)`);
  const spawned = spawnTracked(label, process.execPath, [DAEMON_MAIN], { cwd: ROOT, env });
  const logs: LogLine[] = [];
  let stderr = '';
  let partial = '';
  let started: LogLine | undefined;
  spawned.child.stdout!.on('data', (chunk: Buffer) => {
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
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const proc: DaemonProcess = Object.assign(spawned, {
    label,
    statusUrl: '',
    metricsUrl: null as string | null,
    logs,
    stderr: () => stderr,
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
  const deadline = Date.now() + timeoutMs;
  while (started === undefined) {
    if (!spawned.running()) throw new Error(`${label} exited during start-up: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      await killGroup(spawned);
      throw new Error(`${label} not started within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.statusUrl = typeof started.status === 'string' ? started.status : '';
  proc.metricsUrl = typeof started.metrics === 'string' ? started.metrics : null;
  return proc;
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
