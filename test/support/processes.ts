/**
 * Child processes of the fault tests: every process is spawned in its own process group
 * (detached), so that a kill -9 can take the whole group, and a test can prove afterwards that
 * nothing of it is left running (no orphan survives its parent's kill -9).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface Tracked {
  child: ChildProcess;
  /** Process group id (the child's pid, since it was spawned detached). */
  pgid: number;
  label: string;
  owner: object | undefined;
}

const tracked = new Map<number, Tracked>();

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  exited: Promise<Exit>;
  /** True until the process has exited and been reaped. */
  running(): boolean;
}

/** Spawns a command in its own process group and tracks it until killGroup/killAllTracked. */
export function spawnTracked(label: string, command: string, args: readonly string[], opts: SpawnOptions = {}, owner?: object): Spawned {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, detached: true });
  if (child.pid === undefined) throw new Error(`${label}: could not spawn ${command}`);
  const pid = child.pid;
  tracked.set(pid, { child, pgid: pid, label, owner });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  return { child, pid, exited, running: () => exit === undefined };
}

/** Pids of live processes (zombies excluded) whose process group is `pgid`. */
export function processesInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so cut at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const pgrp = Number(fields[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') out.push(Number(entry));
  }
  return out;
}

/** SIGKILLs a whole process group (the process and anything it started) and waits for the leader to be reaped. */
export async function killGroup(spawned: Spawned, signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
  try {
    process.kill(-spawned.pid, signal);
  } catch {
    /* already gone */
  }
  const exit = await spawned.exited;
  if (signal === 'SIGKILL') tracked.delete(spawned.pid);
  return exit;
}

/** Forgets a process that exited by itself (after its group was checked to be empty). */
export function untrack(pid: number): void {
  tracked.delete(pid);
}

/**
 * Kills every tracked group (of `owner`, when given) that still has a live process and returns a
 * description of what had to be killed: a test's afterAll fails when this is not empty.
 */
export async function killAllTracked(owner?: object): Promise<string[]> {
  const leftovers: string[] = [];
  for (const t of [...tracked.values()]) {
    if (owner !== undefined && t.owner !== owner) continue;
    const live = processesInGroup(t.pgid);
    if (live.length > 0) {
      leftovers.push(`${t.label} (group ${t.pgid}: pids ${live.join(', ')})`);
      try {
        process.kill(-t.pgid, 'SIGKILL');
      } catch {
        /* raced with its exit */
      }
    }
    tracked.delete(t.pgid);
  }
  return leftovers;
}

/** Waits until no live process is left in the group (a killed group's members go within ms). */
export async function waitGroupGone(pgid: number, timeoutMs = 5000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = processesInGroup(pgid);
    if (live.length === 0 || Date.now() > deadline) return live;
    await new Promise((r) => setTimeout(r, 50));
  }
}
