/**
 * The shape of the settings in config/*.json and ECONNECTOR_CONFIG, after deep-merging. Objects
 * are strict, so a misspelt key is an error rather than a setting silently ignored. The settings
 * that have fixed environment variables (README.md, Settings) are only type-checked here: their
 * values are checked in settings.ts, the same way whether they came from a file or the environment.
 */
import { z } from 'zod';
import { MAX_POLLERS, ROLES, UNKNOWN_TEXT_OK_POLICIES } from './types';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
/** A string setting that may be left unset: null (or an empty string) means "not set". */
const optionalString = z.string().nullable();

export const demoSchema = z.strictObject({
  backlogMessages: int(0, 10_000_000),
  backlogInbound: int(0, 10_000_000),
  backlogDays: int(0, 365),
  perMinute: int(0, 600_000),
});

export const fileSettingsSchema = z.strictObject({
  dataDir: z.string().min(1),
  officeTz: optionalString,
  hq: z.strictObject({
    url: optionalString,
    apiKey: optionalString,
    timeoutMs: int(100, 600_000),
    pageSize: int(1, 1000),
    backoff: z.strictObject({ baseMs: int(1, 600_000), maxMs: int(1, 3_600_000) }),
  }),
  hqMock: z.strictObject({
    // The object branch last: describeZodIssue relies on it to explain a bad demo object.
    demo: z.union([z.literal(false), demoSchema]),
    leaseMs: int(100, 3_600_000),
  }),
  redis: z.strictObject({ url: optionalString }),
  database: z.strictObject({ url: optionalString }),
  status: z.strictObject({ host: z.string().min(1), port: z.number(), allowedHosts: z.array(z.string().min(1).max(253)).max(100) }),
  apiToken: optionalString,
  logLevel: z.string().min(1),
  log: z.strictObject({ file: optionalString, format: z.string().min(1) }),
  queue: z.strictObject({ prefix: z.string().regex(/^[A-Za-z0-9_:-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ : or -' }) }),
  // What a cron step can say (src/scheduler everySeconds, everyMinutes): a larger value used to
  // pass here and stop the daemon later with a RangeError.
  schedule: z.strictObject({
    pollEverySeconds: int(1, 59),
    aggregatesEverySeconds: int(1, 59),
    accountSyncEveryMinutes: int(1, 59),
  }),
  ingest: z.strictObject({
    maxPagesPerJob: int(1, 10_000),
    maxJobSeconds: int(1, 3600),
    // Poll jobs per stream across all processes (src/config/types.ts says why the bound).
    pollers: z.strictObject({ receipts: int(1, MAX_POLLERS), inbound: int(1, MAX_POLLERS) }),
  }),
  readiness: z.strictObject({
    pollWarnSeconds: int(1, 86_400),
    pollFailSeconds: int(1, 86_400),
    queueWarnSeconds: int(1, 86_400),
    queueFailSeconds: int(1, 86_400),
  }),
  roles: z.array(z.enum(ROLES)).min(1),
  metrics: z.strictObject({ port: z.number().nullable() }),
  shutdown: z.strictObject({ deadlineMs: int(100, 600_000) }),
  // A test hook (docs/testing.md), absent from config/default.json and refused outside NODE_ENV=test.
  testClock: z.strictObject({ offsetMs: int(-1e13, 1e13) }).optional(),
  texting: z.strictObject({ unknownTextOk: z.enum(UNKNOWN_TEXT_OK_POLICIES) }),
});

export type FileSettings = z.infer<typeof fileSettingsSchema>;

/** Own messages from the checks above; other zod messages are rephrased rather than repeated. */
const OWN_MESSAGES: ReadonlySet<string> = new Set(['must be 1-64 letters, digits, _ : or -']);

export type PathKey = string | number;

/** One problem per line-fragment: the path of the bad key and what is wrong with it. */
export interface SettingProblem {
  path: PathKey[];
  problem: string;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Explains the first zod issue in words ("must be at most 1000", "unknown setting"), without echoing values. */
export function describeZodIssue(issue: z.core.$ZodIssue, root: unknown): SettingProblem {
  const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
  switch (issue.code) {
    case 'invalid_value':
      return { path, problem: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'invalid_type':
      return { path, problem: valueAt(root, path) === undefined ? 'is missing' : `must be ${article(issue.expected)}` };
    case 'too_small':
      return { path, problem: issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}` };
    case 'too_big':
      return { path, problem: `must be at most ${String(issue.maximum)}` };
    case 'unrecognized_keys':
      return { path: [...path, issue.keys[0] ?? '?'], problem: 'unknown setting' };
    case 'invalid_union': {
      const branches = issue.errors;
      const objectBranch = branches[branches.length - 1];
      if (isPlainObject(valueAt(root, path)) && objectBranch?.[0]) {
        const inner = describeZodIssue(objectBranch[0], valueAt(root, path));
        return { path: [...path, ...inner.path], problem: inner.problem };
      }
      return { path, problem: 'must be false or an object' };
    }
    default:
      return { path, problem: OWN_MESSAGES.has(issue.message) ? issue.message : `is not valid (${issue.code})` };
  }
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
