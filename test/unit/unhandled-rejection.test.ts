/**
 * An unhandled promise rejection ends the daemon with one clear line (pm2 restarts
 * it) instead of leaving it running in an unknown state. The handler the daemon installs runs in
 * a child process here, from the build.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'daemon', 'main.js');

it('exits 1 with one line on stderr naming the rejection', () => {
  const script = `
    const { exitOnUnhandledRejection } = require(${JSON.stringify(MAIN)});
    exitOnUnhandledRejection({ error: () => undefined });
    Promise.reject(new Error('lost track of a page'));
    setTimeout(() => { process.stdout.write('still running\\n'); }, 2000);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
    status: 1, stdout: '', stderr: 'econnector: unhandled promise rejection (lost track of a page); exiting so that pm2 restarts it\n',
  });
});
