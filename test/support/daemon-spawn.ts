/**
 * Spawns the real daemon (`node dist/src/daemon/main.js`) in its own process group
 * (processes.ts), collects its JSON log lines, and resolves once it logs 'econnector started':
 * the one start-up routine of the fault rig and the ops tests.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { killGroup, spawnTracked, type Spawned } from './processes';

export const ROOT = resolve(__dirname, '../..');
export const DAEMON_MAIN = join(ROOT, 'dist/src/daemon/main.js');

export type LogLine = Record<string, unknown> & { message?: string; level?: string };

export interface StartedDaemon {
  spawned: Spawned;
  /** Every line the daemon has written to stdout so far (lines that are not JSON: `{message, raw: true}`). */
  logs: LogLine[];
  /** The last 20,000 characters of its stderr. */
  stderr(): string;
  /** Its 'econnector started' line (status and metrics URLs, roles, start-up time). */
  started: LogLine;
}

/** Rejects with the daemon's stderr when it exits during start-up or is not started within timeoutMs (its group is then killed). */
export async function spawnDaemonProcess(label: string, env: Record<string, string>, timeoutMs: number, owner?: object): Promise<StartedDaemon> {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: run npm run build first (npm test does)`);
  const spawned = spawnTracked(label, process.execPath, [DAEMON_MAIN], { cwd: ROOT, env }, owner);
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
  const deadline = Date.now() + timeoutMs;
  while (started === undefined) {
    if (!spawned.running()) throw new Error(`${label} exited during start-up: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      await killGroup(spawned);
      throw new Error(`${label} not started within ${timeoutMs} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { spawned, logs, stderr: () => stderr, started };
}
