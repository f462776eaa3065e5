/**
 * Runs the HQ mock on its own: `econnector hq-mock [options]` (npm run hq-mock).
 * Prints one line with its URL, stops on SIGINT/SIGTERM. Bad flags stop it with one clear line.
 */
import { DEV_API_KEY } from '../config/dev-hq';
import { startHqMock, type HqMockOptions } from './server';
import { intOption, parseCommandLine, show, stringOption, UsageError } from '../util/cli-args';

const HELP = `Usage: econnector hq-mock [options]        (npm run hq-mock -- [options])

Runs the development HQ texting API (docs/hq-api.md) plus its /sim control API.

Options:
  --port N               port to listen on; 0 picks a free one (default 4010)
  --host H               address to listen on (default 127.0.0.1)
  --api-key K            bearer key clients must send (default: the development key "${DEV_API_KEY}")
  --lease-ms N           lease of a served item in ms of mock time (default 60000)
  --receipt-delay-ms N   mock-time delay before a sent message's first receipt (default 2000)
  --monthly-limit USD    the office's monthly limit, e.g. 50.00 (default 50.00)
  --seed N               seed for outcomes, traffic and faults (default 1)
  --demo                 seed a backlog and keep adding a trickle of new traffic
  -h, --help             show this help

Every /v1 and /sim request needs "Authorization: Bearer <key>". See /sim/* for the clock,
settings, traffic generation, faults, ground truth and counters.`;

export { UsageError };

const DEMO = { backlogMessages: 2000, backlogInbound: 500, backlogDays: 45, perMinute: 6 };

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string' },
  'lease-ms': { type: 'string' },
  'receipt-delay-ms': { type: 'string' },
  'monthly-limit': { type: 'string' },
  seed: { type: 'string' },
  demo: { type: 'boolean' },
} as const;

/** Parses argv (without node and script) into mock options, or 'help'. Throws UsageError. */
export function parseArgs(argv: readonly string[]): (HqMockOptions & { port: number }) | 'help' {
  const { values: v, help } = parseCommandLine(argv, OPTIONS, {
    needs: { port: 'an integer from 0 to 65535', 'lease-ms': 'an integer', 'receipt-delay-ms': 'an integer', seed: 'an integer' },
  });
  if (help) return 'help';
  const opts: HqMockOptions & { port: number } = { port: intOption('port', v.port, 0, 65535) ?? 4010 };
  const host = stringOption('host', v.host);
  if (host !== undefined) opts.host = host;
  const apiKey = stringOption('api-key', v['api-key']);
  if (apiKey !== undefined) opts.apiKey = apiKey;
  const leaseMs = intOption('lease-ms', v['lease-ms'], 1, 7 * 86_400_000);
  if (leaseMs !== undefined) opts.leaseMs = leaseMs;
  const receiptDelayMs = intOption('receipt-delay-ms', v['receipt-delay-ms'], 0, 86_400_000);
  if (receiptDelayMs !== undefined) opts.receiptDelayMs = receiptDelayMs;
  const limit = stringOption('monthly-limit', v['monthly-limit']);
  if (limit !== undefined) {
    if (!/^\d+(\.\d{1,6})?$/.test(limit)) throw new UsageError(`--monthly-limit needs a USD amount like 50.00 (got ${show(limit)})`);
    opts.monthlyLimitUsd = limit;
  }
  const seed = intOption('seed', v.seed, 0, 0xffffffff);
  if (seed !== undefined) opts.seed = seed;
  if (v.demo) opts.demo = DEMO;
  return opts;
}

/** `econnector hq-mock`: serves until SIGINT/SIGTERM (the promise settles only on a start-up failure). */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const mock = await startHqMock({
    ...parsed,
    logger: { info: () => undefined, warn: (msg, meta) => process.stderr.write(`hq-mock: ${msg}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`) },
  });
  process.stdout.write(`hq-mock listening on ${mock.url}${parsed.demo ? ' (demo traffic on)' : ''}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    mock.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`hq-mock: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise<number>(() => undefined);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`hq-mock: ${err.message}\n`);
      process.exit(2);
    }
    const code = (err as { code?: string }).code;
    const msg = code === 'EADDRINUSE' ? 'the port is already in use (choose another with --port)' : err instanceof Error ? err.message : String(err);
    process.stderr.write(`hq-mock: cannot start: ${msg}\n`);
    process.exit(1);
  });
}
