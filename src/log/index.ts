export { createLogger, jobLogger, LOG_FILE_MAX_BYTES, LOG_FILE_MAX_FILES, type CreateLoggerOptions, type JobLogContext } from './logger';
export { maskPhones, redactValue, REDACTED } from './redact';
