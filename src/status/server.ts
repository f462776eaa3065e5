/**
 * The status server. Each group of routes lives in its own module under ./routes and is
 * registered here. Fastify gives keep-alive, body limits (413) and JSON parsing errors (400).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { hostCheck } from './access';
import { registerApiRoutes } from './routes/api';
import { registerHealthRoutes } from './routes/health';
import { registerHistoryRoutes } from './routes/history';
import { registerMetricsRoutes } from './routes/metrics';
import { registerOpenApiRoutes } from './routes/openapi';
import { registerPageRoutes } from './routes/page';
import { registerUsageRoutes } from './routes/usage';
import type { StatusServerDeps } from './server-deps';


export const BODY_LIMIT_BYTES = 64 * 1024;

/** Every route registered on a server, as "METHOD /path" (the OpenAPI test compares them with OPERATIONS). */
const routesOf = new WeakMap<FastifyInstance, string[]>();
export function registeredRoutes(server: FastifyInstance): readonly string[] {
  return routesOf.get(server) ?? [];
}

export function buildStatusServer(deps: StatusServerDeps): FastifyInstance {
  const server = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, keepAliveTimeout: 65_000 });
  const routes: string[] = [];
  routesOf.set(server, routes);
  // Before any route, body or token: a request under a host name we do not answer to is a DNS
  // rebinding attempt (or a misconfigured proxy): 421, nothing else (src/status/access.ts).
  const hostAllowed = hostCheck(deps.app.config.status.host, deps.app.config.status.allowedHosts ?? []);
  server.addHook('onRequest', async (req, reply) => {
    if (!hostAllowed(req.headers.host)) {
      return reply.code(421).send({ error: 'misdirected_request', message: 'this host name is not one the connector answers to: add it to status.allowedHosts' });
    }
  });
  server.addHook('onRoute', (r) => {
    for (const method of ([] as string[]).concat(r.method)) if (method !== 'HEAD') routes.push(`${method} ${r.url}`);
  });

  registerHealthRoutes(server, deps);
  registerMetricsRoutes(server, deps);
  registerUsageRoutes(server, deps);
  registerHistoryRoutes(server, deps);
  registerOpenApiRoutes(server);
  registerApiRoutes(server, deps);
  registerPageRoutes(server, deps);

  server.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not_found' }));
  server.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (code === 500) deps.app.logger.error('status server error', { error: err.message });
    return reply.code(code).send({ error: code === 500 ? 'internal_error' : 'bad_request', message: code === 500 ? 'internal error' : err.message });
  });
  return server;
}
