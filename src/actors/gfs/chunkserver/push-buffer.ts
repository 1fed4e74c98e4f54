/**
 * The chunkserver's buffer of pushed data (patent ¶94): clients push a mutation's bytes to every
 * replica first, in slices, and name them by push id in the later write or append. The buffer keeps
 * each push until a mutation takes it or it ages out.
 *
 * Pure: no I/O, no clock (callers pass `now`). Bounded by total bytes and by entries (invariant C5):
 * a slice that would exceed either bound is refused, after dropping aged-out pushes; nothing still
 * fresh is evicted, so a mutation never finds its data gone because of someone else's push.
 */

export interface PushBufferLimits {
  readonly bytesMax: number;
  readonly entriesMax: number;
  readonly ttlMs: number;
  /** Largest slice accepted. */
  readonly sliceBytesMax: number;
  /** Most slices one push may have (a push is at most one chunk). */
  readonly slicesMax: number;
}

export type PushAddResult = { readonly ok: true } | { readonly ok: false; readonly reason: 'busy' | 'invalid'; readonly message: string };

export type PushTakeResult = { readonly ok: true; readonly data: Uint8Array } | PushTakeFailure;
export type PushTakePartsResult = { readonly ok: true; readonly parts: readonly Uint8Array[] } | PushTakeFailure;
export type PushTakeFailure = { readonly ok: false; readonly reason: 'missing' | 'incomplete' | 'length'; readonly message: string };

interface Entry {
  readonly slices: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  /** Last time a slice arrived: the push ages out `ttlMs` after it. */
  touchedAt: number;
}

export class PushBuffer {
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;

  constructor(private readonly limits: PushBufferLimits) {
    if (!(limits.bytesMax > 0 && limits.entriesMax > 0 && limits.ttlMs > 0 && limits.sliceBytesMax > 0 && limits.slicesMax > 0)) throw new Error('push buffer limits must be positive');
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  has(pushId: string): boolean {
    return this.entries.has(pushId);
  }

  /** Stores slice `slice` of `slices` of push `pushId`. A repeated slice replaces the earlier copy (a client retry). */
  add(pushId: string, slice: number, slices: number, data: Uint8Array, now: number): PushAddResult {
    if (pushId.length === 0 || pushId.length > 256) return { ok: false, reason: 'invalid', message: 'push id must be 1–256 characters' };
    if (!Number.isSafeInteger(slices) || slices < 1 || slices > this.limits.slicesMax) return { ok: false, reason: 'invalid', message: `slices must be 1..${this.limits.slicesMax}, got ${slices}` };
    if (!Number.isSafeInteger(slice) || slice < 0 || slice >= slices) return { ok: false, reason: 'invalid', message: `slice ${slice} is not in 0..${slices - 1}` };
    if (data.length > this.limits.sliceBytesMax) return { ok: false, reason: 'invalid', message: `slice of ${data.length} bytes exceeds sliceBytesMax = ${this.limits.sliceBytesMax}` };
    let e = this.entries.get(pushId);
    if (e !== undefined && e.slices.length !== slices) return { ok: false, reason: 'invalid', message: `push ${pushId} has ${e.slices.length} slices, not ${slices}` };
    const previous = e?.slices[slice]?.length ?? 0;
    const growth = data.length - previous;
    if (this.totalBytes + growth > this.limits.bytesMax || (e === undefined && this.entries.size >= this.limits.entriesMax)) {
      this.expire(now);
      e = this.entries.get(pushId);
      if (this.totalBytes + growth > this.limits.bytesMax) return { ok: false, reason: 'busy', message: `push buffer full (${this.totalBytes} of ${this.limits.bytesMax} bytes held); retry later` };
      if (e === undefined && this.entries.size >= this.limits.entriesMax) return { ok: false, reason: 'busy', message: `push buffer holds ${this.entries.size} pushes, the most allowed; retry later` };
    }
    if (e === undefined) {
      e = { slices: new Array<Uint8Array | undefined>(slices).fill(undefined), received: 0, bytes: 0, touchedAt: now };
      this.entries.set(pushId, e);
    }
    if (e.slices[slice] === undefined) e.received++;
    e.slices[slice] = data;
    e.bytes += growth;
    e.touchedAt = now;
    this.totalBytes += growth;
    return { ok: true };
  }

  /**
   * Removes and returns a complete push, which must be `lengthBytes` long, as the slices it arrived
   * in (in order; no copy). An incomplete push stays
   * (its last slices may still be on the way); a wrong length is dropped (the request is malformed).
   */
  takeParts(pushId: string, lengthBytes: number, now: number): PushTakePartsResult {
    const e = this.entries.get(pushId);
    if (e === undefined || now - e.touchedAt >= this.limits.ttlMs) {
      if (e !== undefined) this.drop(pushId, e);
      return { ok: false, reason: 'missing', message: `no pushed data ${pushId} here (never arrived, or aged out after ${this.limits.ttlMs} ms); push it again` };
    }
    if (e.received < e.slices.length) return { ok: false, reason: 'incomplete', message: `push ${pushId}: ${e.received} of ${e.slices.length} slices arrived; push it again` };
    // Count what the slices hold now, not what arrived: a slice whose buffer was given away
    // (transferred to another thread) reads as empty, and must never be written as the data.
    let held = 0;
    for (const s of e.slices) held += s?.length ?? 0;
    if (held !== lengthBytes || e.bytes !== lengthBytes) {
      this.drop(pushId, e);
      return { ok: false, reason: 'length', message: `push ${pushId} holds ${held} bytes (${e.bytes} arrived), the request says ${lengthBytes}` };
    }
    this.drop(pushId, e);
    return { ok: true, parts: e.slices as Uint8Array[] };
  }

  /** Like `takeParts`, with the slices joined into one array (a copy when there are several). */
  take(pushId: string, lengthBytes: number, now: number): PushTakeResult {
    const t = this.takeParts(pushId, lengthBytes, now);
    if (!t.ok) return t;
    if (t.parts.length === 1) return { ok: true, data: t.parts[0] as Uint8Array };
    const out = new Uint8Array(lengthBytes);
    let at = 0;
    for (const part of t.parts) {
      out.set(part, at);
      at += part.length;
    }
    return { ok: true, data: out };
  }

  /** Drops pushes not touched for `ttlMs`; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (const [id, e] of this.entries) {
      if (now - e.touchedAt >= this.limits.ttlMs) {
        this.drop(id, e);
        n++;
      }
    }
    return n;
  }

  /** C5: the bytes held match the entries and stay within the bound. */
  invariants(): void {
    let sum = 0;
    for (const e of this.entries.values()) sum += e.bytes;
    if (sum !== this.totalBytes) throw new Error(`C5: push buffer counts ${this.totalBytes} bytes but holds ${sum}`);
    if (this.totalBytes > this.limits.bytesMax) throw new Error(`C5: push buffer holds ${this.totalBytes} bytes, more than ${this.limits.bytesMax}`);
    if (this.entries.size > this.limits.entriesMax) throw new Error(`C5: push buffer holds ${this.entries.size} pushes, more than ${this.limits.entriesMax}`);
  }

  private drop(id: string, e: Entry): void {
    this.entries.delete(id);
    this.totalBytes -= e.bytes;
  }
}
