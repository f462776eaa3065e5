/**
 * Request validation for the office API with zod: the first problem becomes a 400
 * `{"error": "invalid_request", "field": "toPhone", "message": "..."}`. Messages are built here
 * from the issue's kind, never from zod's defaults or the input, so no value is ever echoed.
 */
import type { z } from 'zod';
import { invalid } from './errors';

function fieldOf(issue: z.core.$ZodIssue): string | null {
  if (issue.code === 'unrecognized_keys') return issue.keys[0] ?? null;
  const path = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
  return path.length === 0 ? null : path.join('.');
}

function describe(issue: z.core.$ZodIssue, field: string | null, input: unknown): string {
  const name = field ?? 'the request body';
  if (field !== null && issue.path.length > 0 && !isPresent(input, issue.path)) return `${name} is required`;
  switch (issue.code) {
    case 'invalid_type':
      return field === null ? 'the request body must be a JSON object' : `${name} must be ${article(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'string' ? (Number(issue.minimum) <= 1 ? `${name} must not be empty` : `${name} must have at least ${String(issue.minimum)} characters`) : `${name} must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string' ? `${name} must have at most ${String(issue.maximum)} characters` : `${name} must be at most ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `${name} is not a known field`;
    case 'invalid_value':
      return `${name} is not an allowed value`;
    case 'custom':
      // Our own refinements carry our own messages.
      return issue.message;
    default:
      return `${name} is not valid`;
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${expected}`;
  }
}

function isPresent(input: unknown, path: readonly PropertyKey[]): boolean {
  let v: unknown = input;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, key)) return false;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v !== undefined;
}

/** Parses `input` with `schema` or throws an OfficeError (400) naming the first bad field. */
export function parseRequest<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw invalid(null, 'the request is not valid');
  const field = fieldOf(issue);
  throw invalid(field, describe(issue, field, input));
}

