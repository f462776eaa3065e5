/**
 * `econnector check-config`: loads the settings exactly as the daemon does (config/*.json,
 * ECONNECTOR_CONFIG, the environment), and prints the effective configuration with every secret
 * masked. A bad setting is the daemon's own one line and exit code 2, so a deployment can check
 * an environment file before (re)starting the service.
 */
import { loadConfig, type Config } from '../config';
import { DEV_API_KEY } from '../config/dev-hq';
import { parseCommandLine } from '../util/cli-args';

const HELP = `Usage: econnector check-config [--json]        (npm run check-config)

Validates the settings (config/default.json, config/<NODE_ENV>.json, ECONNECTOR_CONFIG and the
environment variables, in that order) and prints the effective configuration. Secrets (HQ_API_KEY,
API_TOKEN, passwords in REDIS_URL and DATABASE_URL) are masked. Exit code 2 and one line naming
the setting when one is bad.

Options:
  --json       print the configuration as one JSON document
  -h, --help   show this help`;

/** What a secret is replaced with: whether it is set, never any of its characters. */
export const MASK = '********';

/** The password of a URL, masked; a URL without one is returned as it is. */
export function maskUrlPassword(url: string): string {
  // A unix socket's path (REDIS_URL=unix:///…) carries no password.
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = MASK;
    return u.toString();
  } catch {
    return MASK;
  }
}

/** The configuration as it may be shown on a screen or pasted into a support ticket. */
export function maskedConfig(config: Readonly<Config>): unknown {
  return {
    ...config,
    hq: { ...config.hq, apiKey: config.hq.url === null && config.hq.apiKey === DEV_API_KEY ? "(the HQ mock's development key)" : MASK },
    redis: { url: config.redis.url === null ? null : maskUrlPassword(config.redis.url) },
    database: config.database.driver === 'postgresql' ? { ...config.database, url: maskUrlPassword(config.database.url) } : config.database,
    apiToken: config.apiToken === null ? null : MASK,
  };
}

/** `a.b.c  value` lines, one per setting, for a person. */
export function settingLines(value: unknown, prefix = ''): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => settingLines(v, prefix ? `${prefix}.${k}` : k));
  }
  return [`${prefix}  ${JSON.stringify(value)}`];
}

export async function main(argv: readonly string[]): Promise<number> {
  const { values, help } = parseCommandLine(argv, { json: { type: 'boolean' } });
  if (help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const shown = maskedConfig(loadConfig());
  if (values.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  else {
    const lines = settingLines(shown);
    const width = Math.max(...lines.map((l) => l.indexOf('  ')));
    for (const l of lines) {
      const cut = l.indexOf('  ');
      process.stdout.write(`${l.slice(0, cut).padEnd(width)}  ${l.slice(cut + 2)}\n`);
    }
    process.stderr.write('econnector check-config: the settings are valid\n');
  }
  return 0;
}
