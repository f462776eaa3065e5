/**
 * Roles: what one process of the daemon runs.
 *
 * - `scheduler`: the node-cron ticks that add jobs (with collapsing ids, so running it twice
 *   would be harmless, but once is enough);
 * - `status`: the status server (/status, /healthz, /readyz, /metrics);
 * - `workers`: the BullMQ workers that poll HQ, record pages and recompute usage.
 *
 * `npm start` runs all three in one process (the all-in-one mode, which may also start the
 * embedded redis-server and the built-in HQ mock). Under pm2 (ecosystem.config.js) one process
 * runs `scheduler,status` and N processes run `workers`, all sharing Redis and the database.
 * The roles come from config `roles`, overridden by ECONNECTOR_ROLES=scheduler,status,workers.
 */
import { basename, dirname, extname, join } from 'node:path';
import { ROLES, type Role } from '../config/types';

export { ROLES, type Role };

export function hasRole(roles: readonly Role[], role: Role): boolean {
  return roles.includes(role);
}

/** True when this process runs every role: the only mode where embedded services make sense. */
export function isAllInOne(roles: readonly Role[]): boolean {
  return ROLES.every((r) => roles.includes(r));
}

/** The process's pm2 instance number (NODE_APP_INSTANCE, 0..N-1), or null outside pm2 cluster/instances. */
export function processInstance(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env.NODE_APP_INSTANCE;
  return raw !== undefined && /^\d{1,4}$/.test(raw) ? Number(raw) : null;
}

/** A short name of the roles for logs and file names: 'all', 'workers', 'scheduler+status'. */
export function rolesName(roles: readonly Role[]): string {
  return isAllInOne(roles) ? 'all' : roles.join('+');
}

/**
 * The log file of this process. Winston rotates its file by renaming it, which is only safe with
 * one writer: when several processes share a config, each gets its own file, named after its
 * roles and pm2 instance ('econnector.log' -> 'econnector-workers-1.log',
 * 'econnector-scheduler-status.log'). The all-in-one
 * process keeps the configured name.
 */
export function logFileFor(file: string | null, roles: readonly Role[], instance: number | null): string | null {
  if (file === null || isAllInOne(roles)) return file;
  const ext = extname(file);
  const stem = basename(file, ext);
  return join(dirname(file), `${stem}-${roles.join('-')}${instance === null ? '' : `-${instance}`}${ext}`);
}

/**
 * The port of the metrics-only server of a process without the status role: the configured base
 * plus the pm2 instance number; null when none is configured.
 */
export function metricsPortFor(basePort: number | null, instance: number | null): number | null {
  if (basePort === null) return null;
  if (basePort === 0) return 0; // any free port (tests)
  const port = basePort + (instance ?? 0);
  if (port > 65535) throw new RangeError(`ECONNECTOR_METRICS_PORT ${basePort} + instance ${instance} is beyond 65535`);
  return port;
}
