/**
 * pm2: `npm run build`, then `npx pm2 start ecosystem.config.js` (docs/operations.md).
 *
 * Two apps share one Redis (REDIS_URL) and one database:
 * - `econnector`: the scheduler and the status server, ONE process (ECONNECTOR_ROLES=scheduler,status);
 * - `econnector-workers`: the ingestion workers, ECONNECTOR_WORKERS processes (default 2, fork
 *   mode), each serving its own /metrics on ECONNECTOR_METRICS_PORT + its pm2 instance number
 *   (default 7390, 7391, ...).
 * With several processes REDIS_URL, HQ_URL and HQ_API_KEY must be set (in the shell that runs
 * pm2, or in config/production.json): the embedded redis-server and the built-in HQ mock only
 * exist in the all-in-one mode. ECONNECTOR_WORKERS=0 gives that mode: one `econnector` process
 * running every role, as `npm start` does.
 *
 * - wait_ready: pm2 counts a process online only once it sends 'ready' (it has started).
 * - kill_timeout: pm2 sends SIGINT, then SIGKILL after this many ms. It must exceed the daemon's
 *   shutdown deadline (config shutdown.deadlineMs, 10 s by default), which itself covers the
 *   longest page (HQ timeout) plus closing everything.
 * - stop_exit_codes: exit code 2 is a bad setting (one line in the error log); restarting cannot
 *   fix it, so pm2 does not try.
 * - out_file: /dev/null. The apps run with NODE_ENV=production, whose config/production.json has
 *   the daemon write its own log file under DATA_DIR/logs, rotated by size (10 MB x 5); pm2's copy
 *   of stdout would be the same lines again, in a file pm2 never rotates. stderr (error_file)
 *   stays: it gets only what happens before the logger exists (a bad setting's one line) and a
 *   crash, a few lines a year; docs/operations.md shows pm2-logrotate for it too.
 */
function workerCount() {
  const raw = process.env.ECONNECTOR_WORKERS;
  if (raw === undefined || raw === '') return 2;
  if (!/^\d{1,2}$/.test(raw)) throw new Error(`ECONNECTOR_WORKERS: '${raw}' is not a number of worker processes (0-99)`);
  return Number(raw);
}

const workers = workerCount();

/**
 * Node flags of every daemon process; the same as in package.json's `start` (a test keeps them
 * equal). They bound a drain's peak memory (BENCHMARKS.md, "Memory"; docs/performance.md):
 * - --max-old-space-size=256: the daemon's live heap is ~40 MB however large the backlog (work
 *   goes page by page), but V8 lets a busy heap grow to about four times its live size between
 *   full collections unless the old space has a limit; with one it collects at about 1.4 times.
 *   256 MB still leaves six times the live heap; past it Node stops with an out-of-memory error,
 *   pm2 restarts the process, and nothing is lost (unacknowledged pages are handed out again).
 * - --max-semi-space-size=8: the main thread's young generation 16 MB instead of 32 (V8's flag
 *   sets every thread's, so the page writer thread's stays at the 16 MB of its own limit,
 *   src/ingest/page-store-sqlite.ts). Its daemon CPU over a full drain was within the spread of
 *   runs at the same load (+4% on the means of two pairs); halving it again cost 10-24% more.
 * - --liftoff-only: WebAssembly is compiled by V8's baseline compiler only. It was added for the
 *   parser of Node's fetch (undici's llhttp), whose optimizing compile took ~30 MB of malloc'd
 *   memory at the first request, which glibc kept for the life of the process; the HQ client has
 *   since moved to node:http (src/hq/http-transport.ts), so a drain compiles no WebAssembly at all.
 *   The flag stays as a cap in case a dependency brings some back; it costs nothing otherwise.
 */
const DAEMON_NODE_ARGS = ['--max-old-space-size=256', '--max-semi-space-size=8', '--liftoff-only'];

/**
 * Environment of every daemon process; the same as npm start sets before `node` (a test keeps them
 * equal). MALLOC_ARENA_MAX=2: glibc gives each thread that allocates its own malloc arena, up to 8
 * per core, and an arena keeps what its thread freed. The daemon has about a dozen threads (V8's
 * compiler and GC helpers, libuv's pool running the ORM's SQLite, the page writer): at the peak of
 * a drain their arenas held about 60 MB, mostly freed memory. Two arenas hold half that, at no
 * measured cost in CPU or drain rate (BENCHMARKS.md, "Memory").
 */
const DAEMON_ENV = { MALLOC_ARENA_MAX: '2' };

const common = {
  script: 'dist/src/daemon/main.js',
  node_args: DAEMON_NODE_ARGS,
  cwd: __dirname,
  exec_mode: 'fork',
  wait_ready: true,
  listen_timeout: 30000,
  kill_timeout: 15000,
  // Back off between crash restarts instead of spinning.
  exp_backoff_restart_delay: 1000,
  stop_exit_codes: [2],
  max_memory_restart: '500M',
  out_file: '/dev/null',
};

module.exports = {
  apps: workers === 0
    ? [{ ...common, name: 'econnector', instances: 1, env: { ...DAEMON_ENV, NODE_ENV: 'production', ECONNECTOR_ROLES: 'all' } }]
    : [
        { ...common, name: 'econnector', instances: 1, env: { ...DAEMON_ENV, NODE_ENV: 'production', ECONNECTOR_ROLES: 'scheduler,status' } },
        {
          ...common,
          name: 'econnector-workers',
          instances: workers,
          env: {
            ...DAEMON_ENV,
            NODE_ENV: 'production',
            ECONNECTOR_ROLES: 'workers',
            ECONNECTOR_METRICS_PORT: process.env.ECONNECTOR_METRICS_PORT || '7390',
          },
        },
      ],
};
