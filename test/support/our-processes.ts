/**
 * Finding the processes a jest run started, wherever they ended up: every temporary folder of the
 * run carries the run's tag in its name (tmp.ts) and every process the run spawns inherits the tag
 * in its environment or names such a folder in its arguments or environment (DATA_DIR, a
 * redis-server's --dir or socket, PostgreSQL's -D). A process that outlives its test is found by
 * that tag even after its parent died and it was handed to init.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const RUN_TAG_ENV = 'ECONNECTOR_TEST_RUN';

/** The tag of the running jest run (set by global-setup.ts), or undefined outside one. */
export function runTag(): string | undefined {
  const tag = process.env[RUN_TAG_ENV];
  return tag !== undefined && /^[a-z0-9]{6,}$/.test(tag) ? tag : undefined;
}

export interface OurProcess {
  pid: number;
  ppid: number;
  command: string;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

/** Live processes (zombies excluded) whose arguments or environment carry `tag`, other than this one. */
export function processesTagged(tag: string): OurProcess[] {
  const out: OurProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (stat === null) continue;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so cut at the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' || state === 'X') continue;
    const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
    const environ = read(`/proc/${pid}/environ`) ?? '';
    if (!cmdline.includes(tag) && !environ.includes(tag)) continue;
    out.push({ pid, ppid: Number(ppid), command: cmdline.split('\0').join(' ').trim() });
  }
  return out;
}
