/** The daemon's configuration: `loadConfig()` once at start-up, then pass the frozen Config around. */
export { loadConfig, type LoadConfigOptions } from './load';
export { ConfigError, LOG_FORMATS, LOG_LEVELS, ROLES, type Config, type DatabaseTarget, type DemoTraffic, type LogFormat, type LogLevel, type Role } from './types';
