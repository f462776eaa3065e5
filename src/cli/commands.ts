/**
 * The subcommands of `econnector`, in the order `econnector --help` lists them. Each is loaded
 * only when it runs (the daemon's libraries take a second to require; `check-config` and
 * `--help` should not wait for them). A command module exports `main(argv)`, which returns the
 * exit code (0 done, 1 failed, 2 bad use or setting) or never settles while it serves.
 *
 * Adding a command is one entry here plus its module under src/cli/.
 */
export interface CommandModule {
  main(argv: readonly string[]): Promise<number>;
}

export interface Command {
  summary: string;
  /** The npm script that runs it, when there is one (`npm run <alias> -- …`). */
  npmAlias?: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  start: { summary: 'run the daemon (all roles, or ECONNECTOR_ROLES) until SIGINT/SIGTERM', npmAlias: 'start', load: () => import('./start') },
  status: { summary: "show a month's texting usage, or the last 12 months (--history)", npmAlias: 'status', load: () => import('./status') },
  'check-config': { summary: 'validate the settings and print the effective configuration, secrets masked', npmAlias: 'check-config', load: () => import('./check-config') },
  migrate: { summary: 'apply pending database migrations (or list them with --dry-run)', npmAlias: 'migrate', load: () => import('./migrate') },
  backup: { summary: 'write a consistent copy of the SQLite database while the daemon runs', npmAlias: 'backup', load: () => import('./backup') },
  'import-patients': { summary: 'import patients from a CSV file into the office database', npmAlias: 'import:patients', load: () => import('./import-patients') },
  'export-commlog': { summary: 'write the communication log after an id to stdout (CSV or JSON lines)', npmAlias: 'export:commlog', load: () => import('./export-commlog') },
  'hq-mock': { summary: 'run the development HQ texting API on its own', npmAlias: 'hq-mock', load: () => import('../hq-mock/cli') },
};
