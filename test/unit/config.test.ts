import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../../src/config';
import { MAX_POLLERS } from '../../src/config/types';
import { DEV_API_KEY } from '../../src/config/dev-hq';
import { isValidTimeZone } from '../../src/util/time-zone';

const REAL_CONFIG_DIR = resolve(__dirname, '../../config');

/**
 * OFFICE_TZ unset falls back to the machine's zone, which this process cannot choose (jest gives
 * each file its own copy of process.env, so assigning TZ here does not reach Node): tests that do
 * not mean the fallback name a zone, and the fallback itself is tested in child processes below.
 */
const TEST_TZ = 'America/Chicago';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'econnector-config-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

/** loadConfig with the project's config/ and a scratch cwd; `env` is the whole environment. */
const load = (env: NodeJS.ProcessEnv = {}, configDir = REAL_CONFIG_DIR): Readonly<Config> => loadConfig(withZone(env), { cwd, configDir });

/** `env` with OFFICE_TZ=TEST_TZ unless it names the zone itself (OFFICE_TZ, or officeTz in ECONNECTOR_CONFIG). */
function withZone(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const namesZone = 'OFFICE_TZ' in env || (env.ECONNECTOR_CONFIG ?? '').includes('"officeTz"');
  return namesZone ? env : { ...env, OFFICE_TZ: TEST_TZ };
}

/** The ConfigError message of loading with `env`; fails the test if loading succeeds. */
function errorOf(env: NodeJS.ProcessEnv, configDir = REAL_CONFIG_DIR): string {
  try {
    load(env, configDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

/** A config dir holding the project's files plus `files` (name -> JSON value or raw text). */
function configDirWith(files: Record<string, unknown>): string {
  const dir = join(cwd, 'cfg');
  cpSync(REAL_CONFIG_DIR, dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('defaults', () => {
  it('match the contract and config/default.json', () => {
    const c = load({});
    expect(c).toEqual({
      env: 'development',
      dataDir: join(cwd, 'data'),
      officeTz: TEST_TZ,
      hq: { url: null, apiKey: DEV_API_KEY, timeoutMs: 10_000, pageSize: 1000, backoff: { baseMs: 500, maxMs: 60_000 } },
      hqMock: { demo: { backlogMessages: 3000, backlogInbound: 800, backlogDays: 75, perMinute: 20 }, leaseMs: 60_000 },
      redis: { url: null },
      database: { driver: 'sqlite', path: join(cwd, 'data', 'econnector.sqlite') },
      status: { host: '127.0.0.1', port: 7380, allowedHosts: [] },
      apiToken: null,
      logLevel: 'info',
      log: { file: null, format: 'auto' },
      queue: { prefix: 'econnector' },
      schedule: { pollEverySeconds: 2, aggregatesEverySeconds: 3, accountSyncEveryMinutes: 5 },
      ingest: { maxPagesPerJob: 50, maxJobSeconds: 10, pollers: { receipts: 1, inbound: 1 } },
      readiness: { pollWarnSeconds: 30, pollFailSeconds: 120, queueWarnSeconds: 30, queueFailSeconds: 120 },
      roles: ['scheduler', 'status', 'workers'],
      metrics: { port: null },
      shutdown: { deadlineMs: 10_000 },
      testClock: { offsetMs: 0 },
      texting: { unknownTextOk: 'allow' },
    });
  });

  it('testClock (the tests\' calendar hook) is accepted only with NODE_ENV=test', () => {
    const hook = JSON.stringify({ testClock: { offsetMs: -86_400_000 } });
    expect(load({ NODE_ENV: 'test', ECONNECTOR_CONFIG: hook }).testClock).toEqual({ offsetMs: -86_400_000 });
    for (const env of ['production', 'development']) {
      expect(errorOf({ NODE_ENV: env, ECONNECTOR_CONFIG: hook })).toBe('ECONNECTOR_CONFIG: testClock: is a test hook, accepted only when NODE_ENV=test');
    }
    expect(errorOf({ NODE_ENV: 'test', ECONNECTOR_CONFIG: JSON.stringify({ testClock: { offsetMs: 0.5 } }) })).toMatch(/^ECONNECTOR_CONFIG: testClock\.offsetMs: /);
  });

  it('texting.unknownTextOk is allow or refuse; anything else stops start-up naming the key', () => {
    expect(load({ ECONNECTOR_CONFIG: JSON.stringify({ texting: { unknownTextOk: 'refuse' } }) }).texting.unknownTextOk).toBe('refuse');
    expect(errorOf({ ECONNECTOR_CONFIG: JSON.stringify({ texting: { unknownTextOk: 'no' } }) }))
      .toBe('ECONNECTOR_CONFIG: texting.unknownTextOk: must be one of "allow", "refuse"');
  });

  it('NODE_ENV=test turns the demo traffic off', () => {
    const c = load({ NODE_ENV: 'test' });
    expect(c.env).toBe('test');
    expect(c.hqMock.demo).toBe(false);
  });

  it('NODE_ENV=production logs to a file under DATA_DIR', () => {
    const c = load({ NODE_ENV: 'production', DATA_DIR: '/var/lib/econnector' });
    expect(c.log.file).toBe('/var/lib/econnector/logs/econnector.log');
    expect(c.hqMock.demo).toBe(false);
  });

  it('a NODE_ENV without a file of its own uses the defaults', () => {
    expect(load({ NODE_ENV: 'staging' }).env).toBe('staging');
  });

  it('finds the project config/ by itself and resolves against process.cwd()', () => {
    const c = loadConfig({ OFFICE_TZ: TEST_TZ });
    expect(c.dataDir).toBe(resolve(process.cwd(), 'data'));
    expect(c.schedule.pollEverySeconds).toBe(2);
  });
});

describe('environment variables', () => {
  it('HQ_URL (trailing slash stripped) with HQ_API_KEY', () => {
    const c = load({ HQ_URL: 'https://hq.example.com/api/', HQ_API_KEY: 'k-123' });
    expect(c.hq).toMatchObject({ url: 'https://hq.example.com/api', apiKey: 'k-123' });
    expect(load({ HQ_URL: 'http://127.0.0.1:8080', HQ_API_KEY: 'k' }).hq.url).toBe('http://127.0.0.1:8080');
    for (const loopback of ['http://localhost:8080', 'http://[::1]:8080', 'http://127.0.0.2']) expect(load({ HQ_URL: loopback, HQ_API_KEY: 'k' }).hq.url).toBe(loopback);
  });

  it('HQ_API_KEY alone is used with the mock', () => {
    expect(load({ HQ_API_KEY: 'other-key' }).hq).toMatchObject({ url: null, apiKey: 'other-key' });
  });

  it('REDIS_URL', () => {
    expect(load({ REDIS_URL: 'redis://127.0.0.1:6390/2' }).redis.url).toBe('redis://127.0.0.1:6390/2');
    expect(load({ REDIS_URL: 'rediss://:pw@redis.example.com:6380' }).redis.url).toBe('rediss://:pw@redis.example.com:6380');
    // A Redis on a unix socket: the path, as ioredis takes it.
    expect(load({ REDIS_URL: 'unix:///var/run/redis/redis.sock' }).redis.url).toBe('/var/run/redis/redis.sock');
    expect(errorOf({ REDIS_URL: 'unix://relative/redis.sock' })).toBe('REDIS_URL: must be a redis:// or rediss:// URL, or unix:///path/to/redis.sock');
    expect(errorOf({ REDIS_URL: 'unix:///var/run/redis/' })).toBe('REDIS_URL: must name a socket file: unix:///path/to/redis.sock');
  });

  it.each([
    ['sqlite:office.db', 'office.db'],
    ['sqlite:./db/office.db', 'db/office.db'],
    ['sqlite://db/office.db', 'db/office.db'],
    ['file:office.db', 'office.db'],
  ])('DATABASE_URL %s is a SQLite file relative to cwd', (url, rel) => {
    expect(load({ DATABASE_URL: url }).database).toEqual({ driver: 'sqlite', path: join(cwd, rel) });
  });

  it.each(['sqlite:///srv/db/office.db', 'sqlite:/srv/db/office.db', 'file:///srv/db/office.db'])('DATABASE_URL %s is an absolute SQLite path', (url) => {
    expect(load({ DATABASE_URL: url }).database).toEqual({ driver: 'sqlite', path: '/srv/db/office.db' });
  });

  it.each(['postgres://u:p@db.example.com:5432/office', 'postgresql://db.example.com/office'])('DATABASE_URL %s is PostgreSQL', (url) => {
    expect(load({ DATABASE_URL: url }).database).toEqual({ driver: 'postgresql', url });
  });

  it('DATA_DIR, relative or absolute; the default database follows it', () => {
    const rel = load({ DATA_DIR: 'state' });
    expect(rel.dataDir).toBe(join(cwd, 'state'));
    expect(rel.database).toEqual({ driver: 'sqlite', path: join(cwd, 'state', 'econnector.sqlite') });
    expect(load({ DATA_DIR: '/srv/econnector' }).dataDir).toBe('/srv/econnector');
  });

  it('OFFICE_TZ unset or empty: the machine zone, or one line saying what is wrong when the machine has none', () => {
    const DIST_CONFIG = resolve(__dirname, '../../dist/src/config/index.js');
    if (!existsSync(DIST_CONFIG)) throw new Error(`${DIST_CONFIG} is missing: run npm run build first (npm test does)`);
    /** What loadConfig answers in a node process whose TZ is `tz` (undefined: TZ unset). */
    const zoneIn = (tz: string | undefined, officeTz?: string): string => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
      if (tz !== undefined) env.TZ = tz;
      const script = `const { loadConfig } = require(${JSON.stringify(DIST_CONFIG)});
        try { process.stdout.write(loadConfig(${JSON.stringify(officeTz === undefined ? {} : { OFFICE_TZ: officeTz })}, { cwd: ${JSON.stringify(cwd)} }).officeTz); }
        catch (err) { process.stdout.write(err.name + ': ' + err.message); }`;
      return execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 20_000 });
    };
    expect(zoneIn('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(zoneIn('Asia/Tokyo', '')).toBe('Asia/Tokyo');
    expect(zoneIn('UTC')).toBe('UTC');
    // TZ= and TZ=Factory: Node reports the zone as Etc/Unknown; naming OFFICE_TZ is the way out.
    for (const tz of ['', 'Factory']) {
      expect(zoneIn(tz)).toBe(`ConfigError: OFFICE_TZ (unset, so the system's zone): 'Etc/Unknown' is not a known IANA time zone`);
      expect(zoneIn(tz, 'Asia/Tokyo')).toBe('Asia/Tokyo');
    }
    // TZ unset: the zone of /etc/localtime, whatever this machine's is (or UTC without one).
    expect(isValidTimeZone(zoneIn(undefined))).toBe(true);
  });

  it('OFFICE_TZ, canonically spelt', () => {
    expect(load({ OFFICE_TZ: 'America/Chicago' }).officeTz).toBe('America/Chicago');
    expect(load({ OFFICE_TZ: 'australia/lord_howe' }).officeTz).toBe('Australia/Lord_Howe');
    expect(load({ OFFICE_TZ: 'UTC' }).officeTz).toBe('UTC');
  });

  it('STATUS_HOST and STATUS_PORT (0: any free port)', () => {
    expect(load({ STATUS_HOST: '0.0.0.0', STATUS_PORT: '8080', API_TOKEN: 'a-token-of-16-ch' }).status).toEqual({ host: '0.0.0.0', port: 8080, allowedHosts: [] });
    expect(load({ STATUS_HOST: '::1', STATUS_PORT: '0' }).status).toEqual({ host: '::1', port: 0, allowedHosts: [] });
  });

  it('status.allowedHosts: names the status server answers to, lower-cased', () => {
    expect(load({ ECONNECTOR_CONFIG: '{"status":{"allowedHosts":["Office-PC.local","10.0.0.5","[fe80::1]"]}}' }).status.allowedHosts).toEqual(['office-pc.local', '10.0.0.5', 'fe80::1']);
    expect(errorOf({ ECONNECTOR_CONFIG: '{"status":{"allowedHosts":["http://office-pc"]}}' })).toBe("ECONNECTOR_CONFIG: status.allowedHosts.0: 'http://office-pc' is not a host name or IP address (no port, no scheme)");
  });

  it('a status server on a non-loopback address needs API_TOKEN: one line naming both', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'office-pc.local']) {
      expect(errorOf({ STATUS_HOST: host })).toBe(`STATUS_HOST: ${host} is not a loopback address, so API_TOKEN must be set (or bind STATUS_HOST to 127.0.0.1)`);
    }
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost']) expect(load({ STATUS_HOST: host }).status.host).toBe(host);
    // A process without the status server binds nothing the rule is about.
    expect(load({ STATUS_HOST: '0.0.0.0', ECONNECTOR_ROLES: 'workers', REDIS_URL: 'redis://127.0.0.1:6379', HQ_URL: 'https://hq.example.com', HQ_API_KEY: 'k' }).status.host).toBe('0.0.0.0');
    expect(load({ STATUS_PORT: '65535' }).status.port).toBe(65535);
  });

  it('API_TOKEN', () => {
    expect(load({ API_TOKEN: 's3cret-token-0123' }).apiToken).toBe('s3cret-token-0123');
    expect(errorOf({ API_TOKEN: 's3cret-token' })).toBe('API_TOKEN: must be at least 16 characters long (e.g. openssl rand -hex 24)');
  });

  it.each(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'])('LOG_LEVEL %s', (level) => {
    expect(load({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('LOG_LEVEL in capitals is accepted', () => {
    expect(load({ LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
  });

  it('empty strings count as unset', () => {
    const empty = {
      // OFFICE_TZ: '' is tested with the machine zone, in child processes, above.
      NODE_ENV: '', HQ_URL: '', HQ_API_KEY: '', REDIS_URL: '', DATABASE_URL: '', DATA_DIR: '',
      STATUS_HOST: '', STATUS_PORT: '', API_TOKEN: '', LOG_LEVEL: '', ECONNECTOR_CONFIG: '',
    };
    expect(load(empty)).toEqual(load({}));
  });
});

describe('bad values stop start-up with one line naming the setting', () => {
  it.each([
    [{ OFFICE_TZ: 'Mars/Base' }, "OFFICE_TZ: 'Mars/Base' is not a known IANA time zone"],
    [{ OFFICE_TZ: '+05:00' }, "OFFICE_TZ: '+05:00' is not a known IANA time zone"],
    [{ STATUS_PORT: 'abc' }, "STATUS_PORT: 'abc' is not a port number (1-65535)"],
    [{ STATUS_PORT: '65536' }, "STATUS_PORT: '65536' is not a port number (1-65535)"],
    [{ STATUS_PORT: '-1' }, "STATUS_PORT: '-1' is not a port number (1-65535)"],
    [{ STATUS_PORT: '80.5' }, "STATUS_PORT: '80.5' is not a port number (1-65535)"],
    [{ STATUS_HOST: 'local host' }, "STATUS_HOST: 'local host' is not a host name or IP address"],
    [{ LOG_LEVEL: 'loud' }, "LOG_LEVEL: 'loud' is not a winston level (error, warn, info, http, verbose, debug, silly)"],
    [{ HQ_URL: 'ftp://hq.example.com', HQ_API_KEY: 'k' }, 'HQ_URL: must be an http:// or https:// URL'],
    [{ HQ_URL: 'hq.example.com', HQ_API_KEY: 'k' }, 'HQ_URL: must be an http:// or https:// URL'],
    [{ HQ_URL: 'https://hq.example.com/?x=1', HQ_API_KEY: 'k' }, 'HQ_URL: must be a base URL without a query or fragment'],
    // Plain http only to loopback.
    [{ HQ_URL: 'http://hq.example.com', HQ_API_KEY: 'k' }, 'HQ_URL: must be an https:// URL (http:// only to a loopback address: 127.0.0.1, ::1, localhost)'],
    [{ HQ_URL: 'http://10.0.0.5:8080', HQ_API_KEY: 'k' }, 'HQ_URL: must be an https:// URL (http:// only to a loopback address: 127.0.0.1, ::1, localhost)'],
    [{ HQ_URL: 'http://127.0.0.1.example.com', HQ_API_KEY: 'k' }, 'HQ_URL: must be an https:// URL (http:// only to a loopback address: 127.0.0.1, ::1, localhost)'],
    [{ HQ_URL: 'https://hq.example.com' }, 'HQ_API_KEY: required when HQ_URL is set'],
    [{ HQ_API_KEY: 'has space' }, 'HQ_API_KEY: must be printable ASCII without spaces'],
    [{ API_TOKEN: 'tab\there' }, 'API_TOKEN: must be printable ASCII without spaces'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL: must be a redis:// or rediss:// URL, or unix:///path/to/redis.sock'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL: must be a redis:// or rediss:// URL, or unix:///path/to/redis.sock'],
    [{ DATABASE_URL: 'mysql://db/office' }, 'DATABASE_URL: must be sqlite:<path>, file:<path>, or a postgres:// or postgresql:// URL'],
    [{ DATABASE_URL: 'sqlite:' }, 'DATABASE_URL: names no database file'],
    [{ DATABASE_URL: 'sqlite::memory:' }, 'DATABASE_URL: an in-memory database cannot hold the office data'],
    [{ NODE_ENV: '../etc' }, "NODE_ENV: '../etc' is not a valid environment name"],
  ])('%j', (env, message) => {
    expect(errorOf(env)).toBe(message);
  });

  it('never echoes secrets or URLs that may hold passwords', () => {
    expect(errorOf({ HQ_API_KEY: 'topsecret key' })).not.toContain('topsecret');
    expect(errorOf({ REDIS_URL: 'redis//:hunter2@x' })).not.toContain('hunter2');
    expect(errorOf({ DATABASE_URL: 'mysql://u:hunter2@db/x' })).not.toContain('hunter2');
  });

  it('keeps a long bad value short and on one line', () => {
    const message = errorOf({ OFFICE_TZ: `Mars/${'x'.repeat(200)}\nsecond line` });
    expect(message.length).toBeLessThan(140);
  });
});

describe('config files and ECONNECTOR_CONFIG', () => {
  it('merge in order: default.json, <NODE_ENV>.json, ECONNECTOR_CONFIG, then environment variables', () => {
    const dir = configDirWith({
      'development.json': { hq: { pageSize: 200, timeoutMs: 5000 }, schedule: { pollEverySeconds: 5 }, status: { port: 9000 } },
    });
    const c = load(
      {
        ECONNECTOR_CONFIG: JSON.stringify({ hq: { pageSize: 300 }, status: { port: 9100 }, officeTz: 'Europe/London' }),
        STATUS_PORT: '9200',
      },
      dir,
    );
    expect(c.hq.pageSize).toBe(300); // ECONNECTOR_CONFIG over development.json
    expect(c.hq.timeoutMs).toBe(5000); // development.json over default.json, siblings kept
    expect(c.hq.backoff).toEqual({ baseMs: 500, maxMs: 60_000 }); // untouched defaults stay
    expect(c.schedule).toEqual({ pollEverySeconds: 5, aggregatesEverySeconds: 3, accountSyncEveryMinutes: 5 });
    expect(c.status.port).toBe(9200); // the environment variable wins
    expect(c.officeTz).toBe('Europe/London');
  });

  it('files may set the fixed settings too, and the environment still wins', () => {
    const dir = configDirWith({ 'development.json': { hq: { url: 'https://hq.example.com/', apiKey: 'file-key' }, apiToken: 'file-token-0123456' } });
    expect(load({}, dir).hq).toMatchObject({ url: 'https://hq.example.com', apiKey: 'file-key' });
    expect(load({}, dir).apiToken).toBe('file-token-0123456');
    expect(load({ HQ_API_KEY: 'env-key', API_TOKEN: 'env-token-01234567' }, dir)).toMatchObject({ hq: { apiKey: 'env-key' }, apiToken: 'env-token-01234567' });
  });

  it('ECONNECTOR_CONFIG can turn the demo off and back on', () => {
    expect(load({ ECONNECTOR_CONFIG: '{"hqMock":{"demo":false,"leaseMs":500}}' }).hqMock).toEqual({ demo: false, leaseMs: 500 });
    const demo = { backlogMessages: 10, backlogInbound: 2, backlogDays: 1, perMinute: 0 };
    expect(load({ NODE_ENV: 'test', ECONNECTOR_CONFIG: JSON.stringify({ hqMock: { demo } }) }).hqMock.demo).toEqual(demo);
  });

  it('a relative log file lives under DATA_DIR', () => {
    expect(load({ ECONNECTOR_CONFIG: '{"log":{"file":"econnector.log"}}' }).log.file).toBe(join(cwd, 'data', 'econnector.log'));
    expect(load({ ECONNECTOR_CONFIG: '{"log":{"file":"/var/log/e.log"}}' }).log.file).toBe('/var/log/e.log');
  });

  it.each([
    ['{"hq":{"pageSize":1001}}', 'ECONNECTOR_CONFIG: hq.pageSize: must be at most 1000'],
    ['{"hq":{"pageSize":0}}', 'ECONNECTOR_CONFIG: hq.pageSize: must be at least 1'],
    ['{"hq":{"pageSize":"100"}}', 'ECONNECTOR_CONFIG: hq.pageSize: must be a number'],
    ['{"hq":{"pageSize":10.5}}', 'ECONNECTOR_CONFIG: hq.pageSize: must be an integer'],
    ['{"schedule":{"pollEverySecs":3}}', 'ECONNECTOR_CONFIG: schedule.pollEverySecs: unknown setting'],
    ['{"hqMock":{"demo":true}}', 'ECONNECTOR_CONFIG: hqMock.demo: must be false or an object'],
    ['{"hqMock":{"demo":{"backlogMessages":-1,"backlogInbound":0,"backlogDays":0,"perMinute":0}}}', 'ECONNECTOR_CONFIG: hqMock.demo.backlogMessages: must be at least 0'],
    ['{"hq":{"backoff":{"baseMs":5000,"maxMs":1000}}}', 'ECONNECTOR_CONFIG: hq.backoff.maxMs: must be at least hq.backoff.baseMs'],
    ['{"readiness":{"pollFailSeconds":10}}', 'ECONNECTOR_CONFIG: readiness.pollFailSeconds: must be at least readiness.pollWarnSeconds'],
    ['{"queue":{"prefix":"a b"}}', 'ECONNECTOR_CONFIG: queue.prefix: must be 1-64 letters, digits, _ : or -'],
    ['{"officeTz":"Mars/Base"}', "ECONNECTOR_CONFIG: officeTz: 'Mars/Base' is not a known IANA time zone"],
    ['{"status":{"port":70000}}', "ECONNECTOR_CONFIG: status.port: '70000' is not a port number (1-65535)"],
    ['{"logLevel":"loud"}', "ECONNECTOR_CONFIG: logLevel: 'loud' is not a winston level (error, warn, info, http, verbose, debug, silly)"],
    ['{"hq":{"url":"https://hq"}}', 'HQ_API_KEY: required when HQ_URL is set'],
    ['{"hq": 5}', 'ECONNECTOR_CONFIG: hq: must be an object'],
    ['{"__proto__":{"x":1}}', 'ECONNECTOR_CONFIG: __proto__: is not allowed'],
    ['[1,2]', 'ECONNECTOR_CONFIG: must hold a JSON object'],
    ['null', 'ECONNECTOR_CONFIG: must hold a JSON object'],
  ])('ECONNECTOR_CONFIG=%s', (json, message) => {
    expect(errorOf({ ECONNECTOR_CONFIG: json })).toBe(message);
  });

  it('a demo object over a demo turned off must be complete (it merges onto the defaults only when they are an object)', () => {
    expect(load({ ECONNECTOR_CONFIG: '{"hqMock":{"demo":{"perMinute":1}}}' }).hqMock.demo).toMatchObject({ backlogMessages: 3000, perMinute: 1 });
    expect(errorOf({ NODE_ENV: 'test', ECONNECTOR_CONFIG: '{"hqMock":{"demo":{"backlogMessages":1}}}' })).toBe(
      'ECONNECTOR_CONFIG: hqMock.demo.backlogInbound: is missing',
    );
  });

  it('ECONNECTOR_CONFIG that is not JSON names the variable without echoing it', () => {
    const message = errorOf({ ECONNECTOR_CONFIG: '{"apiToken": secret-value}' });
    expect(message).toMatch(/^ECONNECTOR_CONFIG: not valid JSON/);
    expect(message).not.toContain('secret-value');
  });

  it('a bad value in a file names the file and the key path', () => {
    const dir = configDirWith({ 'development.json': { ingest: { maxPagesPerJob: 0 } } });
    expect(errorOf({}, dir)).toBe('cfg/development.json: ingest.maxPagesPerJob: must be at least 1');
  });

  it('schedule steps are what a cron step can say: 1 to 59', () => {
    expect(errorOf({ ECONNECTOR_CONFIG: '{"schedule":{"pollEverySeconds":60}}' })).toBe('ECONNECTOR_CONFIG: schedule.pollEverySeconds: must be at most 59');
    expect(errorOf({ ECONNECTOR_CONFIG: '{"schedule":{"accountSyncEveryMinutes":120}}' })).toBe('ECONNECTOR_CONFIG: schedule.accountSyncEveryMinutes: must be at most 59');
    expect(load({ ECONNECTOR_CONFIG: '{"schedule":{"aggregatesEverySeconds":59}}' }).schedule.aggregatesEverySeconds).toBe(59);
  });

  it('ingest.pollers: a count per stream, from 1 to MAX_POLLERS, with the bad key named', () => {
    expect(load({ ECONNECTOR_CONFIG: '{"ingest":{"pollers":{"receipts":3}}}' }).ingest.pollers).toEqual({ receipts: 3, inbound: 1 });
    expect(errorOf({ ECONNECTOR_CONFIG: '{"ingest":{"pollers":{"receipts":0}}}' })).toBe('ECONNECTOR_CONFIG: ingest.pollers.receipts: must be at least 1');
    expect(errorOf({ ECONNECTOR_CONFIG: `{"ingest":{"pollers":{"inbound":${MAX_POLLERS + 1}}}}` })).toBe(`ECONNECTOR_CONFIG: ingest.pollers.inbound: must be at most ${MAX_POLLERS}`);
    expect(errorOf({ ECONNECTOR_CONFIG: '{"ingest":{"pollers":{"receipts":1.5}}}' })).toBe('ECONNECTOR_CONFIG: ingest.pollers.receipts: must be an integer');
    expect(errorOf({ ECONNECTOR_CONFIG: '{"ingest":{"pollers":{"reciepts":2}}}' })).toBe('ECONNECTOR_CONFIG: ingest.pollers.reciepts: unknown setting');
    expect(errorOf({ ECONNECTOR_CONFIG: '{"ingest":{"pollers":2}}' })).toBe('ECONNECTOR_CONFIG: ingest.pollers: must be an object');
  });

  it('a bad value in default.json names default.json', () => {
    const dir = configDirWith({});
    const defaults = JSON.parse(readFileSync(join(REAL_CONFIG_DIR, 'default.json'), 'utf8')) as { shutdown: Record<string, unknown> };
    defaults.shutdown.deadlineMs = 'soon';
    writeFileSync(join(dir, 'default.json'), JSON.stringify(defaults));
    expect(errorOf({}, dir)).toBe('cfg/default.json: shutdown.deadlineMs: must be a number');
  });

  it('a file that is not JSON, or not an object, names the file', () => {
    expect(errorOf({}, configDirWith({ 'development.json': '{ "hq": ' }))).toMatch(/^cfg\/development\.json: not valid JSON/);
    expect(errorOf({}, configDirWith({ 'development.json': '"text"' }))).toBe('cfg/development.json: must hold a JSON object');
  });

  it('a missing default.json is an error', () => {
    expect(errorOf({}, join(cwd, 'nowhere'))).toBe('nowhere/default.json: not found');
  });
});

describe('the result', () => {
  it('is deep-frozen', () => {
    const c = load({ ECONNECTOR_CONFIG: '{"hqMock":{"demo":{"backlogMessages":1,"backlogInbound":1,"backlogDays":1,"perMinute":1}}}' });
    expect(Object.isFrozen(c)).toBe(true);
    for (const part of [c.hq, c.hq.backoff, c.hqMock, c.hqMock.demo, c.redis, c.database, c.status, c.log, c.queue, c.schedule, c.ingest, c.ingest.pollers, c.readiness, c.shutdown]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (c as Config).logLevel = 'debug';
    }).toThrow(TypeError);
    expect(() => {
      (c.hq as { pageSize: number }).pageSize = 1;
    }).toThrow(TypeError);
  });

  it('does not depend on process.env when an env is given', () => {
    const saved = process.env.STATUS_PORT;
    process.env.STATUS_PORT = 'not-a-port';
    try {
      expect(() => load({})).not.toThrow();
      expect(() => loadConfig({ OFFICE_TZ: 'Mars/Base' }, { cwd })).toThrow(ConfigError);
    } finally {
      if (saved === undefined) delete process.env.STATUS_PORT;
      else process.env.STATUS_PORT = saved;
    }
  });
});
