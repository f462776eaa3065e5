/**
 * One human line per log entry, for a person watching a terminal:
 *
 *   2026-12-01 21:37:45.881 info  hq mock listening  url=http://127.0.0.1:37739 demo=true
 *
 * local time (the machine's zone, as a person reads the wall clock), the level (coloured on a
 * terminal), the message, then the entry's fields as key=value in the order they were logged.
 * An error's stack follows on indented lines. It formats the entry that redaction already
 * produced, so it shows exactly what a JSON line would, never more.
 */
import { format } from 'winston';

/** Where winston's transports take an entry's finished text from (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

const COLORS: Record<string, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[32m', http: '\x1b[36m', verbose: '\x1b[36m', debug: '\x1b[34m', silly: '\x1b[35m' };
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
/** Fields every entry has, shown in their own places or not at all. */
const PLACED = new Set(['level', 'message', 'timestamp', 'service', 'stack']);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `YYYY-MM-DD HH:MM:SS.mmm` in the machine's zone. */
export function localTime(iso: string | undefined): string {
  const d = iso ? new Date(iso) : new Date();
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A field's value: bare when it is a plain word or number, JSON (quoted) otherwise. */
export function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+\-,*[\]]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

export function humanLine(info: Record<string, unknown>, color: boolean): string {
  const level = String(info.level);
  const shownLevel = level.padEnd(5);
  const fields = Object.keys(info)
    .filter((k) => !PLACED.has(k))
    .map((k) => `${k}=${fieldValue(info[k])}`);
  const time = localTime(info.timestamp as string | undefined);
  let line = color
    ? `${DIM}${time}${RESET} ${COLORS[level] ?? ''}${shownLevel}${RESET} ${String(info.message)}${fields.length ? `  ${DIM}${fields.join(' ')}${RESET}` : ''}`
    : `${time} ${shownLevel} ${String(info.message)}${fields.length ? `  ${fields.join(' ')}` : ''}`;
  if (typeof info.stack === 'string') line += `\n${info.stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n')}`;
  return line;
}

/** The winston format that writes `humanLine` as the entry's output. */
export const humanLineFormat = format((info, opts: unknown) => {
  (info as unknown as Record<symbol, string>)[MESSAGE] = humanLine(info as unknown as Record<string, unknown>, (opts as { color?: boolean }).color === true);
  return info;
});
