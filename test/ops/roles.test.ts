/** Roles (config `roles`, ECONNECTOR_ROLES), their start-up checks, and ecosystem.config.js. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../../src/config';
import { isAllInOne, logFileFor, metricsPortFor, processInstance, rolesName } from '../../src/daemon/roles';

const CONFIG_DIR = resolve(__dirname, '../../config');
const ECOSYSTEM = resolve(__dirname, '../../ecosystem.config.js');
const SPLIT = { REDIS_URL: 'redis://127.0.0.1:6379', HQ_URL: 'https://hq.example.com', HQ_API_KEY: 'k' };

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'econnector-roles-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

/** Roles do not depend on the zone: OFFICE_TZ is set so loading never falls back to the machine's. */
const load = (env: NodeJS.ProcessEnv): Readonly<Config> => loadConfig({ OFFICE_TZ: 'America/Chicago', ...env }, { cwd, configDir: CONFIG_DIR });
const errorOf = (env: NodeJS.ProcessEnv): string => {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('roles in the configuration', () => {
  it('runs every role by default (npm start), in a fixed order, without duplicates', () => {
    expect(load({}).roles).toEqual(['scheduler', 'status', 'workers']);
    expect(load({ ...SPLIT, ECONNECTOR_ROLES: ' Workers , scheduler,workers' }).roles).toEqual(['scheduler', 'workers']);
    expect(load({ ECONNECTOR_ROLES: 'all' }).roles).toEqual(['scheduler', 'status', 'workers']);
    expect(load({ ECONNECTOR_ROLES: 'workers,status,scheduler' }).roles).toEqual(['scheduler', 'status', 'workers']);
    expect(load({ ...SPLIT, ECONNECTOR_CONFIG: '{"roles":["status"]}' }).roles).toEqual(['status']);
  });

  it('refuses unknown or empty roles in one line', () => {
    expect(errorOf({ ECONNECTOR_ROLES: 'workers,poller' })).toBe("ECONNECTOR_ROLES: 'poller' is not a role (scheduler, status, workers, or all)");
    expect(errorOf({ ECONNECTOR_ROLES: ' , ' })).toBe('ECONNECTOR_ROLES: names no role (use scheduler, status, workers or all)');
    expect(errorOf({ ECONNECTOR_CONFIG: '{"roles":[]}' })).toBe('ECONNECTOR_CONFIG: roles: must be at least 1');
  });

  it('insists on REDIS_URL and HQ_URL when a process runs only some roles', () => {
    expect(errorOf({ ECONNECTOR_ROLES: 'workers' })).toBe(
      'REDIS_URL: must be set when a process runs only some roles (ECONNECTOR_ROLES=workers); the embedded one serves the all-in-one mode only');
    expect(errorOf({ ECONNECTOR_ROLES: 'scheduler,status', REDIS_URL: SPLIT.REDIS_URL })).toBe(
      'HQ_URL: must be set when a process runs only some roles (ECONNECTOR_ROLES=scheduler,status); the embedded one serves the all-in-one mode only');
    expect(load({ ...SPLIT, ECONNECTOR_ROLES: 'workers' }).redis.url).toBe(SPLIT.REDIS_URL);
  });

  it('reads the metrics port and the queue progress thresholds', () => {
    expect(load({ ECONNECTOR_METRICS_PORT: '7390' }).metrics.port).toBe(7390);
    expect(errorOf({ ECONNECTOR_METRICS_PORT: 'x' })).toBe("ECONNECTOR_METRICS_PORT: 'x' is not a port number (1-65535)");
    expect(load({}).readiness).toMatchObject({ queueWarnSeconds: 30, queueFailSeconds: 120 });
    expect(errorOf({ ECONNECTOR_CONFIG: '{"readiness":{"queueFailSeconds":5}}' })).toBe('ECONNECTOR_CONFIG: readiness.queueFailSeconds: must be at least readiness.queueWarnSeconds');
  });
});

describe('per-process helpers', () => {
  it('names log files and metrics ports per process', () => {
    expect(isAllInOne(['scheduler', 'status', 'workers'])).toBe(true);
    expect(rolesName(['scheduler', 'status'])).toBe('scheduler+status');
    expect(logFileFor('/d/logs/econnector.log', ['scheduler', 'status', 'workers'], 0)).toBe('/d/logs/econnector.log');
    expect(logFileFor('/d/logs/econnector.log', ['workers'], 2)).toBe('/d/logs/econnector-workers-2.log');
    expect(logFileFor('/d/logs/econnector.log', ['scheduler', 'status'], null)).toBe('/d/logs/econnector-scheduler-status.log');
    expect(logFileFor(null, ['workers'], 1)).toBeNull();
    expect(metricsPortFor(7390, 2)).toBe(7392);
    expect(metricsPortFor(7390, null)).toBe(7390);
    expect(metricsPortFor(null, 3)).toBeNull();
    expect(() => metricsPortFor(65535, 1)).toThrow(RangeError);
    expect(processInstance({ NODE_APP_INSTANCE: '3' })).toBe(3);
    expect(processInstance({})).toBeNull();
  });
});

describe('ecosystem.config.js', () => {
  const loadEcosystem = (env: Record<string, string | undefined>): { apps: Array<Record<string, any>> } => {
    const saved = { ...process.env };
    try {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      let loaded: { apps: Array<Record<string, any>> } | undefined;
      // A fresh evaluation each time: the file reads the environment when loaded.
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        loaded = require(ECOSYSTEM) as { apps: Array<Record<string, any>> };
      });
      return loaded!;
    } finally {
      process.env = saved;
    }
  };

  it('runs scheduler+status once and N worker processes, each safe under pm2', () => {
    const { apps } = loadEcosystem({ ECONNECTOR_WORKERS: '3', ECONNECTOR_METRICS_PORT: undefined });
    expect(apps.map((a) => [a.name, a.instances, a.env.ECONNECTOR_ROLES])).toEqual([
      ['econnector', 1, 'scheduler,status'],
      ['econnector-workers', 3, 'workers'],
    ]);
    expect(apps[1]!.env.ECONNECTOR_METRICS_PORT).toBe('7390');
    for (const app of apps) {
      expect(app).toMatchObject({ script: 'dist/src/daemon/main.js', exec_mode: 'fork', wait_ready: true, stop_exit_codes: [2] });
      // Above the daemon's shutdown deadline (10 s by default).
      expect(app.kill_timeout).toBeGreaterThan(load({}).shutdown.deadlineMs);
    }
    expect(loadEcosystem({ ECONNECTOR_WORKERS: undefined }).apps[1]!.instances).toBe(2);
  });

  it('ECONNECTOR_WORKERS=0 is the all-in-one mode; a bad value is refused', () => {
    const { apps } = loadEcosystem({ ECONNECTOR_WORKERS: '0' });
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ name: 'econnector', instances: 1, env: { ECONNECTOR_ROLES: 'all' } });
    expect(() => loadEcosystem({ ECONNECTOR_WORKERS: 'many' })).toThrow("ECONNECTOR_WORKERS: 'many' is not a number of worker processes (0-99)");
  });

  it('gives pm2 the same Node flags and environment as npm start (the heap limit and malloc arenas that bound memory)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const start = (require('../../package.json') as { scripts: Record<string, string> }).scripts.start!;
    const startFlags = start.split(/\s+/).filter((t) => t.startsWith('--'));
    const startEnv = Object.fromEntries(start.split(/\s+/).filter((t) => /^[A-Z_]+=/.test(t)).map((t) => t.split('=') as [string, string]));
    expect(startFlags).toContain('--max-old-space-size=256');
    expect(startEnv).toEqual({ MALLOC_ARENA_MAX: '2' });
    for (const app of loadEcosystem({ ECONNECTOR_WORKERS: '2' }).apps.concat(loadEcosystem({ ECONNECTOR_WORKERS: '0' }).apps)) {
      expect(app.node_args).toEqual(startFlags);
      expect(app.env).toMatchObject(startEnv);
    }
  });
});
