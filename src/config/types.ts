/** The daemon's settings, as loadConfig returns them: validated, resolved (absolute paths) and frozen. */

/** winston's npm levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type DatabaseTarget = { driver: 'sqlite'; path: string /* absolute */ } | { driver: 'postgresql'; url: string };

export interface DemoTraffic {
  /** Outbound messages (with receipts) the mock has waiting at start, spread over backlogDays. */
  backlogMessages: number;
  /** Inbound replies waiting at start, over the same days. */
  backlogInbound: number;
  /** How far back the backlog reaches (past 60 days, some items are beyond HQ's retention). */
  backlogDays: number;
  /** New items a minute while the mock runs. */
  perMinute: number;
}

export interface Config {
  /** NODE_ENV, 'development' when unset. */
  env: string;
  /** DATA_DIR, absolute. */
  dataDir: string;
  /** OFFICE_TZ: the IANA zone months are counted in. */
  officeTz: string;
  hq: {
    /** HQ_URL without a trailing slash; null: start the built-in mock. */
    url: string | null;
    apiKey: string;
    timeoutMs: number;
    /** Items asked for per GET (the `limit` query), 1..1000. */
    pageSize: number;
    backoff: { baseMs: number; maxMs: number };
  };
  hqMock: { demo: DemoTraffic | false; leaseMs: number };
  /** REDIS_URL; null: start and own a redis-server. */
  redis: { url: string | null };
  database: DatabaseTarget;
  status: { host: string; port: number };
  /** API_TOKEN; null: state-changing requests are refused. */
  apiToken: string | null;
  logLevel: LogLevel;
  /** Absolute path of a JSON log file, rotated by size; null: stdout only. */
  log: { file: string | null };
  /** BullMQ key prefix. */
  queue: { prefix: string };
  schedule: { pollEverySeconds: number; aggregatesEverySeconds: number; accountSyncEveryMinutes: number };
  ingest: { maxPagesPerJob: number; maxJobSeconds: number };
  readiness: { pollWarnSeconds: number; pollFailSeconds: number };
  shutdown: { deadlineMs: number };
}

/** A setting with a bad value. The message is one line naming the setting and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
