/**
 * The status server's OpenAPI 3.1 document, built from OPERATIONS (operations.ts): request
 * schemas are the zod schemas the routes validate with, turned into JSON Schema (2020-12, the
 * dialect OpenAPI 3.1 uses) by zod's own z.toJSONSchema, from their input side (a query's
 * `limit` is a string of digits on the wire even when the route turns it into a number).
 * Refinements that JSON Schema cannot say (a phone number that must normalise) stay the route's.
 */
import { z } from 'zod';
import { OPERATIONS, type Operation } from './operations';
import { ErrorBody } from './schemas';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** '/api/clinics/:id/optin' -> '/api/clinics/{id}/optin', and the parameter names. */
export function openApiPath(fastifyPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = fastifyPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const errorAnswer = (description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema: ERROR_REF } } });

function operationObject(key: string, op: Operation, params: string[]): Record<string, unknown> {
  const [method] = key.split(' ');
  const parameters: Array<Record<string, unknown>> = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  if (op.query) {
    const q = jsonSchema(op.query);
    const required = new Set((q.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((q.properties as Record<string, JsonSchema> | undefined) ?? {})) {
      parameters.push({ name, in: 'query', required: required.has(name), schema, ...(schema.description ? { description: schema.description } : {}) });
    }
  }
  const ok = op.ok ?? {};
  const okType = ok.type ?? 'application/json';
  const responses: Record<string, unknown> = {
    [String(ok.status ?? 200)]: {
      description: ok.description ?? 'OK',
      content: { [okType]: ok.schema ? { schema: jsonSchema(ok.schema) } : {} },
    },
  };
  if (op.query || op.body || params.length > 0) responses['400'] = errorAnswer('a bad request: the field and what is wrong with it (never its value)');
  if (op.auth === 'token') {
    responses['401'] = errorAnswer('no or a wrong "Authorization: Bearer <API_TOKEN>"');
    responses['403'] = errorAnswer('the connector has no API_TOKEN set, so it refuses every request that needs one');
  }
  if (op.body) responses['413'] = errorAnswer('the request body is over the limit');
  for (const [status, description] of Object.entries(op.errors ?? {})) responses[status] = errorAnswer(description!);
  return {
    operationId: `${method!.toLowerCase()}${key.slice(method!.length + 1).replace(/[/:{}-]+(\w)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}` || 'root',
    summary: op.summary,
    ...(op.tag ? { tags: [op.tag] } : {}),
    ...(op.auth === 'token' ? { security: [{ apiToken: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body) } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(version: string, operations: Readonly<Record<string, Operation>> = OPERATIONS): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(operations)) {
    const [method, route] = key.split(' ') as [string, string];
    const { path, params } = openApiPath(route);
    (paths[path] ??= {})[method.toLowerCase()] = operationObject(key, op, params);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'econnector status server and office API',
      version,
      description: 'Usage and health need no token. Every request that changes something, or answers a phone number, a name or a text, needs "Authorization: Bearer <API_TOKEN>".',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { apiToken: { type: 'http', scheme: 'bearer', description: "the connector's API_TOKEN setting" } },
      schemas: { Error: jsonSchema(ErrorBody) },
    },
  };
}
