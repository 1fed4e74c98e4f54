/** One recorded event of a simulation: a delivery, crash, restart, partition or heal. */
export interface TraceEntry {
  readonly time: number;
  readonly node: string;
  readonly to: string;
  readonly kind: string;
  readonly from: string;
  readonly type: string;
}

/**
 * The simulation's trace: a hash over every event (equal seeds give equal hashes, the determinism
 * check every seeded test relies on) and the last `capacity` events for a failure report.
 *
 * Recording is on the path of every delivery, so it allocates nothing: the ring keeps fields in
 * preallocated arrays, and the hash mixes numbers, not strings. Each distinct string (node, actor
 * id, message type) is numbered the first time it appears and its characters are mixed into the
 * hash then; later appearances mix only its number. Since the numbering follows the order of first
 * appearance, two traces hash alike only if they name the same strings in the same order and
 * agree on every event. The hash is 64 bits (two 32-bit lanes with different multipliers): a
 * check that two runs agree, not a cryptographic digest.
 */
export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  private readonly ids = new Map<string, number>();
  private readonly timeWords = new Uint32Array(2);
  private readonly timeView = new Float64Array(this.timeWords.buffer);
  private readonly time: Float64Array;
  private readonly fields: string[][];
  private next = 0;
  private size = 0;
  private total = 0;

  constructor(private readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 0)) throw new RangeError(`traceLimit must be a non-negative integer, got ${capacity}`);
    this.time = new Float64Array(capacity);
    this.fields = Array.from({ length: 6 }, () => new Array<string>(capacity).fill(''));
  }

  /** Events recorded so far (all of them, not only those kept). */
  get length(): number {
    return this.total;
  }

  /** `from` is an actor id and its node (`fromNode` empty when there is no sender, or the field is free text). */
  record(time: number, node: string, to: string, kind: string, from: string, fromNode: string, type: string): void {
    this.total++;
    this.timeView[0] = time;
    this.mix(this.timeWords[0] as number);
    this.mix(this.timeWords[1] as number);
    this.mix(this.id(node));
    this.mix(this.id(to));
    this.mix(this.id(kind));
    this.mix(this.id(from));
    this.mix(this.id(fromNode));
    this.mix(this.id(type));
    if (this.capacity === 0) return;
    const i = this.next;
    const f = this.fields;
    this.time[i] = time;
    (f[0] as string[])[i] = node;
    (f[1] as string[])[i] = to;
    (f[2] as string[])[i] = kind;
    (f[3] as string[])[i] = from;
    (f[4] as string[])[i] = fromNode;
    (f[5] as string[])[i] = type;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.size < this.capacity) this.size++;
  }

  /** 16 hex digits over every event so far. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }

  /** The kept events, oldest first. */
  entries(): TraceEntry[] {
    const out: TraceEntry[] = [];
    const f = this.fields;
    for (let k = 0; k < this.size; k++) {
      const i = (this.next - this.size + k + this.capacity) % this.capacity;
      const fromId = (f[3] as string[])[i] as string;
      const fromNode = (f[4] as string[])[i] as string;
      out.push({
        time: this.time[i] as number,
        node: (f[0] as string[])[i] as string,
        to: (f[1] as string[])[i] as string,
        kind: (f[2] as string[])[i] as string,
        from: fromNode === '' ? fromId : `${fromId}@${fromNode}`,
        type: (f[5] as string[])[i] as string,
      });
    }
    return out;
  }

  private id(s: string): number {
    let n = this.ids.get(s);
    if (n === undefined) {
      n = this.ids.size;
      this.ids.set(s, n);
      // First appearance: the string itself enters the hash, with its length as a separator.
      this.mix(0xffffffff);
      this.mix(s.length);
      for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
    }
    return n;
  }

  private mix(word: number): void {
    this.h1 = Math.imul(this.h1 ^ word, 0x01000193);
    this.h2 = Math.imul((this.h2 ^ word) + ((this.h2 << 5) | (this.h2 >>> 27)), 0x5bd1e995);
  }
}
