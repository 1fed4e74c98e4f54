/**
 * ZooKeeper stores a node's kind in its stat's ephemeralOwner (EphemeralType): 0 for persistent,
 * the owner's session id for ephemeral, Long.MIN_VALUE for a container, and for a TTL node the
 * high byte 0xFF with the TTL in milliseconds in the low bits. Clients see these values, so we
 * keep the encoding.
 */
export const CONTAINER_OWNER = -(2n ** 63n);
const EXTENDED_MASK = 0xff00000000000000n;
const TTL_VALUE_MASK = 0x000000ffffffffffn;

export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export function ttlOwner(ttlMs: number): bigint {
  return BigInt.asIntN(64, EXTENDED_MASK | BigInt(ttlMs));
}

export function nodeKind(ephemeralOwner: bigint): NodeKind {
  if (ephemeralOwner === 0n) return 'persistent';
  if (ephemeralOwner === CONTAINER_OWNER) return 'container';
  if ((BigInt.asUintN(64, ephemeralOwner) & EXTENDED_MASK) === EXTENDED_MASK) return 'ttl';
  return 'ephemeral';
}

export function ttlOf(ephemeralOwner: bigint): number {
  return Number(BigInt.asUintN(64, ephemeralOwner) & TTL_VALUE_MASK);
}
