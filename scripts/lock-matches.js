'use strict';
/**
 * Exit 0 when node_modules holds exactly the packages of package-lock.json, 1 otherwise: setup
 * runs `npm ci` (a minute or more, native modules compiled) only when it would change something.
 * Compares npm's own record of what it installed (node_modules/.package-lock.json) with the lock
 * file, package by package (path, version); optional packages not installed here (other platforms)
 * do not count.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
function packages(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).packages || {};
  } catch {
    return null;
  }
}
const wanted = packages(join(root, 'package-lock.json'));
const installed = packages(join(root, 'node_modules', '.package-lock.json'));
if (!wanted || !installed) process.exit(1);
for (const [path, meta] of Object.entries(wanted)) {
  if (path === '' || meta.link) continue;
  const have = installed[path];
  if (!have) {
    if (meta.optional) continue;
    process.stderr.write(`setup: node_modules lacks ${path}\n`);
    process.exit(1);
  }
  if (have.version !== meta.version) {
    process.stderr.write(`setup: node_modules has ${path} ${have.version}, the lock file ${meta.version}\n`);
    process.exit(1);
  }
}
for (const path of Object.keys(installed)) {
  if (!(path in wanted)) {
    process.stderr.write(`setup: node_modules has ${path}, which the lock file does not list\n`);
    process.exit(1);
  }
}
process.exit(0);
