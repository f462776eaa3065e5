/**
 * Checks and resolves the settings with fixed environment variables (README.md, Settings).
 * Each function gets the setting's label (the variable name, or "<file>: <key path>" when the
 * value came from a file) and throws ConfigError with one line: "<label>: <what is wrong>".
 * Secrets and URLs (which may carry passwords) are never echoed; other values are, shortened.
 */
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { isValidTimeZone } from '../util/time-zone';
import { ConfigError, LOG_FORMATS, LOG_LEVELS, ROLES, type DatabaseTarget, type LogFormat, type LogLevel, type Role } from './types';

/** A value quoted for an error message: one line, at most 60 characters. */
function quote(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `'${JSON.stringify(short).slice(1, -1)}'`;
}

function fail(label: string, problem: string): never {
  throw new ConfigError(`${label}: ${problem}`);
}

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** The system's IANA zone, as Node reports it (UTC when it cannot tell). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** A known IANA zone, in its canonical spelling ('america/chicago' -> 'America/Chicago'). */
export function checkTimeZone(label: string, value: string): string {
  if (!isValidTimeZone(value)) fail(label, `${quote(value)} is not a known IANA time zone`);
  return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
}

/**
 * True for a name or address that only this machine can reach: localhost, 127.0.0.0/8, ::1
 * (brackets allowed, as in URLs and Host headers), and IPv4-mapped loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/**
 * HQ's base URL: https, no query or fragment; trailing slashes dropped. Plain http only to a
 * loopback address (the built-in mock, a local test HQ): anywhere else the office's key and its
 * patients' texts would cross the network in clear.
 */
export function checkHqUrl(label: string, value: string): string {
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail(label, 'must be an http:// or https:// URL');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) fail(label, 'must be an https:// URL (http:// only to a loopback address: 127.0.0.1, ::1, localhost)');
  if (url.search || url.hash) fail(label, 'must be a base URL without a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/**
 * redis:// or rediss:// (TCP), or unix:///absolute/path/redis.sock, a Redis that listens on a
 * unix socket (as the embedded one does); the socket is returned as its bare path, the form
 * ioredis connects to.
 */
export function checkRedisUrl(label: string, value: string): string {
  const socket = /^unix:\/\/(\/.*)$/i.exec(value);
  if (socket) {
    const path = socket[1]!;
    if (path.includes('?') || path.includes('#') || path.endsWith('/')) fail(label, 'must name a socket file: unix:///path/to/redis.sock');
    return path;
  }
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || !url.hostname) {
    fail(label, 'must be a redis:// or rediss:// URL, or unix:///path/to/redis.sock');
  }
  return value;
}

/**
 * sqlite:<path>, sqlite://<path>, file:<path> (relative paths against cwd; 'sqlite:///abs' is
 * absolute), or a postgres:// / postgresql:// URL.
 */
export function checkDatabaseUrl(label: string, value: string, cwd: string): DatabaseTarget {
  const sqlite = /^(?:sqlite|file):(?:\/\/)?(.*)$/i.exec(value);
  if (sqlite) {
    const path = sqlite[1]!;
    if (path === '') fail(label, 'names no database file');
    if (path === ':memory:') fail(label, 'an in-memory database cannot hold the office data');
    return { driver: 'sqlite', path: resolve(cwd, path) };
  }
  if (/^postgres(?:ql)?:\/\//i.test(value)) {
    const url = parseUrl(value);
    if (!url || !url.hostname) fail(label, 'is not a valid postgres:// URL');
    return { driver: 'postgresql', url: value };
  }
  return fail(label, 'must be sqlite:<path>, file:<path>, or a postgres:// or postgresql:// URL');
}

export function checkHost(label: string, value: string): string {
  if (!/^[A-Za-z0-9._:%[\]-]{1,253}$/.test(value)) fail(label, `${quote(value)} is not a host name or IP address`);
  return value;
}

/** 1..65535, or 0 for any free port (tests). */
export function checkPort(label: string, value: string | number): number {
  const n = typeof value === 'number' ? value : /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(label, `${quote(String(value))} is not a port number (1-65535)`);
  return n;
}

/** The shortest API_TOKEN accepted: 16 characters (with 94 printable characters, over 100 bits). */
export const MIN_API_TOKEN_LENGTH = 16;

/** The office's API token: a secret of at least MIN_API_TOKEN_LENGTH characters. Never echoed. */
export function checkApiToken(label: string, value: string): string {
  checkSecret(label, value);
  if (value.length < MIN_API_TOKEN_LENGTH) fail(label, `must be at least ${MIN_API_TOKEN_LENGTH} characters long (e.g. openssl rand -hex 24)`);
  return value;
}

/** A host name for status.allowedHosts: a DNS name or an IP address, compared case-insensitively. */
export function checkAllowedHost(label: string, value: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}|[0-9a-fA-F:.]+)$/.test(value)) fail(label, `${quote(value)} is not a host name or IP address (no port, no scheme)`);
  return value.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** Secrets go into HTTP headers: visible ASCII only. Never echoed. */
export function checkSecret(label: string, value: string): string {
  if (!/^[\x21-\x7e]+$/.test(value)) fail(label, 'must be printable ASCII without spaces');
  return value;
}

export function checkLogLevel(label: string, value: string): LogLevel {
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    fail(label, `${quote(value)} is not a winston level (${LOG_LEVELS.join(', ')})`);
  }
  return level as LogLevel;
}

export function checkLogFormat(label: string, value: string): LogFormat {
  const f = value.toLowerCase();
  if (!(LOG_FORMATS as readonly string[]).includes(f)) fail(label, `${quote(value)} is not a log format (${LOG_FORMATS.join(', ')})`);
  return f as LogFormat;
}

export function checkEnvName(label: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(value)) fail(label, `${quote(value)} is not a valid environment name`);
  return value;
}

/** A path resolved against `base` (absolute paths stay as they are). */
export function absolutePath(base: string, value: string): string {
  return isAbsolute(value) ? resolve(value) : resolve(base, value);
}

/**
 * The roles of this process: a comma-separated list (ECONNECTOR_ROLES=scheduler,status) or an
 * array (config `roles`); 'all' stands for every role. Returned in ROLES order, without duplicates.
 */
export function checkRoles(label: string, value: string | readonly string[]): Role[] {
  const names = (typeof value === 'string' ? value.split(',') : [...value]).map((r) => r.trim().toLowerCase()).filter((r) => r !== '');
  if (names.length === 0) fail(label, `names no role (use ${ROLES.join(', ')} or all)`);
  const wanted = new Set<string>();
  for (const name of names) {
    if (name === 'all') ROLES.forEach((r) => wanted.add(r));
    else if ((ROLES as readonly string[]).includes(name)) wanted.add(name);
    else fail(label, `${quote(name)} is not a role (${ROLES.join(', ')}, or all)`);
  }
  return ROLES.filter((r) => wanted.has(r));
}
