// ESLint (flat config): `npm run lint`, run by `npm test`. Type-aware rules are left out on
// purpose: `tsc` already checks types in `npm run typecheck`, and the lint must stay fast in CI.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/ (and workers/) from the bottom up. A folder may import (at runtime or for a
 * type) only from the folders before it, never from one after it, so the layers cannot grow a
 * cycle: money, util and texting know nothing of the connector; config and log sit on them; db
 * holds every table's SQL that more than one layer needs (src/db/store); hq speaks to HQ; usage
 * counts; office and ingest act on messages; metrics, status and the scheduler read and report;
 * workers/ defines the jobs, the daemon wires everything, the CLI starts it.
 */
const LAYERS = [
  'src/money.ts',
  'src/util',
  'src/texting',
  'src/config',
  'src/log',
  'src/db',
  'src/queues',
  'src/hq',
  'src/usage',
  'src/office',
  'src/ingest',
  'src/metrics',
  'src/status',
  'src/scheduler',
  'src/hq-mock',
  'workers',
  'src/daemon',
  'src/cli',
];

const layerZones = LAYERS.slice(0, -1).map((target, i) => ({
  target,
  from: LAYERS.slice(i + 1),
  message: `${target} is below these folders in the layers (eslint.config.mjs, LAYERS): a lower folder never imports a higher one.`,
}));

/** The HQ mock stands in for HQ: it shares the connector's bottom layers only, never its logic. */
const mockZone = {
  target: 'src/hq-mock',
  from: ['src/log', 'src/db', 'src/queues', 'src/hq', 'src/usage', 'src/office', 'src/ingest', 'src/metrics', 'src/status', 'src/scheduler'],
  message: 'The HQ mock may use only money, util, texting and config: it must not share the code it tests.',
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
      reportUnusedInlineConfigs: 'error',
    },
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x reads no .ts file it imports, and no-cycle sees no edge at all.
      'import-x/extensions': ['.ts', '.d.ts', '.js', '.cjs', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/no-useless-path-segments': 'error',
      'import-x/no-restricted-paths': ['error', { zones: [...layerZones, mockZone] }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Matching control characters is the point where a regex has them: stripping them from
      // terminal output and rejecting them in ids and config values.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts', 'workers/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts', 'config/**/*.ts'],
    ignores: ['src/status/page/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The page's browser script (its own tsconfig, no bundler).
    files: ['src/status/page/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.jest } },
    // Tests poke into JSON documents (/status, OpenAPI, log lines) whose exact shape is what they assert.
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
