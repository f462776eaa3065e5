/**
 * The daemon's logger: winston, to stdout and, optionally, to a file rotated by size. Every entry
 * goes through redaction first (see redact.ts), whatever it is written as: JSON lines (timestamp,
 * level, message, meta) for machines (the file always; stdout when it is not a terminal), or one
 * human line per entry on a terminal (human-line.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import winston, { format, type Logger } from 'winston';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../config/types';
import { humanLineFormat } from './human-line';
import { redactFormat } from './redact';

/** Rotation of the log file: 10 MB a file, the newest 5 kept. */
export const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_FILE_MAX_FILES = 5;

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Absolute path of a JSON log file, rotated by size; null or absent: stdout only. */
  file?: string | null;
  /** The `service` field of every entry; default 'econnector'. */
  service?: string;
  /** Where the stdout lines go instead (tests); default process.stdout. */
  stream?: NodeJS.WritableStream;
  /** How the stdout lines look; `auto` (the default): human when the stream is a terminal. */
  format?: LogFormat;
}

/** Whether `auto` means human lines on this stream: only a terminal gets them. */
export function resolveLogFormat(format: LogFormat, stream: NodeJS.WritableStream): 'json' | 'human' {
  if (format !== 'auto') return format;
  return (stream as NodeJS.WriteStream).isTTY === true ? 'human' : 'json';
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(opts.level)) throw new RangeError(`not a winston npm level: ${String(opts.level)}`);
  const stream = opts.stream ?? process.stdout;
  const human = resolveLogFormat(opts.format ?? 'auto', stream) === 'human';
  const transports: winston.transport[] = [
    new winston.transports.Stream({ stream, format: human ? humanLineFormat({ color: (stream as NodeJS.WriteStream).isTTY === true }) : format.json() }),
  ];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    transports.push(
      new winston.transports.File({ filename: opts.file, maxsize: LOG_FILE_MAX_BYTES, maxFiles: LOG_FILE_MAX_FILES, tailable: true, format: format.json() }),
    );
  }
  return winston.createLogger({
    level: opts.level,
    levels: winston.config.npm.levels,
    defaultMeta: { service: opts.service ?? 'econnector' },
    // errors() first, so an Error's message and stack are in the entry before redaction masks them.
    // Each transport then writes the redacted entry as JSON or as a human line.
    format: format.combine(format.errors({ stack: true }), redactFormat(), format.timestamp()),
    transports,
    exitOnError: false,
  });
}

export interface JobLogContext {
  queue: string;
  jobId: string | undefined;
  /** This attempt, from 1. */
  attempt: number;
  /** Attempts allowed in all. */
  attempts: number;
}

/** A child logger whose entries carry the job's queue, id and "attempt a of n". */
export function jobLogger(logger: Logger, job: JobLogContext): Logger {
  return logger.child({ queue: job.queue, jobId: job.jobId, attempt: job.attempt, attempts: job.attempts });
}
