/**
 * GET /openapi.json: every route fastify has registered is described (the list comes from the
 * server itself, so a new route without its line in src/status/openapi/operations.ts fails here),
 * nothing stale is, every schema compiles as JSON Schema 2020-12, and every example in the docs
 * marked ```json openapi="METHOD /path request|STATUS"``` validates against the document.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument, openApiPath } from '../../src/status/openapi/document';
import { OPERATIONS } from '../../src/status/openapi/operations';
import { buildStatusServer, registeredRoutes } from '../../src/status/server';

const ROOT = join(__dirname, '../..');

/** Enough of an app for the routes to register (no request is served from it but /openapi.json). */
function stubServer(): FastifyInstance {
  const nothing = new Proxy({}, { get: () => undefined });
  const app = {
    config: { apiToken: 'x'.repeat(32), status: { host: '127.0.0.1', port: 0 } },
    db: { knex: nothing, reader: nothing },
    logger: { info() {}, warn() {}, error() {}, debug() {} },
  };
  return buildStatusServer({ app: app as never, pingRedis: async () => 'PONG' });
}

interface Example {
  file: string;
  line: number;
  key: string;
  what: string;
  value: unknown;
}

function docsExamples(): Example[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: Example[] = [];
  for (const file of files) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^```json openapi="(GET|PUT|POST|DELETE) (\S+) (request|\d{3})"\s*$/.exec(lines[i]!);
      if (!m) continue;
      const end = lines.indexOf('```', i + 1);
      out.push({ file, line: i + 1, key: `${m[1]} ${m[2]}`, what: m[3]!, value: JSON.parse(lines.slice(i + 1, end).join('\n')) });
    }
  }
  return out;
}

describe('the OpenAPI document', () => {
  const doc = buildOpenApiDocument('test') as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };
  let server: FastifyInstance;

  beforeAll(async () => {
    server = stubServer();
    await server.ready();
  });
  afterAll(() => server.close());

  it('describes every route the status server registers, and no other', () => {
    const routes = registeredRoutes(server);
    expect(routes.length).toBeGreaterThan(10);
    const undescribed = routes.filter((r) => !(r in OPERATIONS));
    // A new route: add its line to src/status/openapi/operations.ts.
    expect(undescribed).toEqual([]);
    expect(Object.keys(OPERATIONS).filter((k) => !routes.includes(k))).toEqual([]);
    for (const key of routes) {
      const [method, route] = key.split(' ') as [string, string];
      const op = doc.paths[openApiPath(route).path]?.[method.toLowerCase()];
      expect([key, typeof op?.summary]).toEqual([key, 'string']);
      // Token routes say so, and say their 401 and 403.
      if (OPERATIONS[key]!.auth === 'token') expect([key, op.security, Object.keys(op.responses)]).toEqual([key, [{ apiToken: [] }], expect.arrayContaining(['401', '403'])]);
    }
  });

  it('is served at /openapi.json as OpenAPI 3.1, every schema valid JSON Schema 2020-12', async () => {
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as typeof doc;
    expect(served.openapi).toBe('3.1.0');
    expect(Object.keys(served.paths)).toEqual(Object.keys(doc.paths));
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(served.components.schemas.Error as object, '#/components/schemas/Error');
    const schemas: unknown[] = [];
    JSON.stringify(served, (k, v) => {
      if (k === 'schema' && v && typeof v === 'object' && !('$ref' in v)) schemas.push(v);
      return v;
    });
    expect(schemas.length).toBeGreaterThan(10);
    for (const s of schemas) expect(() => ajv.compile(s as object)).not.toThrow();
  });

  it("validates every example in the docs against its operation's schema", () => {
    const examples = docsExamples();
    // The README's examples of the faces people script against.
    for (const key of ['GET /status 200', 'GET /status/history 200', 'POST /api/messages request']) {
      expect(examples.map((e) => `${e.key} ${e.what}`)).toContain(key);
    }
    const ajv = new Ajv2020({ strict: false });
    for (const ex of examples) {
      const [method, route] = ex.key.split(' ') as [string, string];
      const op = doc.paths[openApiPath(route).path]?.[method.toLowerCase()];
      expect([`${ex.file}:${ex.line}`, ex.key, op === undefined]).toEqual([`${ex.file}:${ex.line}`, ex.key, false]);
      const schema = ex.what === 'request' ? op.requestBody?.content['application/json'].schema : op.responses[ex.what]?.content?.['application/json']?.schema;
      expect([`${ex.file}:${ex.line}`, schema === undefined]).toEqual([`${ex.file}:${ex.line}`, false]);
      const validate = ajv.compile(schema);
      expect([`${ex.file}:${ex.line}`, validate(ex.value), validate.errors ?? null]).toEqual([`${ex.file}:${ex.line}`, true, null]);
    }
  });
});
