import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from '../openapi/document';
import { findProjectRoot } from './page';
import { join } from 'node:path';

/** GET /openapi.json: the document is built once, at registration (it changes only with the code). */
export function registerOpenApiRoutes(server: FastifyInstance): void {
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(join(findProjectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    /* a document without the package's version is still the document */
  }
  const doc = JSON.stringify(buildOpenApiDocument(version));
  server.get('/openapi.json', async (_req, reply) => reply.type('application/json; charset=utf-8').send(doc));
}
