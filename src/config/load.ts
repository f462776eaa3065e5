/**
 * loadConfig: reads the settings once at start-up, validates them, and freezes them.
 *
 * Order, later over earlier: config/default.json, config/<NODE_ENV>.json (if present),
 * the JSON object in ECONNECTOR_CONFIG, then the fixed environment variables (README.md,
 * Settings). An empty environment variable counts as unset. Every bad value throws ConfigError
 * with one line naming the setting (or the file and key path) and what is wrong.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DEV_API_KEY } from './dev-hq';
import { describeZodIssue, fileSettingsSchema, type FileSettings, type PathKey } from './file-schema';
import { mergeLayers, parseLayer, readLayerFile, type Layer, type Merged } from './layers';
import {
  absolutePath,
  checkDatabaseUrl,
  checkEnvName,
  checkHost,
  checkHqUrl,
  checkLogFormat,
  checkLogLevel,
  checkPort,
  checkRedisUrl,
  checkRoles,
  checkAllowedHost,
  checkApiToken,
  checkSecret,
  checkTimeZone,
  isLoopbackHost,
  systemTimeZone,
} from './settings';
import { ConfigError, ROLES, type Config } from './types';

export interface LoadConfigOptions {
  /** Folder of the JSON files; default: config/ at the project root. */
  configDir?: string;
  /** Base of relative paths (DATA_DIR, sqlite: paths); default process.cwd(). */
  cwd?: string;
}

const DEFAULT_ENV = 'development';
const SQLITE_FILE = 'econnector.sqlite';

/** The project root: the nearest folder above this file with a package.json (works from src/ and dist/src/). */
function defaultConfigDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return resolve('config');
    dir = parent;
  }
  return join(dir, 'config');
}

/** An environment variable's value, or undefined when unset or empty. */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Where a setting's value came from, for error messages: the variable, or "<file>: <key path>". */
interface Picked<T> {
  value: T;
  label: string;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): Readonly<Config> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const configDir = resolve(cwd, opts.configDir ?? defaultConfigDir());
  const shown = (file: string): string => {
    const rel = relative(cwd, file);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
  };

  const envName = checkEnvName('NODE_ENV', envValue(env, 'NODE_ENV') ?? DEFAULT_ENV);
  const layers: Layer[] = [];
  const defaults = join(configDir, 'default.json');
  layers.push(readLayerFile(defaults, shown(defaults), false)!);
  const perEnv = join(configDir, `${envName}.json`);
  const envLayer = readLayerFile(perEnv, shown(perEnv), true);
  if (envLayer) layers.push(envLayer);
  const override = envValue(env, 'ECONNECTOR_CONFIG');
  if (override !== undefined) layers.push(parseLayer('ECONNECTOR_CONFIG', override));

  const merged = mergeLayers(layers);
  const file = validateFileSettings(merged, envName);
  const fileLabel = (...path: PathKey[]): string => `${merged.sourceOf(path)}: ${path.join('.')}`;

  /** The environment variable if set, else the file's value (null and '' in a file mean unset). */
  const pick = <T extends string | number>(name: string, fileValue: T | null, ...path: PathKey[]): Picked<T | string> | null => {
    const fromEnv = envValue(env, name);
    if (fromEnv !== undefined) return { value: fromEnv, label: name };
    if (fileValue === null || fileValue === '') return null;
    return { value: fileValue, label: fileLabel(...path) };
  };
  const str = (p: Picked<string | number>): string => String(p.value);

  const dataDirPick = pick('DATA_DIR', file.dataDir, 'dataDir')!;
  const dataDir = absolutePath(cwd, str(dataDirPick));

  const tzPick = pick('OFFICE_TZ', file.officeTz, 'officeTz');
  const officeTz = tzPick
    ? checkTimeZone(tzPick.label, str(tzPick))
    : checkTimeZone("OFFICE_TZ (unset, so the system's zone)", systemTimeZone());

  const hqUrlPick = pick('HQ_URL', file.hq.url, 'hq', 'url');
  const hqUrl = hqUrlPick ? checkHqUrl(hqUrlPick.label, str(hqUrlPick)) : null;
  const apiKeyPick = pick('HQ_API_KEY', file.hq.apiKey, 'hq', 'apiKey');
  if (hqUrl !== null && !apiKeyPick) throw new ConfigError('HQ_API_KEY: required when HQ_URL is set');
  const apiKey = apiKeyPick ? checkSecret(apiKeyPick.label, str(apiKeyPick)) : DEV_API_KEY;

  const redisPick = pick('REDIS_URL', file.redis.url, 'redis', 'url');
  const dbPick = pick('DATABASE_URL', file.database.url, 'database', 'url');
  const hostPick = pick('STATUS_HOST', file.status.host, 'status', 'host')!;
  const portPick = pick('STATUS_PORT', file.status.port, 'status', 'port')!;
  const tokenPick = pick('API_TOKEN', file.apiToken, 'apiToken');
  const levelPick = pick('LOG_LEVEL', file.logLevel, 'logLevel')!;
  const formatPick = pick('LOG_FORMAT', file.log.format, 'log', 'format')!;
  const rolesFromEnv = envValue(env, 'ECONNECTOR_ROLES');
  const roles = rolesFromEnv !== undefined ? checkRoles('ECONNECTOR_ROLES', rolesFromEnv) : checkRoles(fileLabel('roles'), file.roles);
  // The embedded redis-server and the built-in HQ mock belong to one process: a process that runs
  // only some roles shares Redis and HQ with the others, so both must be named.
  if (roles.length < ROLES.length) {
    const why = `must be set when a process runs only some roles (ECONNECTOR_ROLES=${roles.join(',')}); the embedded one serves the all-in-one mode only`;
    if (!redisPick) throw new ConfigError(`REDIS_URL: ${why}`);
    if (!hqUrlPick) throw new ConfigError(`HQ_URL: ${why}`);
  }
  const metricsPortPick = pick('ECONNECTOR_METRICS_PORT', file.metrics.port, 'metrics', 'port');

  // A status server that answers the network answers it only with a token: patient data and
  // every change sit behind API_TOKEN, and without one nothing would stand between them and the LAN.
  const statusHost = checkHost(hostPick.label, str(hostPick));
  if (roles.includes('status') && !isLoopbackHost(statusHost) && !tokenPick) {
    throw new ConfigError(`${hostPick.label}: ${statusHost} is not a loopback address, so API_TOKEN must be set (or bind STATUS_HOST to 127.0.0.1)`);
  }

  const config: Config = {
    env: envName,
    dataDir,
    officeTz,
    hq: { url: hqUrl, apiKey, timeoutMs: file.hq.timeoutMs, pageSize: file.hq.pageSize, backoff: { ...file.hq.backoff } },
    hqMock: { demo: file.hqMock.demo === false ? false : { ...file.hqMock.demo }, leaseMs: file.hqMock.leaseMs },
    redis: { url: redisPick ? checkRedisUrl(redisPick.label, str(redisPick)) : null },
    database: dbPick ? checkDatabaseUrl(dbPick.label, str(dbPick), cwd) : { driver: 'sqlite', path: join(dataDir, SQLITE_FILE) },
    status: {
      host: statusHost,
      port: checkPort(portPick.label, portPick.value),
      allowedHosts: file.status.allowedHosts.map((h, i) => checkAllowedHost(fileLabel('status', 'allowedHosts', i), h)),
    },
    apiToken: tokenPick ? checkApiToken(tokenPick.label, str(tokenPick)) : null,
    logLevel: checkLogLevel(levelPick.label, str(levelPick)),
    // A relative log file lives under DATA_DIR, with the rest of the local state.
    log: { file: file.log.file ? absolutePath(dataDir, file.log.file) : null, format: checkLogFormat(formatPick.label, str(formatPick)) },
    queue: { prefix: file.queue.prefix },
    schedule: { ...file.schedule },
    ingest: { ...file.ingest, pollers: { ...file.ingest.pollers } },
    readiness: { ...file.readiness },
    roles,
    metrics: { port: metricsPortPick ? checkPort(metricsPortPick.label, metricsPortPick.value) : null },
    shutdown: { ...file.shutdown },
    testClock: { offsetMs: file.testClock?.offsetMs ?? 0 },
    texting: { ...file.texting },
  };
  return deepFreeze(config);
}

/** Validates the merged file layers; the first problem becomes the error, naming its layer. */
function validateFileSettings(merged: Merged, envName: string): FileSettings {
  const result = fileSettingsSchema.safeParse(merged.data);
  const fail = (path: PathKey[], problem: string): never => {
    throw new ConfigError(`${merged.sourceOf(path)}: ${path.join('.')}: ${problem}`);
  };
  if (!result.success) {
    const { path, problem } = describeZodIssue(result.error.issues[0]!, merged.data);
    return fail(path, problem);
  }
  const s = result.data;
  if (s.testClock !== undefined && envName !== 'test') fail(['testClock'], 'is a test hook, accepted only when NODE_ENV=test');
  if (s.hq.backoff.maxMs < s.hq.backoff.baseMs) fail(['hq', 'backoff', 'maxMs'], 'must be at least hq.backoff.baseMs');
  if (s.readiness.pollFailSeconds < s.readiness.pollWarnSeconds) {
    fail(['readiness', 'pollFailSeconds'], 'must be at least readiness.pollWarnSeconds');
  }
  if (s.readiness.queueFailSeconds < s.readiness.queueWarnSeconds) {
    fail(['readiness', 'queueFailSeconds'], 'must be at least readiness.queueWarnSeconds');
  }
  return s;
}
