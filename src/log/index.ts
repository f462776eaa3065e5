export { createLogger, jobLogger } from './logger';
export { humanLine } from './human-line';
export { maskPhones, redactValue } from './redact';
