/** Development helper: one drain run plus its baseline, printed as JSON. */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runBaseline } from './baseline';
import { runDrain } from './drain';

async function main(): Promise<void> {
  const receipts = Number(process.argv[2] ?? 100_000);
  const inbound = Number(process.argv[3] ?? 20_000);
  const prof = process.argv.includes('--prof');
  const dir = mkdtempSync('/var/tmp/ecperf-');
  const r = await runDrain({ receipts, inbound, dir, timeoutMs: 1_800_000, seed: 1, log: (l) => console.log(l),
    daemonRoot: process.env.DAEMON_ROOT,
    nodeArgs: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`] : []), ...(process.env.DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean)] });
  console.log(JSON.stringify(r, null, 1));
  if (!process.argv.includes('--no-baseline')) console.log(JSON.stringify(runBaseline(r.dbPath, join(dir, 'baseline.sqlite'))));
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.log('kept', dir);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
