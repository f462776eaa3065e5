import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTag } from './our-processes';

/**
 * A fresh temporary directory and its removal, for one test file. Its name carries the jest run's
 * tag (our-processes.ts), so a process left running in it is found by the run's tear-down.
 */
export function tempDir(prefix = 'econnector-test-'): { path: string; remove(): void } {
  const tag = runTag();
  const path = mkdtempSync(join(tmpdir(), tag === undefined ? prefix : `${prefix}${tag}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
