/**
 * Readiness in the application/health+json form (draft-inadarei-api-health-check): each check is
 * an array of results; the overall status is the worst of them. Readiness looks at PROGRESS — the
 * age of the last good poll of each HQ stream — not only at pings: a worker stuck reconnecting to
 * Redis answers no ping questions but stops polling, and that is what shows.
 */
export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  status: HealthStatus;
  /** Which instance of the component this result is about (e.g. a queue name). */
  componentId?: string;
  componentType?: string;
  observedValue?: number | string;
  observedUnit?: string;
  output?: string;
  time: string;
}

export interface HealthDocument {
  status: HealthStatus;
  checks: Record<string, CheckResult[]>;
}

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

export function worst(statuses: Iterable<HealthStatus>): HealthStatus {
  let out: HealthStatus = 'pass';
  for (const s of statuses) if (RANK[s] > RANK[out]) out = s;
  return out;
}

export function healthDocument(checks: Record<string, CheckResult | CheckResult[]>): HealthDocument {
  const lists = Object.entries(checks).map(([k, v]): [string, CheckResult[]] => [k, Array.isArray(v) ? v : [v]]);
  return {
    status: worst(lists.flatMap(([, list]) => list.map((c) => c.status))),
    checks: Object.fromEntries(lists),
  };
}

/**
 * Judges a stream by the age of its last good poll. Before the first poll of this process, a
 * stream gets `failSeconds` of grace from start-up (warn), so a fresh start is not reported dead.
 */
export function pollAgeCheck(opts: {
  lastOkAt: number | null;
  lastError: string | null;
  startedAt: number;
  now: number;
  warnSeconds: number;
  failSeconds: number;
}): CheckResult {
  const time = new Date(opts.now).toISOString();
  const since = opts.lastOkAt !== null && opts.lastOkAt >= opts.startedAt ? opts.lastOkAt : null;
  if (since === null) {
    const upSeconds = (opts.now - opts.startedAt) / 1000;
    return {
      status: upSeconds < opts.failSeconds ? 'warn' : 'fail',
      output: `no good poll since start-up ${Math.round(upSeconds)} s ago${opts.lastError ? `; last error: ${opts.lastError}` : ''}`,
      time,
    };
  }
  const age = Math.max(0, (opts.now - since) / 1000);
  const status: HealthStatus = age >= opts.failSeconds ? 'fail' : age >= opts.warnSeconds ? 'warn' : 'pass';
  return {
    status,
    observedValue: Math.round(age * 10) / 10,
    observedUnit: 's',
    ...(status !== 'pass' ? { output: `last good poll ${Math.round(age)} s ago${opts.lastError ? `; last error: ${opts.lastError}` : ''}` } : {}),
    time,
  };
}

/** Runs a probe with a deadline; a probe that throws or runs late fails. */
export async function probe(run: () => Promise<unknown>, timeoutMs: number, now: () => number = Date.now): Promise<CheckResult> {
  const started = now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'pass', observedValue: now() - started, observedUnit: 'ms', time: new Date(now()).toISOString() };
  } catch (err) {
    return { status: 'fail', output: (err as Error).message.slice(0, 200), time: new Date(now()).toISOString() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Judges a queue by progress, from state every process shares (Redis): a queue is stuck when a
 * job has waited for `failSeconds` and no job of the queue has completed in that time either, in
 * any process (no worker running, or all wedged). A job waiting for `warnSeconds` warns (workers
 * are slow or busy). An empty queue passes, however long ago its last job ran.
 */
export function queueProgressCheck(opts: {
  queue: string;
  waiting: number;
  oldestWaitingAt: number | null;
  lastCompletedAt: number | null;
  now: number;
  warnSeconds: number;
  failSeconds: number;
}): CheckResult {
  const time = new Date(opts.now).toISOString();
  const base = { componentId: opts.queue, componentType: 'queue', observedUnit: 's', time };
  if (opts.waiting === 0 || opts.oldestWaitingAt === null) return { status: 'pass', ...base, observedValue: 0 };
  const age = Math.max(0, (opts.now - opts.oldestWaitingAt) / 1000);
  const observedValue = Math.round(age * 10) / 10;
  if (age < opts.warnSeconds) return { status: 'pass', ...base, observedValue };
  const sinceCompletion = opts.lastCompletedAt === null ? null : Math.max(0, (opts.now - opts.lastCompletedAt) / 1000);
  const stalled = age >= opts.failSeconds && (sinceCompletion === null || sinceCompletion >= opts.failSeconds);
  const jobs = `${opts.waiting} job${opts.waiting === 1 ? '' : 's'} waiting, the oldest for ${Math.round(age)} s`;
  const last = sinceCompletion === null ? 'no job completed yet' : `last job completed ${Math.round(sinceCompletion)} s ago`;
  return {
    status: stalled ? 'fail' : 'warn',
    ...base,
    observedValue,
    output: `${jobs}; ${last}${stalled ? ' (are the workers running?)' : ''}`,
  };
}
