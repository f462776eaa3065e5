import { QUEUE_NAMES, type QueueName } from './names';
import type { AnyJobDefinition } from './job';

export class JobRegistryError extends Error {
  override name = 'JobRegistryError';
}

/** Checks at start-up that every queue has exactly one handler and no handler names an unknown queue. */
export function buildRegistry(definitions: readonly AnyJobDefinition[]): ReadonlyMap<QueueName, AnyJobDefinition> {
  const registry = new Map<QueueName, AnyJobDefinition>();
  for (const def of definitions) {
    if (!(QUEUE_NAMES as readonly string[]).includes(def.name)) throw new JobRegistryError(`job '${def.name}' names no known queue`);
    if (registry.has(def.name)) throw new JobRegistryError(`job '${def.name}' has more than one handler`);
    registry.set(def.name, def);
  }
  const missing = QUEUE_NAMES.filter((name) => !registry.has(name));
  if (missing.length > 0) throw new JobRegistryError(`no handler for job(s): ${missing.join(', ')}`);
  return registry;
}
