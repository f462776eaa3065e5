/**
 * Command-line options for every econnector command, on `node:util`'s parseArgs: one place that
 * turns its errors into one plain line (UsageError, exit code 2 by convention) and checks values
 * (integers in a range, one of a list) the same way everywhere.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad use of a command: the message is one line, shown as `econnector <command>: <message>`. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
}

/**
 * Parses argv (without node and the script) strictly: unknown options, a missing value or a value
 * given to a flag are UsageErrors. `--help`/`-h` is always accepted and reported as `help: true`.
 */
export function parseCommandLine<O extends Options>(
  argv: readonly string[],
  options: O,
  opts: {
    positionals?: { min: number; max: number; what: string };
    /** What a value option needs, for the "needs ..." message when it is given none (default "a value"). */
    needs?: Partial<Record<keyof O & string, string>>;
  } = {},
): Parsed<O> & { help: boolean } {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as O;
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err as Error & { code?: string }, (opts.needs ?? {}) as Record<string, string>));
  }
  const help = parsed.values.help === true;
  delete parsed.values.help;
  const pos = opts.positionals ?? { min: 0, max: 0, what: '' };
  if (!help) {
    if (parsed.positionals.length > pos.max) {
      const extra = parsed.positionals[pos.max]!;
      throw new UsageError(pos.max === 0 ? `unexpected argument ${show(extra)} (see --help)` : `too many arguments: ${show(extra)} (see --help)`);
    }
    if (parsed.positionals.length < pos.min) throw new UsageError(`give ${pos.what} (see --help)`);
  }
  return { values: parsed.values as Parsed<O>['values'], positionals: parsed.positionals, help };
}

/** node:util's messages are long and mention `strict: false`; a user needs the option's name. */
function describeParseError(err: Error & { code?: string }, needs: Record<string, string>): string {
  const m = err.message;
  const option = /'(-{1,2}[^'\s]+)/.exec(m)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ? show(option) : ''} (see --help)`.replace('  ', ' ');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (!/argument missing|ambiguous/.test(m)) return `${option ?? 'a flag'} takes no value`;
      return `${option ?? 'an option'} needs ${(option && needs[option.replace(/^-+/, '')]) || 'a value'} (see --help)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument (see --help)`;
    default:
      return m.split('\n')[0]!;
  }
}

/** A value as shown in a message: quoted, at most 40 characters. */
export function show(value: string): string {
  return JSON.stringify(value.slice(0, 40));
}

/** An integer option from `min` to `max`; undefined stays undefined. */
export function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} needs an integer from ${min} to ${max} (got ${show(raw)})`);
  }
  return Number(raw);
}

/** A non-empty string option. */
export function stringOption(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw === '' || raw.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  return raw;
}
