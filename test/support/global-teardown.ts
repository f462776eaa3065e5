/**
 * Jest's global tear-down: fails the run, loudly, when a process the run started is still alive
 * (a redis-server, a PostgreSQL server, a daemon, a pm2 daemon), naming each one, and kills them by
 * pid so that they do not outlive the run either. Jest's own workers (children of this process
 * running jest-worker) carry the tag too and are left alone. A process still shutting down gets a
 * few seconds to go first.
 */
import { processesTagged, runTag, type OurProcess } from './our-processes';

const GRACE_MS = 5000;

function leftovers(tag: string): OurProcess[] {
  return processesTagged(tag).filter((p) => !(p.ppid === process.pid && /jest-worker|processChild/.test(p.command)));
}

export default async function globalTeardown(): Promise<void> {
  const tag = runTag();
  if (tag === undefined) return;
  const deadline = Date.now() + GRACE_MS;
  let left = leftovers(tag);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers(tag);
  }
  if (left.length === 0) return;
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
  }
  throw new Error(`the tests left ${left.length} process(es) running (now killed):\n${left.map((p) => `  pid ${p.pid} (parent ${p.ppid}): ${p.command}`).join('\n')}`);
}
