/**
 * A throw-away PostgreSQL server for the scale benchmark (scale.ts): initdb in the run's folder,
 * a loopback port, removed afterwards. Started by the test suite's start (test/support/postgres.ts,
 * which also runs it as Debian's `postgres` user under root), but unlike the test suite's server
 * it keeps PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on): the
 * figures are those of an office's real server, where an acknowledged page's commit is on disk.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { fixedPorts } from '../../test/support/ports';
import { startPostgresServer } from '../../test/support/postgres';

export interface BenchPostgres {
  /** The server's major version ("15"). */
  version: string;
  /** The postmaster's process id (its backends are its children). */
  pid: number;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** CPU seconds (user + system) of the server and all its processes so far, live and ended. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** utime, stime, cutime, cstime (seconds) and the parent pid of a process, from /proc. */
function procTimes(pid: number): { own: number; children: number; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS, children: (Number(f[13]) + Number(f[14])) / CLOCK_TICKS };
  } catch {
    return null;
  }
}

export async function startBenchPostgres(dir: string): Promise<BenchPostgres> {
  mkdirSync(dir, { recursive: true });
  // The test suite's server start (test/support/postgres.ts), with PostgreSQL's durable defaults
  // and TCP on loopback. The port lies below the ephemeral range, where no other socket can take
  // it between the pick and the server's bind.
  const server = await startPostgresServer({ dir, port: await fixedPorts(), tcp: true });
  const postmaster = server.postmasterPid();
  return {
    version: server.version,
    pid: postmaster,
    createDatabase: async (name) => {
      await server.adminQuery(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      return server.urlOf(name);
    },
    dropDatabase: (name) => server.adminQuery(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '')}" WITH (FORCE)`),
    cpuSeconds: () => {
      // The postmaster's own time, its ended children's (cutime: the backends of closed
      // connections), and every live child's.
      const main = procTimes(postmaster);
      let total = main ? main.own + main.children : 0;
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const t = procTimes(Number(entry));
        if (t && t.ppid === postmaster) total += t.own;
      }
      return total;
    },
    stop: () => server.halt('SIGINT'), // "fast" shutdown
  };
}
