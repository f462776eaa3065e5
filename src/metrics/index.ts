export { createMetrics, packageVersion, HQ_LATENCY_BUCKETS, JOB_DURATION_BUCKETS, METRICS_PREFIX, type HqRequestEvent, type Metrics, type PageCounts } from './metrics';
export { registerSharedStateMetrics, type SharedStateSources } from './shared-state';
export { startMetricsServer, type MetricsServer } from './server';
