/**
 * `econnector <command> [options]`: the one entry point of every tool (bin/econnector.js calls
 * `run`). Global options are `--help` and `--version`; everything after the command name belongs
 * to the command (each has its own `--help`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../config';
import { UsageError } from '../util/cli-args';
import { usePrivateUmask } from '../util/private-files';
import { COMMANDS } from './commands';

/** package.json's version: the nearest package.json above this module (dist/src/cli or src/cli). */
export function version(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: string };
      if (pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json with a version above ${from}`);
  }
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: econnector <command> [options]

The office connector for dental texting: brings HQ delivery receipts and patient replies into the
office database exactly once and reports each clinic's monthly usage.

Commands:
${lines.join('\n')}

Options:
  -h, --help      show this help (econnector <command> --help: the command's own)
  -v, --version   print the version

Settings come from config/*.json and the environment (econnector check-config shows them).
In the project folder: npx econnector <command>, or the npm scripts (npm start, npm run status, ...).`;
}

export async function run(argv: readonly string[]): Promise<number> {
  // What any command writes (the database, backups, logs) holds patient data: private to this account.
  usePrivateUmask();
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === 'help' && rest[0] && COMMANDS[rest[0]]) return (await COMMANDS[rest[0]]!.load()).main(['--help']);
    (first === undefined ? process.stderr : process.stdout).write(`${usage()}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') {
    process.stdout.write(`econnector ${version()}\n`);
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) {
    process.stderr.write(`econnector: unknown command ${JSON.stringify(first.slice(0, 40))} (commands: ${Object.keys(COMMANDS).join(', ')}; see econnector --help)\n`);
    return 2;
  }
  try {
    return await (await command.load()).main(rest);
  } catch (err) {
    // Bad use and bad settings are one line and exit code 2 in every command.
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`econnector ${first}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
