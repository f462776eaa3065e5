/**
 * The daemon's logger: winston, JSON lines (timestamp, level, message, meta) to stdout and,
 * optionally, to a file rotated by size. Every entry goes through redaction first (see redact.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import winston, { format, type Logger } from 'winston';
import { LOG_LEVELS, type LogLevel } from '../config/types';
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
}

export function createLogger(opts: CreateLoggerOptions): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(opts.level)) throw new RangeError(`not a winston npm level: ${String(opts.level)}`);
  const transports: winston.transport[] = [new winston.transports.Stream({ stream: opts.stream ?? process.stdout })];
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    transports.push(
      new winston.transports.File({ filename: opts.file, maxsize: LOG_FILE_MAX_BYTES, maxFiles: LOG_FILE_MAX_FILES, tailable: true }),
    );
  }
  return winston.createLogger({
    level: opts.level,
    levels: winston.config.npm.levels,
    defaultMeta: { service: opts.service ?? 'econnector' },
    // errors() first, so an Error's message and stack are in the entry before redaction masks them.
    format: format.combine(format.errors({ stack: true }), redactFormat(), format.timestamp(), format.json()),
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
