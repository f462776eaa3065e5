/**
 * The office's local state (the SQLite database and its -wal/-shm, logs, the embedded Redis'
 * queue data, backups) holds patient data: it is private to the account the daemon runs as.
 * Every process of ours runs with umask 077, so what it creates is 0600 (files) or 0700
 * (folders) whatever the account's default; what an earlier version or another tool left more
 * open under DATA_DIR is tightened at start (docs/security.md).
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** Group and others get nothing. */
export const PRIVATE_UMASK = 0o077;

/** Sets this process's umask (children inherit it: the embedded redis-server too). */
export function usePrivateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

/** How deep tightenTree looks: DATA_DIR holds a few folders (redis/, logs/, backups/), never a deep tree. */
const MAX_DEPTH = 6;

function ownedByUs(st: Stats): boolean {
  return typeof process.getuid !== 'function' || st.uid === process.getuid();
}

/**
 * Takes the group and other bits off `path` and everything under it that this account owns
 * (symbolic links are neither followed nor changed). Returns the paths it changed.
 */
export function tightenTree(path: string, depth = 0): string[] {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return [];
  }
  if (st.isSymbolicLink() || !ownedByUs(st)) return [];
  const changed: string[] = [];
  if ((st.mode & 0o077) !== 0) {
    chmodSync(path, st.mode & 0o7700);
    changed.push(path);
  }
  if (st.isDirectory() && depth < MAX_DEPTH) {
    for (const name of readdirSync(path)) changed.push(...tightenTree(join(path, name), depth + 1));
  }
  return changed;
}

/** Creates `dir` (0700) if needed and tightens it and what is under it. Returns the paths it changed. */
export function privateDir(dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return tightenTree(dir);
}
