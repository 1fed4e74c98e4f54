/**
 * Jute, ZooKeeper's record encoding: big-endian int (4 bytes) and long (8 bytes), boolean as one
 * byte, `buffer` as an int length then bytes (-1 = null), `ustring` as a UTF-8 `buffer`, and
 * `vector<T>` as an int count (-1 = null) then the elements. Every frame on the client port is an
 * int length followed by that many bytes (README: "Wire protocol").
 *
 * zxids are JS numbers (epoch * 2^32 + counter, below 2^53) and travel as jute longs; session
 * ids and ephemeral owners use all 64 bits and are bigints.
 */

export class JuteError extends Error {
  override readonly name = 'JuteError';
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

export class JuteReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    /** Largest length a buffer, string or vector may declare. */
    private readonly lengthMax: number = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new JuteError(`record truncated: need ${n} bytes at offset ${this.pos}, have ${this.bytes.length - this.pos}`);
  }

  int(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  bigLong(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A long that must fit a JS number exactly (zxids, times, TTLs). */
  long(): number {
    const v = this.bigLong();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new JuteError(`long ${v} does not fit a safe integer`);
    return Number(v);
  }

  bool(): boolean {
    this.need(1);
    return this.bytes[this.pos++] !== 0;
  }

  buffer(): Uint8Array | null {
    const len = this.int();
    if (len < 0) return null;
    if (len > this.lengthMax) throw new JuteError(`buffer length ${len} exceeds ${this.lengthMax}`);
    this.need(len);
    const out = this.bytes.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  ustring(): string | null {
    const len = this.int();
    if (len < 0) return null;
    if (len > this.lengthMax) throw new JuteError(`string length ${len} exceeds ${this.lengthMax}`);
    this.need(len);
    const s = decoder.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  /** A string that must be present (a null string is a malformed request). */
  str(): string {
    const s = this.ustring();
    if (s === null) throw new JuteError('unexpected null string');
    return s;
  }

  vector<T>(read: (r: JuteReader) => T): T[] | null {
    const n = this.int();
    if (n < 0) return null;
    // Every element takes at least one byte: a count beyond the rest of the frame is malformed.
    if (n > this.remaining) throw new JuteError(`vector count ${n} exceeds the ${this.remaining} bytes left`);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(read(this));
    return out;
  }
}

export class JuteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  long(v: number | bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, BigInt(v)));
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  ustring(v: string | null): this {
    return this.buffer(v === null ? null : encoder.encode(v));
  }

  vector<T>(items: readonly T[] | null, write: (w: JuteWriter, item: T) => void): this {
    if (items === null) return this.int(-1);
    this.int(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** The bytes written so far (a copy). */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** The bytes written so far preceded by their 4-byte length: one frame. */
  frame(): Uint8Array {
    const out = new Uint8Array(4 + this.pos);
    new DataView(out.buffer).setInt32(0, this.pos);
    out.set(this.buf.subarray(0, this.pos), 4);
    return out;
  }
}
