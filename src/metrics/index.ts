export { createMetrics, packageVersion } from './metrics';
export { registerSharedStateMetrics } from './shared-state';
export { startMetricsServer } from './server';
