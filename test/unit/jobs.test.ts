/**
 * The jobs: one list (workers/index.ts), a job per file named after it, and what is derived from
 * the list (registry, schedule, poller ids) plus the shutdown's phases and its signals.
 */
import { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../src/config';
import { MAX_POLLERS } from '../../src/config/types';
import { SHUTDOWN_PHASES, Shutdown, ShutdownDeadlineError } from '../../src/daemon/shutdown';
import { REPEAT_WINDOW_MS, exitCodeFor, onStopRequest, type StopRequest } from '../../src/daemon/signals';
import { defineJob, type AnyJobDefinition } from '../../src/queues/job';
import { buildRegistry, JobRegistryError } from '../../src/queues/registry';
import { schedulePlan } from '../../src/scheduler';
import { ALL_JOBS } from '../../workers';
import { pollReceiptsJob } from '../../workers/poll-receipts';

const WORKERS_DIR = join(__dirname, '../../workers');
/** The files of workers/ that are not a job: the list itself and the services jobs pick from. */
const NOT_JOBS = new Set(['index.ts', 'services.ts']);

function silentLogger() {
  const lines: Array<{ level: string; message: string; meta: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, meta: Record<string, unknown> = {}) => void lines.push({ level, message, meta });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as never };
}

describe('the list of jobs', () => {
  it('holds every job file of workers/, each declaring one job named after its file', async () => {
    const files = readdirSync(WORKERS_DIR).filter((f) => f.endsWith('.ts') && !NOT_JOBS.has(f)).sort();
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const exported = Object.values((await import(join(WORKERS_DIR, file))) as Record<string, unknown>)
        .filter((v): v is AnyJobDefinition => typeof v === 'object' && v !== null && typeof (v as AnyJobDefinition).handler === 'function');
      expect({ file, jobs: exported.map((j) => j.name) }).toEqual({ file, jobs: [basename(file, '.ts')] });
      expect(ALL_JOBS).toContain(exported[0]);
    }
    expect(ALL_JOBS.map((j) => `${j.name}.ts`).sort()).toEqual(files);
    expect(() => buildRegistry(ALL_JOBS)).not.toThrow();
  });

  it('the registry refuses two handlers for one name, a job without a handler, a name BullMQ cannot use', () => {
    const job = (name: string, extra: object = {}): AnyJobDefinition => ({
      ...defineJob({ name, payload: z.strictObject({}), jobId: () => name, concurrency: () => 1, schedule: null, deps: () => null, handler: async () => 1 }),
      ...extra,
    });
    expect(() => buildRegistry([job('a'), job('b'), job('a')])).toThrow(new JobRegistryError("job 'a' has more than one handler"));
    expect(() => buildRegistry([job('a', { handler: undefined })])).toThrow(new JobRegistryError("job 'a' has no handler"));
    expect(() => buildRegistry([job('a', { payload: undefined })])).toThrow(new JobRegistryError("job 'a' has no payload schema"));
    expect(() => buildRegistry([job('poll:receipts')])).toThrow(JobRegistryError);
    expect(() => buildRegistry([])).toThrow(new JobRegistryError('no jobs'));
  });
});

describe('derived from the jobs', () => {
  const config = (over: object = {}) => loadConfig({ OFFICE_TZ: 'America/Chicago', ECONNECTOR_CONFIG: JSON.stringify(over) }, { configDir: join(__dirname, '../../config') });

  it('the schedule: every job with a schedule, one tick per cron expression, one poll job per poller', () => {
    const plan = schedulePlan(ALL_JOBS, config({ ingest: { pollers: { receipts: 3, inbound: 2 } }, schedule: { pollEverySeconds: 2, aggregatesEverySeconds: 3, accountSyncEveryMinutes: 5 } }));
    const jobs = plan.flatMap((t) => t.jobs.map((j) => ({ cron: t.cron, ...j })));
    expect(jobs.filter((j) => j.name === 'poll-receipts')).toEqual([0, 1, 2].map((poller) => ({ cron: '*/2 * * * * *', name: 'poll-receipts', payload: { poller } })));
    expect(jobs.filter((j) => j.name === 'poll-inbound').map((j) => j.payload)).toEqual([{ poller: 0 }, { poller: 1 }]);
    expect(jobs.find((j) => j.name === 'recompute-usage')?.cron).toBe('*/3 * * * * *');
    expect(jobs.find((j) => j.name === 'sync-account')?.cron).toBe('0 */5 * * * *');
    // Only the office and follow-ups queue sends.
    expect(jobs.some((j) => j.name === 'send-message')).toBe(false);
    // Ticks of one expression are one cron task.
    expect(new Set(plan.map((t) => t.cron)).size).toBe(plan.length);
    expect(new Set(ALL_JOBS.filter((j) => j.schedule).map((j) => j.name))).toEqual(new Set(jobs.map((j) => j.name)));
  });

  it('poll job ids: one per poller, a payload from before pollers is poller 0, none beyond MAX_POLLERS', () => {
    const parse = (p: object) => pollReceiptsJob.payload.safeParse(p);
    expect(pollReceiptsJob.jobId(parse({ poller: 1 }).data!)).toBe('poll-receipts-1');
    expect(parse({}).data).toEqual({ poller: 0 });
    expect(parse({ poller: MAX_POLLERS }).success).toBe(false);
    expect(parse({ poller: -1 }).success).toBe(false);
    expect(parse({ poller: 0, extra: 1 }).success).toBe(false);
    expect(pollReceiptsJob.concurrency(config({ ingest: { pollers: { receipts: 4 } } }))).toBe(4);
  });
});

describe('shutdown phases', () => {
  it('run in their fixed order whatever the order of registration, steps newest first within a phase, each logged; a failing step does not stop the rest', async () => {
    const { lines, logger } = silentLogger();
    const shutdown = new Shutdown(logger);
    const ran: string[] = [];
    for (const phase of [...SHUTDOWN_PHASES].reverse()) shutdown.add(phase, phase, async () => void ran.push(phase));
    shutdown.add('close queues', 'broken', async () => {
      throw new Error('boom');
    });
    shutdown.add('close queues', 'after broken', async () => void ran.push('after broken'));
    await shutdown.stop();
    expect(ran).toEqual([...SHUTDOWN_PHASES.slice(0, 4), 'after broken', 'close queues', ...SHUTDOWN_PHASES.slice(5)]);
    expect(lines.filter((l) => l.message === 'shutdown phase done').map((l) => l.meta.phase)).toEqual([...SHUTDOWN_PHASES]);
    expect(lines.find((l) => l.message === 'error while stopping')?.meta).toMatchObject({ component: 'broken', error: 'boom' });
    // Once only: a second stop is the first one.
    await shutdown.stop();
    expect(ran).toHaveLength(SHUTDOWN_PHASES.length + 1);
  });

  it('a phase still running at the deadline stops the shutdown with an error naming it', async () => {
    const { lines, logger } = silentLogger();
    const shutdown = new Shutdown(logger);
    let later = false;
    shutdown.add('close workers', 'stuck workers', () => new Promise(() => undefined));
    shutdown.add('close the database', 'database', async () => void (later = true));
    await expect(shutdown.stop({ deadlineMs: 50 })).rejects.toEqual(new ShutdownDeadlineError('close workers', 50));
    expect(later).toBe(false);
    expect(lines.find((l) => l.message === 'shutdown phase did not end by the deadline')?.meta).toMatchObject({ phase: 'close workers', steps: 'stuck workers' });
  });
});

describe('stop requests', () => {
  it('the first starts the shutdown, one within the repeat window is ignored, one after it forces the exit', () => {
    const emitter = new EventEmitter();
    const proc = emitter as unknown as NodeJS.Process;
    let now = 1_000;
    const seen: StopRequest[] = [];
    onStopRequest((r) => seen.push(r), proc, () => now);
    emitter.emit('SIGTERM');
    now += 10;
    emitter.emit('SIGINT');
    now += REPEAT_WINDOW_MS;
    emitter.emit('message', 'shutdown');
    emitter.emit('message', 'something else');
    expect(seen).toEqual([
      { kind: 'first', signal: 'SIGTERM' },
      { kind: 'repeat', signal: 'SIGINT', sinceFirstMs: 10 },
      { kind: 'force', signal: 'shutdown message', sinceFirstMs: 10 + REPEAT_WINDOW_MS },
    ]);
  });

  it('a forced exit says which signal ended it, as shells do', () => {
    expect(exitCodeFor('SIGINT')).toBe(130);
    expect(exitCodeFor('SIGTERM')).toBe(143);
    expect(exitCodeFor('shutdown message')).toBe(1);
  });
});
