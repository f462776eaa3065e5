/**
 * GET /openapi.json: every route fastify has registered is described (the list comes from the
 * server itself, so a new route without its line in src/status/openapi/operations.ts fails here),
 * nothing stale is, every schema compiles as JSON Schema 2020-12, every route that validates a
 * query or a body (found by probing the server with an unknown field) documents it and no other
 * does, each request schema takes a valid sample and refuses an invalid one as the route's own zod
 * schema does, every office API answer has a schema, and every example in the docs marked
 * ```json openapi="METHOD /path request|STATUS"``` validates against the document.
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
    config: { apiToken: TOKEN, status: { host: '127.0.0.1', port: 0 } },
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

/** A valid and an invalid request of each operation that takes a query or a body (the invalid one breaks what JSON Schema can say). */
const SAMPLES: Record<string, { valid: Record<string, unknown>; invalid: Record<string, unknown> }> = {
  'GET /status': { valid: { month: '2026-11' }, invalid: { month: '2026-13' } },
  'GET /status/history': { valid: { months: '12' }, invalid: { months: 'twelve' } },
  'POST /api/messages': { valid: { clinicId: 1, toPhone: '+15035550142', body: 'See you Tuesday' }, invalid: { clinicId: 1, toPhone: '+15035550142', body: '' } },
  'PUT /api/clinics/default': { valid: { clinicId: null }, invalid: { clinicId: '1' } },
  'PUT /api/clinics/:id/optin': { valid: { optinTitle: 'Main Street Dental', promptForOptin: true }, invalid: { optinTitle: 'x' } },
  'PUT /api/practice': { valid: { title: 'Main Street Dental' }, invalid: { title: 'x'.repeat(101) } },
  'GET /api/conversations': { valid: { clinicId: '2', unread: 'true', limit: '20' }, invalid: { unread: 'yes' } },
  'GET /api/conversations/:phone': { valid: { limit: '50' }, invalid: { limit: 'all' } },
  'PUT /api/inbound/:inboundId': { valid: { read: true, patientId: null }, invalid: { read: 'yes' } },
  'GET /api/patients': { valid: { q: 'Ana', limit: '10' }, invalid: { limit: '-1' } },
  'PUT /api/patients/:id': { valid: { textOk: 'no', clinicId: 0 }, invalid: { textOk: 'maybe' } },
  'POST /api/patients/:id/optin-request': { valid: {}, invalid: { now: true } },
  'GET /api/commlog': { valid: { after: '0', limit: '100' }, invalid: { after: '-5' } },
};

/**
 * The usage reads scripts poll take their one parameter and ignore others (a cache-buster must not
 * break a monitoring script); every office API route refuses a field it does not know.
 */
const IGNORES_UNKNOWN_QUERY = new Set(['GET /status', 'GET /status/history']);

/** A value for each path parameter the routes take, shaped as the routes accept it. */
const PATH_VALUES: Record<string, string> = { phone: encodeURIComponent('+15035550142'), inboundId: 'i-1', id: '1', guid: '4b1e5b0e-0d3a-4c1e-9a8f-2f6d3c1b7a90', name: 'app.js' };
const TOKEN = 'x'.repeat(32);

describe('the OpenAPI document', () => {
  const doc = buildOpenApiDocument('test') as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };
  let server: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    server = stubServer();
    base = await server.listen({ host: '127.0.0.1', port: 0 });
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

  it('documents the query or body of exactly the routes that validate one, as they validate it (probed on the live server)', async () => {
    const ask = async (method: string, url: string, body?: unknown): Promise<{ status: number; field: string | null }> => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let field: string | null = null;
      try {
        field = (JSON.parse(text) as { field?: string }).field ?? null;
      } catch {
        // not JSON: not a validation answer
      }
      return { status: res.status, field };
    };
    const queryOf = (sample: Record<string, unknown>): string => `?${new URLSearchParams(sample as Record<string, string>)}`;
    const mismatches: string[] = [];
    for (const key of registeredRoutes(server)) {
      const [method, route] = key.split(' ') as [string, string];
      const op = OPERATIONS[key]!;
      const url = route.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => PATH_VALUES[name] ?? 'x');
      const takesBody = method !== 'GET' && method !== 'DELETE';
      // A route that validates its query or body refuses a field it does not know, by name...
      const unknownQuery = await ask(method, `${url}?zzUnknown=1`, takesBody && op.body ? SAMPLES[key]?.valid : undefined);
      const refusesUnknownQuery = unknownQuery.status === 400 && unknownQuery.field === 'zzUnknown';
      if (!IGNORES_UNKNOWN_QUERY.has(key) && refusesUnknownQuery !== (op.query !== undefined)) {
        mismatches.push(`${key}: refuses an unknown query field: ${refusesUnknownQuery}; documents a query: ${op.query !== undefined}`);
      }
      if (takesBody) {
        // Any field named will do: without a sample, a schema names a missing field before the unknown one.
        const unknownBody = await ask(method, url, { ...SAMPLES[key]?.valid, zzUnknown: 1 });
        const refusesUnknownBody = unknownBody.status === 400 && unknownBody.field !== null;
        if (refusesUnknownBody !== (op.body !== undefined)) mismatches.push(`${key}: refuses an unknown body field: ${refusesUnknownBody}; documents a body: ${op.body !== undefined}`);
      }
      // ...and the documented sample of a bad request is refused by the route itself.
      const invalid = SAMPLES[key]?.invalid;
      if (invalid !== undefined) {
        const answer = op.body ? await ask(method, url, invalid) : await ask(method, `${url}${queryOf(invalid)}`);
        if (answer.status !== 400) mismatches.push(`${key}: the invalid sample was answered ${answer.status}, not 400`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('has a request schema for every query and body, which takes a valid request and refuses an invalid one as the route does', () => {
    const ajv = new Ajv2020({ strict: false });
    const taking = Object.entries(OPERATIONS).filter(([, op]) => op.query || op.body).map(([key]) => key);
    expect(taking.length).toBeGreaterThan(10);
    // A new route with a query or a body: add its samples above.
    expect(taking.filter((key) => !(key in SAMPLES))).toEqual([]);
    for (const key of taking) {
      const op = OPERATIONS[key]!;
      const [method, route] = key.split(' ') as [string, string];
      const described = doc.paths[openApiPath(route).path]![method.toLowerCase()];
      let schema: object;
      if (op.body) {
        schema = described.requestBody?.content?.['application/json']?.schema;
      } else {
        // The query parameters together, as one object: the routes take no others.
        const params = (described.parameters as Array<{ name: string; in: string; required: boolean; schema: object }>).filter((p) => p.in === 'query');
        schema = {
          type: 'object', ...(IGNORES_UNKNOWN_QUERY.has(key) ? {} : { additionalProperties: false }),
          properties: Object.fromEntries(params.map((p) => [p.name, p.schema])), required: params.filter((p) => p.required).map((p) => p.name),
        };
      }
      expect([key, schema === undefined]).toEqual([key, false]);
      const validate = ajv.compile(schema);
      const zod = (op.body ?? op.query)!;
      const { valid, invalid } = SAMPLES[key]!;
      expect([key, 'valid', validate(valid), validate.errors ?? null, zod.safeParse(valid).success]).toEqual([key, 'valid', true, null, true]);
      expect([key, 'invalid', validate(invalid), zod.safeParse(invalid).success]).toEqual([key, 'invalid', false, false]);
      // And an unknown field is refused by both.
      if (IGNORES_UNKNOWN_QUERY.has(key)) continue;
      expect([key, 'unknown field', validate({ ...valid, zzUnknown: '1' }), zod.safeParse({ ...valid, zzUnknown: '1' }).success]).toEqual([key, 'unknown field', false, false]);
    }
  });

  it('describes the answer of every office API route', () => {
    const undescribed = Object.entries(OPERATIONS).filter(([key, op]) => key.split(' ')[1]!.startsWith('/api/') && !op.ok?.schema).map(([key]) => key);
    expect(undescribed).toEqual([]);
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
