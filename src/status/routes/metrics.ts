import type { FastifyInstance } from 'fastify';
import type { StatusServerDeps } from '../server-deps';

/**
 * GET /metrics: Prometheus text format (prom-client). In the process with the status role this
 * holds its own event metrics plus the shared-state gauges (queue job counts, poll ages); worker
 * processes serve their own on metrics.port (src/metrics/server.ts).
 */
export function registerMetricsRoutes(server: FastifyInstance, { app }: StatusServerDeps): void {
  server.get('/metrics', async (_req, reply) => {
    const text = await app.metrics.render();
    return reply.code(200).header('content-type', app.metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
