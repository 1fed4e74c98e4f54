import type { ActorContext, ActorFactory, Behavior } from '../behavior.js';
import type { BehaviorSpec } from './worker-protocol.js';

/**
 * Loads the factory a `BehaviorSpec` names, in the current thread. Factories are exported as
 * `(ctx, args) => Behavior`; `args` comes from the spec. Throws a clear error for a missing
 * module or export (API misuse: the caller named something that does not exist).
 */
export async function loadFactory(spec: BehaviorSpec): Promise<ActorFactory<unknown>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec.module)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot load behavior module ${spec.module}: ${(err as Error).message}`);
  }
  const exported = mod[spec.export];
  if (typeof exported !== 'function') throw new Error(`module ${spec.module} has no exported factory named ${spec.export}`);
  const factory = exported as (ctx: ActorContext<unknown>, args: unknown) => Behavior<unknown>;
  const args = spec.args;
  return (ctx) => factory(ctx, args);
}
