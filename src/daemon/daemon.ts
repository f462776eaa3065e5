/**
 * Start-up and ordered shutdown of the daemon: embedded services (a redis-server and the HQ mock,
 * when their URLs are unset: all-in-one mode only), the database and its migrations, queues, and
 * then what this process's roles ask for (src/daemon/roles.ts): workers, the status server (or,
 * without it, a metrics-only server), the schedule. Shutdown runs in named phases
 * (src/daemon/shutdown.ts).
 */
import { setMaxListeners } from 'node:events';
import { getHeapStatistics } from 'node:v8';
import { openPageStore } from '../ingest/open-page-store';
import { Redis, type RedisOptions } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'winston';
import { ALL_JOBS, followUpVia } from '../../workers';
import type { WorkerServices } from '../../workers/services';
import type { Config } from '../config';
import { openDatabase, type Database } from '../db/orm';
import { HqClient } from '../hq/client';
import { startHqMock, type HqMock } from '../hq-mock/server';
import { createLogger } from '../log';
import { JobQueues } from '../queues/queues';
import { buildRegistry } from '../queues/registry';
import { startWorkers, type RunningWorkers } from '../queues/workers';
import { schedulePlan, startScheduler, type Scheduler } from '../scheduler';
import { buildStatusServer } from '../status/server';
import { markAllUsageDirty } from '../usage/aggregates';
import { MonthBucketer } from '../usage/month';
import { Backoff } from '../util/backoff';
import { privateDir, usePrivateUmask } from '../util/private-files';
import type { AppContext } from './context';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis';
import { Shutdown } from './shutdown';
import { createMetrics, packageVersion, registerSharedStateMetrics, startMetricsServer } from '../metrics';
import { recordCompletion, snapshotQueues } from '../queues/progress';
import { hasRole, isAllInOne, logFileFor, metricsPortFor, processInstance, rolesName, type Role } from './roles';
import { readSetting, SETTING_USAGE_TZ, writeSetting } from '../db/store/settings';

/** Listeners the workers' shutdown signal may have: a few per running job, every queue's concurrency together, with room to spare. */
const SHUTDOWN_LISTENERS = 1_000;

export interface Daemon {
  app: AppContext;
  /** Base URL of the status server; '' when this process has no status role. */
  statusUrl: string;
  /** Where this process serves its Prometheus metrics; null when it serves none. */
  metricsUrl: string | null;
  roles: readonly Role[];
  hqUrl: string;
  redisUrl: string;
  /**
   * Shutdown in named phases (src/daemon/shutdown.ts); resolves when everything is closed. With a
   * deadline, rejects with ShutdownDeadlineError when a phase is still running at it.
   */
  stop(opts?: { deadlineMs?: number }): Promise<void>;
}

/** Connects and waits for Redis, with one clear error when it cannot be reached. */
async function connectRedis(url: string, options: RedisOptions, logger: Logger, role: string): Promise<Redis> {
  const redis = new Redis(url, { ...options, lazyConnect: true });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // ioredis reconnects by itself; say so once per distinct error, not on every retry.
    if (err.message !== lastError) logger.warn('redis connection error', { role, error: err.message });
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) logger.info('redis connection restored', { role });
    lastError = '';
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`REDIS_URL: cannot connect to Redis (${lastError || (err as Error).message})`, { cause: err });
  }
  return redis;
}

async function checkUsageZone(db: Database, months: MonthBucketer, logger: Logger): Promise<void> {
  const previous = await readSetting(db.knex, SETTING_USAGE_TZ);
  if (previous === months.tz) return;
  if (previous !== null) {
    const pairs = await markAllUsageDirty(db.knex, months);
    logger.warn('OFFICE_TZ changed: recomputing every month of usage', { from: previous, to: months.tz, pairs });
  }
  await writeSetting(db.knex, SETTING_USAGE_TZ, months.tz);
}

export async function startDaemon(config: Readonly<Config>, opts: { logger?: Logger } = {}): Promise<Daemon> {
  // Everything this process (and the redis-server it starts) creates is private to its account:
  // set before the first file, the log, is opened (src/util/private-files.ts).
  usePrivateUmask();
  const roles = config.roles;
  const instance = processInstance();
  const allInOne = isAllInOne(roles);
  const baseLogger = opts.logger ?? createLogger({ level: config.logLevel, file: logFileFor(config.log.file, roles, instance), service: 'econnector', format: config.log.format });
  // Under pm2 several processes write lines: each carries its roles (and pm2 instance).
  const logger = allInOne ? baseLogger : baseLogger.child({ role: rolesName(roles), ...(instance !== null ? { instance } : {}) });
  const shutdown = new Shutdown(logger);
  const startedAt = Date.now();
  try {
    const tightened = privateDir(config.dataDir);
    if (tightened.length > 0) logger.warn('made local state private (group and others had access)', { paths: tightened.length, dataDir: config.dataDir });

    // Embedded services only in the all-in-one mode (loadConfig insists on the URLs otherwise).
    const redisUrl: string = config.redis.url ?? (await (async () => {
      const embedded: EmbeddedRedis = await startEmbeddedRedis({
        dataDir: config.dataDir,
        log: (level, message, meta) => logger.log(level, message, meta),
      });
      shutdown.add('stop embedded services', 'embedded redis-server', () => embedded.stop());
      return embedded.url;
    })());

    const hqUrl: string = config.hq.url ?? (await (async () => {
      const mock: HqMock = await startHqMock({
        port: 0,
        apiKey: config.hq.apiKey,
        leaseMs: config.hqMock.leaseMs,
        demo: config.hqMock.demo,
        logger: { info: (m: string, meta?: object) => logger.info(m, meta), warn: (m: string, meta?: object) => logger.warn(m, meta) },
      });
      shutdown.add('stop embedded services', 'HQ mock', () => mock.close());
      logger.info('HQ_URL unset: built-in HQ mock started', { url: mock.url });
      return mock.url;
    })());

    const registry = buildRegistry(ALL_JOBS);
    // Checked before anything connects: a schedule that cannot run is a start-up error.
    const plan = schedulePlan(registry.values(), config);
    // Producers fail fast while Redis is away (a skipped tick is retried by the next one); workers
    // must wait for ever on their blocking commands, as BullMQ requires.
    const producer = await connectRedis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }, logger, 'producer');
    shutdown.add('close queues', 'redis (producer)', () => producer.quit().catch(() => producer.disconnect()));
    const consumer = hasRole(roles, 'workers') ? await connectRedis(redisUrl, { maxRetriesPerRequest: null }, logger, 'workers') : null;
    if (consumer) shutdown.add('close queues', 'redis (workers)', () => consumer.quit().catch(() => consumer.disconnect()));

    const db = await openDatabase(config.database);
    shutdown.add('close the database', 'database', () => db.close());
    // "This month" follows the daemon's calendar clock: real time, unless a test moved it (config.testClock).
    const months = new MonthBucketer(config.officeTz, () => Date.now() + config.testClock.offsetMs);
    await checkUsageZone(db, months, logger);

    const queues = new JobQueues(registry, producer, config.queue.prefix, logger);
    shutdown.add('close queues', 'queues', () => queues.close());

    const metrics = createMetrics({ roles, version: packageVersion() });
    const hq = new HqClient({
      baseUrl: hqUrl,
      apiKey: config.hq.apiKey,
      timeoutMs: config.hq.timeoutMs,
      backoff: config.hq.backoff,
      onRequest: (event) => metrics.hqRequest(event),
    });
    const pageStore = openPageStore(db, config.database, months, config.officeTz);
    shutdown.add('close the database', 'page store', () => pageStore.close());
    const app: AppContext = {
      config, logger, db, hq, months, queues, metrics, startedAt, pageStore,
      dbGates: { receipts: new Backoff(config.hq.backoff), inbound: new Backoff(config.hq.backoff) },
      followUp: followUpVia(queues, logger),
    };

    if (consumer) {
      const stopping = new AbortController();
      // Every running job listens on it (each send job's wait out of a 429 too, up to
      // workers/send-message.ts's concurrency): past Node's default of 10 it would warn on stderr,
      // outside the logs, of a leak that is not one.
      setMaxListeners(SHUTDOWN_LISTENERS, stopping.signal);
      const services: WorkerServices = app;
      const workers: RunningWorkers = startWorkers({
        registry, services, config, queues, connection: consumer, logger, signal: stopping.signal,
        followUp: (work) => void app.followUp(work),
        onJobFinished: ({ queue, ok, durationMs }) => {
          metrics.jobFinished(queue, ok, durationMs);
          // Readiness (in whichever process serves it) judges queue progress from this.
          if (ok) recordCompletion(producer, queues.prefix, queue).catch(() => undefined);
        },
      });
      shutdown.add('stop taking work', 'workers', () => workers.pause());
      // Running jobs see the signal and stop between pages: a page is committed and acknowledged, or abandoned.
      shutdown.add('finish or abandon pages', 'running jobs', async () => {
        stopping.abort(new Error('shutting down'));
        await workers.settled();
      });
      shutdown.add('close workers', 'workers', () => workers.close());
    }

    let statusUrl = '';
    let metricsUrl: string | null = null;
    if (hasRole(roles, 'status')) {
      registerSharedStateMetrics(metrics, { queues, redis: producer, knex: db.knex, currentMonth: () => app.months.current() });
      const server: FastifyInstance = buildStatusServer({
        app,
        pingRedis: () => producer.ping(),
        queueSnapshot: () => snapshotQueues(queues, producer),
      });
      // It answers /readyz and the office while pages finish; closed before what it reads goes away.
      shutdown.add('close servers', 'status server', () => server.close());
      await server.listen({ host: config.status.host, port: config.status.port });
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : config.status.port;
      statusUrl = `http://${config.status.host.includes(':') ? `[${config.status.host}]` : config.status.host}:${port}`;
      metricsUrl = `${statusUrl}/metrics`;
    } else {
      const port = metricsPortFor(config.metrics.port, instance);
      if (port !== null) {
        const server = await startMetricsServer(metrics, config.status.host, port, (err) => logger.warn('metrics server error', { error: err.message }));
        metricsUrl = `${server.url}/metrics`;
        shutdown.add('close servers', 'metrics server', () => server.close());
      }
    }

    if (hasRole(roles, 'scheduler')) {
      const scheduler: Scheduler = startScheduler(queues, plan);
      shutdown.add('stop taking work', 'scheduler', () => scheduler.stop());
    }

    logger.info('econnector started', {
      roles: roles.join(','),
      ...(statusUrl ? { status: statusUrl } : {}),
      ...(metricsUrl ? { metrics: metricsUrl } : {}),
      officeTz: config.officeTz,
      database: config.database.driver,
      startupMs: Date.now() - startedAt,
      // The V8 heap limit (npm start and pm2 set --max-old-space-size): what this process may grow to.
      heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1_048_576),
    });
    return {
      app, statusUrl, metricsUrl, roles, hqUrl, redisUrl,
      stop: (stopOpts) => shutdown.stop(stopOpts),
    };
  } catch (err) {
    await shutdown.stop();
    throw err;
  }
}
