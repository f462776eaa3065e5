/**
 * Runs the HQ mock on its own: `node dist/src/hq-mock/cli.js [options]` (npm run hq-mock).
 * Prints one line with its URL, stops on SIGINT/SIGTERM. Bad flags stop it with one clear line.
 */
import { DEV_API_KEY } from './constants';
import { startHqMock, type HqMockOptions } from './server';

const HELP = `Usage: hq-mock [options]

Runs the development HQ texting API (CONTRACT.md section 1) plus its /sim control API.

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

export class UsageError extends Error {}

const DEMO = { backlogMessages: 2000, backlogInbound: 500, backlogDays: 45, perMinute: 6 };

function intFlag(name: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${name} needs an integer from ${min} to ${max}${raw === undefined ? '' : ` (got ${JSON.stringify(raw)})`}`);
  }
  return Number(raw);
}

function stringFlag(name: string, raw: string | undefined): string {
  if (raw === undefined || raw === '' || raw.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return raw;
}

/** Parses argv (without node and script) into mock options, or 'help'. Throws UsageError. */
export function parseArgs(argv: readonly string[]): (HqMockOptions & { port: number }) | 'help' {
  const opts: HqMockOptions & { port: number } = { port: 4010 };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = () => (inline !== undefined ? inline : argv[++k]);
    switch (name) {
      case '-h':
      case '--help':
        return 'help';
      case '--port':
        opts.port = intFlag('--port', value(), 0, 65535);
        break;
      case '--host':
        opts.host = stringFlag('--host', value());
        break;
      case '--api-key':
        opts.apiKey = stringFlag('--api-key', value());
        break;
      case '--lease-ms':
        opts.leaseMs = intFlag('--lease-ms', value(), 1, 7 * 86_400_000);
        break;
      case '--receipt-delay-ms':
        opts.receiptDelayMs = intFlag('--receipt-delay-ms', value(), 0, 86_400_000);
        break;
      case '--monthly-limit': {
        const v = stringFlag('--monthly-limit', value());
        if (!/^\d+(\.\d{1,6})?$/.test(v)) throw new UsageError(`--monthly-limit needs a USD amount like 50.00 (got ${JSON.stringify(v)})`);
        opts.monthlyLimitUsd = v;
        break;
      }
      case '--seed':
        opts.seed = intFlag('--seed', value(), 0, 0xffffffff);
        break;
      case '--demo':
        if (inline !== undefined) throw new UsageError('--demo takes no value');
        opts.demo = DEMO;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(arg)} (try --help)`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`hq-mock: ${err.message}\n`);
    process.exit(2);
  }
  if (parsed === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
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
}

if (require.main === module) {
  main().catch((err: unknown) => {
    const code = (err as { code?: string }).code;
    const msg = code === 'EADDRINUSE' ? 'the port is already in use (choose another with --port)' : err instanceof Error ? err.message : String(err);
    process.stderr.write(`hq-mock: cannot start: ${msg}\n`);
    process.exit(1);
  });
}
