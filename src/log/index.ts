export { createLogger, jobLogger, resolveLogFormat, LOG_FILE_MAX_BYTES, LOG_FILE_MAX_FILES, type CreateLoggerOptions, type JobLogContext } from './logger';
export { humanLine } from './human-line';
export { maskPhones, redactValue, REDACTED } from './redact';
