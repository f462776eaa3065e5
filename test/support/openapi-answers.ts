/**
 * Checks a real answer of the status server against /openapi.json (src/status/openapi/): the
 * route has an operation, the status is one the operation lists, and a JSON body validates
 * against the schema given for that status. The whole-stack office suites run every answer they
 * get through it, so the document is proven against what the server really sends, not only
 * against the types it is built from.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { buildOpenApiDocument, openApiPath } from '../../src/status/openapi/document';
import { OPERATIONS } from '../../src/status/openapi/operations';

interface Described {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

const doc = buildOpenApiDocument('test') as { paths: Record<string, Record<string, Described>>; components: { schemas: { Error: object } } };
const ajv = new Ajv2020({ strict: false, allErrors: false });
ajv.addSchema(doc.components.schemas.Error, '#/components/schemas/Error');

const routes = Object.keys(OPERATIONS).map((key) => {
  const [method, route] = key.split(' ') as [string, string];
  return { method, route, pattern: new RegExp(`^${route.replace(/:[A-Za-z_]\w*/g, '[^/]+')}$`) };
});
const compiled = new Map<string, ValidateFunction>();

/** What is wrong with this answer by the document: nothing (an empty list), or one line saying what. */
export function answerProblems(method: string, url: string, status: number, body: unknown): string[] {
  const path = url.split('?')[0]!;
  const found = routes.find((r) => r.method === method && r.pattern.test(path));
  if (!found) return [`${method} ${path}: no operation in the document`];
  const op = doc.paths[openApiPath(found.route).path]![method.toLowerCase()]!;
  const answer = op.responses[String(status)];
  if (!answer) return [`${method} ${found.route} answered ${status}, which its operation does not list (${Object.keys(op.responses).join(', ')})`];
  const schema = answer.content?.['application/json']?.schema;
  if (!schema) return [];
  const key = `${method} ${found.route} ${status}`;
  let validate = compiled.get(key);
  if (!validate) compiled.set(key, (validate = ajv.compile(schema)));
  return validate(body) ? [] : [`${key}: ${ajv.errorsText(validate.errors)}`];
}
