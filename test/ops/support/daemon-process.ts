/**
 * Helpers of the ops tests: a command run to completion (the status CLI), and Prometheus samples
 * summed. The daemon itself is spawned by test/support/daemon-spawn.ts.
 */
import { join } from 'node:path';
import { ROOT } from '../../support/daemon-spawn';
import { killGroup, spawnTracked, untrack, waitGroupGone } from '../../support/processes';

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
