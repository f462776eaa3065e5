/**
 * CPU affinity for the scale benchmark's pinned layouts (scale.ts): the whole system under test
 * (worker processes, the scheduler/status process, PostgreSQL, the HQ mock, redis-server) runs on
 * a chosen set of cores, so "1 process on 1 core" against "2 processes on 2 cores" measures what
 * more cores give on one machine, instead of reasoning about a bigger one.
 *
 * Linux only, through util-linux's `taskset`. A child inherits its parent thread's affinity at
 * fork, so the benchmark pins its own main thread (the one that spawns) while it starts a run's
 * processes, and pins PostgreSQL's running server and its children (new backends fork from the
 * postmaster and inherit it). Afterwards every thread of every process is checked: a run whose
 * pinning did not hold is reported as a problem, not as a figure.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Parses a kernel CPU list ("0-2,5") into CPU numbers. */
function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

function allowedOf(path: string): number[] | null {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(path, 'utf8'));
    return m ? parseCpuList(m[1]!) : null;
  } catch {
    return null; // the thread or process ended
  }
}

/** The CPUs this benchmark may use (its own affinity), in order. */
export function usableCpus(): number[] {
  return allowedOf('/proc/self/status') ?? [];
}

/**
 * Sets the affinity of `pid` (every thread of it with `allThreads`, else only the thread whose id
 * is `pid`: a process's main thread). Throws with taskset's own message when it fails.
 */
export function setAffinity(pid: number, cpus: readonly number[], allThreads: boolean): void {
  const r = spawnSync('taskset', [...(allThreads ? ['-a'] : []), '-p', '-c', cpus.join(','), String(pid)], { encoding: 'utf8' });
  if (r.error) throw new Error(`taskset (util-linux) could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`taskset -p -c ${cpus.join(',')} ${pid} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Pins a process and its direct children, every thread (PostgreSQL's postmaster and its helpers). */
export function pinTree(rootPid: number, cpus: readonly number[]): void {
  for (const pid of [rootPid, ...childrenOf(rootPid)]) {
    try {
      setAffinity(pid, cpus, true);
    } catch (err) {
      if (allowedOf(`/proc/${pid}/status`) !== null) throw err; // still there: a real failure
    }
  }
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(entry));
    } catch {
      /* ended meanwhile */
    }
  }
  return out;
}

/**
 * The threads of `pids` (and, with `withChildren`, of their direct children) that may run outside
 * `cpus`, as "pid/tid" strings: empty when the pinning held.
 */
export function threadsOutside(pids: readonly number[], cpus: readonly number[], withChildren: readonly number[] = []): string[] {
  const allowed = new Set(cpus);
  const out: string[] = [];
  const all = [...pids, ...withChildren.flatMap((p) => childrenOf(p))];
  for (const pid of all) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const set = allowedOf(`/proc/${pid}/task/${tid}/status`);
      if (set !== null && set.some((c) => !allowed.has(c))) out.push(`${pid}/${tid}`);
    }
  }
  return out;
}
