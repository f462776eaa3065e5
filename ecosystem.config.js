/**
 * pm2: `npx pm2 start ecosystem.config.js` (after `npm run build`).
 * - wait_ready: pm2 counts the daemon online only once it sends 'ready' (its status server answers).
 * - kill_timeout: pm2 sends SIGINT, then SIGKILL after this many ms. It must exceed the daemon's
 *   shutdown deadline (config shutdown.deadlineMs, 10 s by default), which itself covers the
 *   longest page (HQ timeout) plus closing everything.
 */
module.exports = {
  apps: [
    {
      name: 'econnector',
      script: 'dist/src/daemon/main.js',
      cwd: __dirname,
      exec_mode: 'fork',
      instances: 1,
      wait_ready: true,
      listen_timeout: 30000,
      kill_timeout: 15000,
      // Back off between crash restarts instead of spinning.
      exp_backoff_restart_delay: 1000,
      max_memory_restart: '500M',
      env: { NODE_ENV: 'production' },
    },
  ],
};
