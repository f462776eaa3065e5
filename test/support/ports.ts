/**
 * Ports for the few servers whose port must be known before they start and stay the same across
 * restarts (a pm2 reload starts new processes on the same STATUS_PORT). Everything else binds
 * port 0 and reads the port back. A port picked here lies OUTSIDE Linux's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range), where the kernel never hands out ports for port-0
 * binds or outgoing connections, so no other test's socket can take it between pick and bind.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { mulberry32 } from '../../src/hq-mock/prng';

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number];
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch {
    /* not Linux: the IANA range */
  }
  return [49152, 65535];
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const rng = mulberry32(process.pid);

/** `count` consecutive free ports below the ephemeral range (and above 10 000). */
export async function fixedPorts(count = 1): Promise<number> {
  const [lo] = ephemeralRange();
  const min = 10_000;
  const max = lo - count;
  if (max <= min) throw new Error(`no room below the ephemeral range (${lo}) for ${count} fixed ports`);
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = min + Math.floor(rng() * (max - min));
    let ok = true;
    for (let k = 0; k < count && ok; k++) ok = await isFree(base + k);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found between ${min} and ${lo}`);
}
