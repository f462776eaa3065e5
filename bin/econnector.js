#!/usr/bin/env node
'use strict';
/**
 * The `econnector` command (package.json "bin"; `npx econnector …` in the project folder). It
 * runs the built JavaScript in dist/ and never compiles: a missing or stale build is one line
 * saying how to rebuild, and exit code 2 (a supervisor must not restart in a loop on it).
 * Everything else is src/cli/main.ts.
 */
const { buildProblem } = require('./build-freshness');

const problem = buildProblem();
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}

require('../dist/src/cli/main.js')
  .run(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`econnector: ${err && err.stack ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
