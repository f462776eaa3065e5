/**
 * `econnector status [--month YYYY-MM | --history] [--json]` (`npm run status -- …`): the month's
 * usage grid (or the last months, --history) in the terminal, read
 * from the running daemon's status server (STATUS_HOST / STATUS_PORT, through loadConfig, so the
 * same settings as the daemon's). Exit codes: 0 shown, 1 the daemon cannot be reached or failed,
 * 2 a bad option or setting. Every failure is one line on stderr.
 */
import { ConfigError, loadConfig } from '../config';
import type { StatusDocument, UsageHistory } from '../status/status-document';
import { renderUsage } from './usage-table';
import { intOption, parseCommandLine, show, UsageError } from '../util/cli-args';
import { renderHistory } from './history-table';
import { HISTORY_MONTHS_DEFAULT, HISTORY_MONTHS_MAX } from '../status/usage-history';

const HELP = `Usage: econnector status [--month YYYY-MM | --history [--months N]] [--json]
       (npm run status -- [options])

Shows the texting usage of every location for a month (default: this month, in OFFICE_TZ),
read from the running econnector's status server at STATUS_HOST:STATUS_PORT.

Options:
  --month YYYY-MM   the month to show, e.g. 2026-11
  --history         the last 12 months (all locations together) against the limit
  --months N        with --history: how many months (1-36)
  --json            print the status document as JSON instead of the table
  -h, --help        show this help`;

const REQUEST_TIMEOUT_MS = 5000;

export { UsageError };

export interface StatusArgs {
  month: string | null;
  json: boolean;
  /** --history: the last months (--months, default 12) instead of one month's grid. */
  history?: true;
  months?: number;
}

/** YYYY-MM with a month from 01 to 12 and a year from 2000 to 2999. */
export function checkMonth(value: string): string {
  if (!/^2\d{3}-(0[1-9]|1[0-2])$/.test(value)) {
    throw new UsageError(`--month must be YYYY-MM with a month from 01 to 12, e.g. 2026-11 (got ${show(value)})`);
  }
  return value;
}

export function parseArgs(argv: readonly string[]): StatusArgs | 'help' {
  const { values, help } = parseCommandLine(
    argv,
    { month: { type: 'string' }, json: { type: 'boolean' }, history: { type: 'boolean' }, months: { type: 'string' } },
    { needs: { month: 'a value: YYYY-MM, e.g. 2026-11', months: `a number of months (1-${HISTORY_MONTHS_MAX})` } },
  );
  if (help) return 'help';
  const args: StatusArgs = { month: values.month === undefined ? null : checkMonth(values.month), json: values.json === true };
  if (values.months !== undefined && !values.history) throw new UsageError('--months goes with --history');
  if (values.history) {
    if (args.month !== null) throw new UsageError('--history shows the months up to this one: leave out --month');
    args.history = true;
    args.months = intOption('months', values.months, 1, HISTORY_MONTHS_MAX) ?? HISTORY_MONTHS_DEFAULT;
  }
  return args;
}

/** Where to reach a server listening on `host`: a wildcard address is reached on loopback. */
export function statusBaseUrl(host: string, port: number): string {
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '::1' : host;
  return `http://${reach.includes(':') && !reach.startsWith('[') ? `[${reach}]` : reach}:${port}`;
}

export class StatusUnavailableError extends Error {}

export async function fetchStatus(baseUrl: string, month: string | null, timeoutMs = REQUEST_TIMEOUT_MS): Promise<StatusDocument> {
  const doc = (await fetchDocument(baseUrl, `/status${month ? `?month=${month}` : ''}`, timeoutMs)) as Partial<StatusDocument>;
  if (typeof doc.month !== 'string' || !Array.isArray(doc.clinics) || typeof doc.totals !== 'object') {
    throw new StatusUnavailableError(`${baseUrl}/status is not econnector's status document (is another program on that port?)`);
  }
  return doc as StatusDocument;
}

export async function fetchHistory(baseUrl: string, months: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<UsageHistory> {
  const doc = (await fetchDocument(baseUrl, `/status/history?months=${months}`, timeoutMs)) as Partial<UsageHistory>;
  if (!Array.isArray(doc.months) || typeof doc.timezone !== 'string') {
    throw new StatusUnavailableError(`${baseUrl}/status/history is not econnector's usage history (an older econnector, or another program on that port?)`);
  }
  return doc as UsageHistory;
}

/** GET `path` as JSON; every way it can fail is one line (StatusUnavailableError, or UsageError for a 400). */
async function fetchDocument(baseUrl: string, path: string, timeoutMs: number): Promise<unknown> {
  const url = `${baseUrl}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if ((err as Error).name === 'TimeoutError') throw new StatusUnavailableError(`no answer from the status server at ${baseUrl} within ${timeoutMs / 1000} s`);
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL' || code === 'ECONNRESET') {
      throw new StatusUnavailableError(`econnector is not running: nothing answers at ${baseUrl} (start it with npm start, or npx pm2 start ecosystem.config.js)`);
    }
    throw new StatusUnavailableError(`cannot reach the status server at ${baseUrl} (${code ?? (err as Error).message})`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new StatusUnavailableError(`${baseUrl} answered ${res.status} with something that is not econnector's status (is another program on that port?)`);
  }
  if (res.status === 400) throw new UsageError(`the daemon refused the month: ${String((body as { message?: unknown }).message ?? 'bad request')}`);
  if (!res.ok) throw new StatusUnavailableError(`the status server at ${baseUrl} answered ${res.status}`);
  return body;
}

export async function main(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const fail = (code: number, message: string): number => {
    process.stderr.write(`econnector status: ${message}\n`);
    return code;
  };
  try {
    const args = parseArgs(argv);
    if (args === 'help') {
      out.write(`${HELP}\n`);
      return 0;
    }
    const config = loadConfig();
    const base = statusBaseUrl(config.status.host, config.status.port);
    if (args.history) {
      const history = await fetchHistory(base, args.months!);
      out.write(args.json ? `${JSON.stringify(history, null, 2)}\n` : renderHistory(history));
      return 0;
    }
    const doc = await fetchStatus(base, args.month);
    out.write(args.json ? `${JSON.stringify(doc, null, 2)}\n` : renderUsage(doc));
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) return fail(2, err.message);
    if (err instanceof StatusUnavailableError) return fail(1, err.message);
    return fail(1, (err as Error).message.split('\n')[0] ?? 'failed');
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
