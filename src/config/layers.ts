/**
 * Reading the layers of settings (config/default.json, config/<NODE_ENV>.json, ECONNECTOR_CONFIG)
 * and deep-merging them, remembering which layer set each key so that an error can name the file
 * (or variable) to fix.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './types';
import type { PathKey } from './file-schema';

export interface Layer {
  /** Where the layer came from, as error messages name it: 'config/test.json', 'ECONNECTOR_CONFIG'. */
  source: string;
  data: Record<string, unknown>;
}

export interface Merged {
  data: Record<string, unknown>;
  /** The layer that last set the key at `path` (or, failing that, its nearest ancestor). */
  sourceOf(path: readonly PathKey[]): string;
}

// Keys that would reach Object.prototype through a plain-object merge.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON.parse's message quotes the input, which may hold secrets: keep only the position. */
function jsonProblem(err: unknown): string {
  const position = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return position ? `not valid JSON (at position ${position[1]})` : 'not valid JSON';
}

/** Parses one layer's text; it must be a JSON object. */
export function parseLayer(source: string, text: string): Layer {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source}: ${jsonProblem(err)}`);
  }
  if (!isPlainObject(data)) throw new ConfigError(`${source}: must hold a JSON object`);
  return { source, data };
}

/** Reads a JSON layer file; undefined when the file does not exist and `optional`. */
export function readLayerFile(file: string, source: string, optional: boolean): Layer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && optional) return undefined;
    throw new ConfigError(`${source}: ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'error'})`}`);
  }
  return parseLayer(source, text);
}

/**
 * Deep-merges layers in order, later over earlier. Objects merge key by key; anything else
 * (scalars, null, arrays, `false`) replaces what was there.
 */
export function mergeLayers(layers: readonly Layer[]): Merged {
  const sources = new Map<string, string>();
  const pathKey = (path: readonly PathKey[]): string => JSON.stringify(path);
  const forgetBelow = (path: readonly PathKey[]): void => {
    const prefix = `${pathKey(path).slice(0, -1)},`;
    for (const key of [...sources.keys()]) if (key.startsWith(prefix)) sources.delete(key);
  };

  const mergeInto = (target: Record<string, unknown>, from: Record<string, unknown>, path: PathKey[], source: string): void => {
    for (const [key, value] of Object.entries(from)) {
      if (FORBIDDEN_KEYS.has(key)) throw new ConfigError(`${source}: ${[...path, key].join('.')}: is not allowed`);
      const here = [...path, key];
      const existing = target[key];
      // A value that replaces (rather than merges into) what was there also replaces the
      // provenance of everything that used to be below it.
      if (!isPlainObject(value) || !isPlainObject(existing)) forgetBelow(here);
      sources.set(pathKey(here), source);
      if (isPlainObject(value)) {
        const next = isPlainObject(existing) ? existing : {};
        mergeInto(next, value, here, source);
        target[key] = next;
      } else {
        target[key] = value;
      }
    }
  };

  const data: Record<string, unknown> = {};
  for (const layer of layers) mergeInto(data, layer.data, [], layer.source);
  return {
    data,
    sourceOf(path) {
      for (let n = path.length; n > 0; n--) {
        const source = sources.get(pathKey(path.slice(0, n)));
        if (source) return source;
      }
      return layers[0]?.source ?? 'config';
    },
  };
}
