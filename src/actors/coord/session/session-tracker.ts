/**
 * The leader's session tracker (ZooKeeper's SessionTrackerImpl with its ExpiryQueue): each live
 * session sits in the bucket of the tick at which it expires, rounded up to the next multiple of
 * tickTime; any packet from its client moves it to a later bucket; at each tick the buckets now
 * due are expired at once. The tracker only *decides* expiry — the caller turns each expired
 * session into a closeSession transaction (S2). Pure: time is passed in.
 */

const MASK64 = (1n << 64n) - 1n;

/** ZooKeeper's first session id for a server (S6): the time (ms) shifted into bits 8..47 of 0..55, the server id in the high byte. */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  const timeBits = ((BigInt(Math.floor(nowMs)) << 24n) & MASK64) >> 8n;
  return BigInt.asIntN(64, timeBits | (BigInt(serverId) << 56n));
}

/** Negotiated timeout: the request clamped to [min, max] (S1). */
export function negotiateTimeout(requestedMs: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(minMs, requestedMs));
}

interface Tracked {
  timeoutMs: number;
  /** The bucket (a multiple of tickTime) the session expires in. */
  expireAt: number;
  /** Expiry decided; no longer touched. */
  closing: boolean;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, Tracked>();
  private readonly buckets = new Map<number, Set<bigint>>();
  private nextId: bigint;

  constructor(
    private readonly tickTimeMs: number,
    serverId: number,
    nowMs: number,
  ) {
    this.nextId = initialSessionId(serverId, nowMs);
  }

  private roundUp(t: number): number {
    return (Math.floor(t / this.tickTimeMs) + 1) * this.tickTimeMs;
  }

  /** A fresh session id (not yet tracked: `add` it once its createSession commits). */
  allocateId(): bigint {
    const id = this.nextId;
    this.nextId = BigInt.asIntN(64, this.nextId + 1n);
    return id;
  }

  add(sessionId: bigint, timeoutMs: number, nowMs: number): void {
    const s: Tracked = { timeoutMs, expireAt: 0, closing: false };
    this.sessions.set(sessionId, s);
    this.move(sessionId, s, this.roundUp(nowMs + timeoutMs));
  }

  private move(id: bigint, s: Tracked, expireAt: number): void {
    if (s.expireAt === expireAt) return;
    const old = this.buckets.get(s.expireAt);
    if (old) {
      old.delete(id);
      if (old.size === 0) this.buckets.delete(s.expireAt);
    }
    s.expireAt = expireAt;
    let b = this.buckets.get(expireAt);
    if (!b) this.buckets.set(expireAt, (b = new Set()));
    b.add(id);
  }

  /** A packet arrived for the session: push its expiry out. False if unknown or already closing. */
  touch(sessionId: bigint, nowMs: number): boolean {
    const s = this.sessions.get(sessionId);
    if (!s || s.closing) return false;
    this.move(sessionId, s, this.roundUp(nowMs + s.timeoutMs));
    return true;
  }

  isLive(sessionId: bigint): boolean {
    const s = this.sessions.get(sessionId);
    return s !== undefined && !s.closing;
  }

  timeoutOf(sessionId: bigint): number | undefined {
    return this.sessions.get(sessionId)?.timeoutMs;
  }

  /** Marks the session closing (a close request or an expiry); it stays tracked until `remove`. */
  setClosing(sessionId: bigint): void {
    const s = this.sessions.get(sessionId);
    if (s) s.closing = true;
  }

  /** A close that did not happen (refused, S7): the session is live again with a fresh deadline. */
  reopen(sessionId: bigint, nowMs: number): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.closing = false;
    this.move(sessionId, s, this.roundUp(nowMs + s.timeoutMs));
  }

  /** The sessions whose bucket is due at `nowMs`, marked closing (each is returned once). */
  expire(nowMs: number): bigint[] {
    const out: bigint[] = [];
    for (const [at, ids] of [...this.buckets].sort((a, b) => a[0] - b[0])) {
      if (at > nowMs) break;
      for (const id of ids) {
        const s = this.sessions.get(id);
        if (s && !s.closing) {
          s.closing = true;
          out.push(id);
        }
      }
      this.buckets.delete(at);
    }
    return out;
  }

  remove(sessionId: bigint): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    this.buckets.get(s.expireAt)?.delete(sessionId);
    if (this.buckets.get(s.expireAt)?.size === 0) this.buckets.delete(s.expireAt);
    this.sessions.delete(sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }

  liveSessions(): bigint[] {
    return [...this.sessions].filter(([, s]) => !s.closing).map(([id]) => id);
  }
}
