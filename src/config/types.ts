/** The daemon's settings, as loadConfig returns them: validated, resolved (absolute paths) and frozen. */

/** winston's npm levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** LOG_FORMAT: `auto` is human lines on a terminal and JSON lines otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'human'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * What one process runs (src/daemon/roles.ts). All three in one process is the all-in-one mode
 * (`npm start`); under pm2 the scheduler and status server run once and the workers N times.
 */
/**
 * The most poll jobs one stream may have. Each leases a page at a time; far beyond the cores and
 * database connections of an office server more only add leased pages waiting for the writer.
 */
export const MAX_POLLERS = 16;

export const ROLES = ['scheduler', 'status', 'workers'] as const;
export type Role = (typeof ROLES)[number];

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
  status: {
    host: string;
    port: number;
    /**
     * Host names (Host header, without the port) the status server answers besides loopback
     * names and its bound address: the names the office reaches it by (DNS rebinding guard).
     */
    allowedHosts: readonly string[];
  };
  /** API_TOKEN; null: state-changing requests are refused. */
  apiToken: string | null;
  logLevel: LogLevel;
  /**
   * file: absolute path of a JSON log file, rotated by size; null: stdout only.
   * format (LOG_FORMAT): how stdout lines look; the file is always JSON lines.
   */
  log: { file: string | null; format: LogFormat };
  /** BullMQ key prefix. */
  queue: { prefix: string };
  schedule: { pollEverySeconds: number; aggregatesEverySeconds: number; accountSyncEveryMinutes: number };
  ingest: {
    maxPagesPerJob: number;
    maxJobSeconds: number;
    /**
     * Poll jobs per stream, across all processes together: job ids poll-<stream>-0..n-1, so at
     * most n pages of a stream are leased and written at once, whichever processes run them.
     * HQ's lease hands concurrent GETs different items (docs/hq-api.md), so they never share one.
     */
    pollers: { receipts: number; inbound: number };
  };
  readiness: {
    pollWarnSeconds: number;
    pollFailSeconds: number;
    /** A queue whose oldest waiting job is this old warns... */
    queueWarnSeconds: number;
    /** ...and fails when, besides, no job of the queue has completed for this long. */
    queueFailSeconds: number;
  };
  /** ECONNECTOR_ROLES: what this process runs, in ROLES order, without duplicates. */
  roles: readonly Role[];
  /**
   * ECONNECTOR_METRICS_PORT: a process without the status role serves /metrics and /healthz on
   * this port (plus pm2's NODE_APP_INSTANCE, so N instances get N ports); null: it serves none.
   * A process with the status role serves /metrics on the status server instead.
   */
  metrics: { port: number | null };
  shutdown: { deadlineMs: number };
  /**
   * Test hook (docs/testing.md): the daemon's calendar ("this month" of /status) runs this many ms
   * away from real time, so tests can put it at the first or last millisecond of a month. Always
   * 0 unless NODE_ENV=test; real-time behaviour (timeouts, leases, poll ages) never uses it.
   */
  testClock: { offsetMs: number };
  texting: {
    /**
     * Patients whose Text OK is unknown: 'allow' (texted, the default) or 'refuse' (treated as No:
     * a text to them answers 409 text_ok_unknown). src/office/consent.ts.
     */
    unknownTextOk: UnknownTextOkPolicy;
  };
}

/** What texting.unknownTextOk may say. */
export const UNKNOWN_TEXT_OK_POLICIES = ['allow', 'refuse'] as const;
export type UnknownTextOkPolicy = (typeof UNKNOWN_TEXT_OK_POLICIES)[number];

/** A setting with a bad value. The message is one line naming the setting and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
