/**
 * The registry: the one list of jobs (workers/index.ts), checked at start-up. Queue names come
 * from it, never from a list of their own, so a queue without a handler cannot exist; the checks
 * below catch the mistakes a list can still hold: two jobs of one name (two handlers for one
 * queue), a job without a handler, a name BullMQ cannot use.
 */
import type { AnyJobDefinition } from './job';

export class JobRegistryError extends Error {
  override name = 'JobRegistryError';
}

/** Queue names become Redis keys '<prefix>:<name>:...' and job ids '<name>-<key>': no ':' or spaces. */
const JOB_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export type JobRegistry<S> = ReadonlyMap<string, AnyJobDefinition<S>>;

/** Every job by name; throws JobRegistryError unless each name has exactly one complete definition. */
export function buildRegistry<S>(definitions: readonly AnyJobDefinition<S>[]): JobRegistry<S> {
  const registry = new Map<string, AnyJobDefinition<S>>();
  for (const def of definitions) {
    if (!JOB_NAME.test(def.name)) throw new JobRegistryError(`job '${def.name}': a name is lower-case letters, digits and '-'`);
    if (registry.has(def.name)) throw new JobRegistryError(`job '${def.name}' has more than one handler`);
    for (const part of ['handler', 'deps', 'jobId', 'concurrency'] as const) {
      if (typeof def[part] !== 'function') throw new JobRegistryError(`job '${def.name}' has no ${part}`);
    }
    if (typeof def.payload?.safeParse !== 'function') throw new JobRegistryError(`job '${def.name}' has no payload schema`);
    registry.set(def.name, def);
  }
  if (registry.size === 0) throw new JobRegistryError('no jobs');
  return registry;
}
