/**
 * Actor references: plain data, valid anywhere. A ref names a node (an ActorSystem: one per
 * process, or one per simulated node) and an actor id unique within it. Refs survive every
 * transport (structured clone across threads, msgpack across hosts, the simulator's network)
 * because they carry no methods and no hidden state; send with `ctx.tell(ref, msg)`.
 *
 * `M` is the message type the actor accepts (a phantom: it exists only for the type checker).
 */
export interface ActorRef<M = unknown> {
  readonly node: string;
  readonly id: string;
  /** Phantom marker for the message type; never present at run time. */
  readonly __message?: M;
}

/** The class behind refs the runtime creates; the TCP codec encodes it as a msgpack extension. */
export class Ref<M = unknown> implements ActorRef<M> {
  declare readonly __message?: M;
  constructor(
    readonly node: string,
    readonly id: string,
  ) {}

  toString(): string {
    return `${this.id}@${this.node}`;
  }
}

export function makeRef<M = unknown>(node: string, id: string): ActorRef<M> {
  return new Ref<M>(node, id);
}

export function sameRef(a: ActorRef<unknown> | undefined, b: ActorRef<unknown> | undefined): boolean {
  return a !== undefined && b !== undefined && a.node === b.node && a.id === b.id;
}

export function refKey(r: ActorRef<unknown>): string {
  return `${r.id}@${r.node}`;
}

/** True for any value shaped like a ref (refs arriving over a thread boundary are plain objects). */
export function isRef(value: unknown): value is ActorRef<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as ActorRef).node === 'string' && typeof (value as ActorRef).id === 'string';
}
