'use strict';
/**
 * Is dist/ built from the TypeScript sources as they are now? `npm run build` ends with
 * `node bin/build-freshness.js --stamp`, which writes dist/.build-stamp; the econnector command
 * (bin/econnector.js) compares that stamp's time with the newest source file before it runs
 * anything, so a stale or missing build is one line saying how to rebuild instead of an old
 * daemon running, and `npm start` never compiles. Plain JavaScript: it runs before any build.
 *
 * The check reads file times only (a few hundred stat calls, about 2 ms). A package installed
 * without its sources (no src/ folder) has nothing to compare and passes.
 */
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
/** What the main build (tsconfig.build.json, src/status/page/tsconfig.json) compiles from. */
const SOURCE_DIRS = ['src', 'workers', 'config'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'src/status/page/tsconfig.json'];

/** The newest .ts source (or tsconfig) as { file, mtimeMs }. */
function newestSource(root = ROOT) {
  let newest = { file: null, mtimeMs: 0 };
  const consider = (file) => {
    const m = statSync(file).mtimeMs;
    if (m > newest.mtimeMs) newest = { file, mtimeMs: m };
  };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) consider(path);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  for (const f of SOURCE_FILES) if (existsSync(join(root, f))) consider(join(root, f));
  return newest;
}

/** null when the build is current; otherwise the one line to show. */
function buildProblem(root = ROOT) {
  if (!existsSync(join(root, 'src'))) return null;
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return 'econnector: not built yet: run `npm run setup` (or `npm run build`) first';
  const built = statSync(stamp).mtimeMs;
  const newest = newestSource(root);
  if (newest.mtimeMs > built) {
    return `econnector: the build is older than ${relative(root, newest.file)}: run \`npm run build\` (or start with \`npm run dev\`, which builds first)`;
  }
  return null;
}

function writeStamp() {
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}

module.exports = { buildProblem, newestSource, writeStamp, STAMP };

if (require.main === module) {
  if (process.argv[2] === '--stamp') writeStamp();
  else {
    const problem = buildProblem();
    if (problem) {
      process.stderr.write(`${problem}\n`);
      process.exit(2);
    }
    process.stdout.write('econnector: the build is current\n');
  }
}
