/** The daemon's configuration: `loadConfig()` once at start-up, then pass the frozen Config around. */
export { loadConfig } from './load';
export { ConfigError, type Config, type DatabaseTarget, type LogFormat, type LogLevel } from './types';
