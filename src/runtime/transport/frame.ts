/**
 * TCP framing, pure (no sockets): a frame is
 *
 * ```
 * u32 bodyBytes                 bytes after this field; checked against maxFrameBytes first
 * u32 headerBytes               the msgpack header
 * u16 attachmentCount
 * u32 attachmentBytes × count
 * header (msgpack)
 * attachment 0 | attachment 1 | …   raw bytes, never msgpack-encoded
 * ```
 *
 * all integers big-endian. The encoder returns the frame as a list of chunks (a small prefix with
 * the header, then the caller's attachments untouched) for a vectored write. The streaming decoder
 * reads the length first and rejects an oversized frame before buffering a byte of it (see
 * `FrameDecoder` for how frames are assembled).
 */

export const FRAME_PREFIX_BYTES = 10;
export const MAX_FRAME_BYTES_DEFAULT = 64 * 1024 * 1024;
export const MAX_ATTACHMENTS_PER_FRAME = 1024;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export interface Frame {
  readonly header: Uint8Array;
  readonly attachments: Uint8Array[];
}

/** Encodes one frame as chunks to write in order. Copies the header (it may be a shared encoder buffer), not the attachments. */
export function encodeFrame(header: Uint8Array, attachments: readonly Uint8Array[], maxFrameBytes: number): Uint8Array[] {
  if (attachments.length > MAX_ATTACHMENTS_PER_FRAME) throw new FrameError(`${attachments.length} attachments exceed ${MAX_ATTACHMENTS_PER_FRAME} per frame`);
  const prefixBytes = FRAME_PREFIX_BYTES + 4 * attachments.length;
  let bodyBytes = prefixBytes - 4 + header.byteLength;
  for (const a of attachments) bodyBytes += a.byteLength;
  if (bodyBytes > maxFrameBytes) throw new FrameError(`frame of ${bodyBytes} bytes exceeds maxFrameBytes ${maxFrameBytes}`);
  const head = new Uint8Array(prefixBytes + header.byteLength);
  const view = new DataView(head.buffer);
  view.setUint32(0, bodyBytes);
  view.setUint32(4, header.byteLength);
  view.setUint16(8, attachments.length);
  for (let i = 0; i < attachments.length; i++) view.setUint32(FRAME_PREFIX_BYTES + 4 * i, (attachments[i] as Uint8Array).byteLength);
  head.set(header, prefixBytes);
  const out: Uint8Array[] = [head];
  for (const a of attachments) if (a.byteLength > 0) out.push(a);
  return out;
}

/** Parses a complete frame body (everything after the length field). */
export function parseFrameBody(body: Uint8Array): Frame {
  if (body.byteLength < FRAME_PREFIX_BYTES - 4) throw new FrameError(`frame body of ${body.byteLength} bytes is shorter than the frame prefix`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const headerBytes = view.getUint32(0);
  const count = view.getUint16(4);
  if (count > MAX_ATTACHMENTS_PER_FRAME) throw new FrameError(`${count} attachments exceed ${MAX_ATTACHMENTS_PER_FRAME} per frame`);
  let pos = 6 + 4 * count;
  if (pos > body.byteLength) throw new FrameError('attachment table runs past the end of the frame');
  const lengths: number[] = [];
  let total = pos + headerBytes;
  for (let i = 0; i < count; i++) {
    const n = view.getUint32(6 + 4 * i);
    lengths.push(n);
    total += n;
  }
  if (total !== body.byteLength) throw new FrameError(`frame sections add up to ${total} bytes, frame length says ${body.byteLength}`);
  const header = body.subarray(pos, pos + headerBytes);
  pos += headerBytes;
  const attachments: Uint8Array[] = [];
  for (const n of lengths) {
    attachments.push(body.subarray(pos, pos + n));
    pos += n;
  }
  return { header, attachments };
}

/**
 * A buffer that the copy that follows overwrites completely: not zero-filled first (the fill is a
 * whole extra pass over a 1 MiB payload). Its own ArrayBuffer, never a slice of Node's shared
 * pool, so an attachment handed to an actor can be transferred on to a worker thread.
 */
function allocPiece(bytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(bytes);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const EMPTY = new Uint8Array(0);

/**
 * Streaming decoder for one connection. `push` returns the frames completed by a chunk; any
 * violation throws `FrameError` with the reason, after which the connection must be closed.
 *
 * A frame that arrives within one chunk is returned as views into it. A frame split across
 * chunks is assembled piece by piece: first its prefix and header, then each attachment into a
 * buffer of its own (exactly its size), so a large payload is copied once out of the socket's
 * reads and owns its memory — it can be transferred to a worker thread without another copy.
 */
export class FrameDecoder {
  /** Bytes of an incomplete length field. */
  private readonly lengthBytes = new Uint8Array(4);
  private lengthFill = 0;
  /** Body bytes of the frame being assembled (0: none in progress). */
  private bodyBytes = 0;
  /** What is being filled: the fixed prefix, the prefix table + header, or attachment `index`. */
  private stage: 'fixed' | 'meta' | 'attachment' = 'fixed';
  private piece: Uint8Array = EMPTY;
  private pieceFill = 0;
  private headerBytes = 0;
  private lengths: number[] = [];
  private header: Uint8Array = EMPTY;
  private attachments: Uint8Array[] = [];

  constructor(private maxFrameBytes: number) {}

  /** Changes the limit (e.g. raised after a handshake). Applies to frames whose length is read later. */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True when part of a frame is buffered: the stream ending now truncates it. */
  get partial(): boolean {
    return this.lengthFill > 0 || this.bodyBytes > 0;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let pos = 0;
    while (pos < chunk.byteLength) {
      if (this.bodyBytes === 0) {
        // Fast path: a whole frame inside the chunk, no partial state.
        if (this.lengthFill === 0 && chunk.byteLength - pos >= 4) {
          const bodyBytes = this.checkLength(new DataView(chunk.buffer, chunk.byteOffset + pos, 4).getUint32(0));
          pos += 4;
          if (chunk.byteLength - pos >= bodyBytes) {
            frames.push(parseFrameBody(chunk.subarray(pos, pos + bodyBytes)));
            pos += bodyBytes;
          } else this.begin(bodyBytes);
          continue;
        }
        const take = Math.min(4 - this.lengthFill, chunk.byteLength - pos);
        this.lengthBytes.set(chunk.subarray(pos, pos + take), this.lengthFill);
        this.lengthFill += take;
        pos += take;
        if (this.lengthFill < 4) break;
        this.lengthFill = 0;
        this.begin(this.checkLength(new DataView(this.lengthBytes.buffer).getUint32(0)));
        continue;
      }
      const take = Math.min(this.piece.byteLength - this.pieceFill, chunk.byteLength - pos);
      this.piece.set(chunk.subarray(pos, pos + take), this.pieceFill);
      this.pieceFill += take;
      pos += take;
      if (this.pieceFill === this.piece.byteLength) {
        const frame = this.pieceDone();
        if (frame !== undefined) frames.push(frame);
      }
    }
    return frames;
  }

  private begin(bodyBytes: number): void {
    this.bodyBytes = bodyBytes;
    this.stage = 'fixed';
    this.piece = new Uint8Array(FRAME_PREFIX_BYTES - 4);
    this.pieceFill = 0;
  }

  /** The current piece is complete: move to the next one; returns the frame when it is whole. */
  private pieceDone(): Frame | undefined {
    if (this.stage === 'fixed') {
      const view = new DataView(this.piece.buffer, this.piece.byteOffset, this.piece.byteLength);
      this.headerBytes = view.getUint32(0);
      const count = view.getUint16(4);
      if (count > MAX_ATTACHMENTS_PER_FRAME) throw new FrameError(`${count} attachments exceed ${MAX_ATTACHMENTS_PER_FRAME} per frame`);
      const metaBytes = 4 * count + this.headerBytes;
      if (FRAME_PREFIX_BYTES - 4 + metaBytes > this.bodyBytes) throw new FrameError(`frame header runs past the frame length ${this.bodyBytes}`);
      this.lengths = new Array<number>(count).fill(0);
      this.stage = 'meta';
      this.piece = allocPiece(metaBytes);
      this.pieceFill = 0;
      if (metaBytes > 0) return undefined;
    }
    if (this.stage === 'meta') {
      const meta = this.piece;
      const view = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
      let total = FRAME_PREFIX_BYTES - 4 + meta.byteLength;
      for (let i = 0; i < this.lengths.length; i++) {
        const n = view.getUint32(4 * i);
        this.lengths[i] = n;
        total += n;
      }
      if (total !== this.bodyBytes) throw new FrameError(`frame sections add up to ${total} bytes, frame length says ${this.bodyBytes}`);
      this.header = meta.subarray(4 * this.lengths.length);
      this.attachments = [];
      this.stage = 'attachment';
    } else {
      this.attachments.push(this.piece);
    }
    // Next attachment (empty ones complete at once), or the frame is whole.
    while (this.attachments.length < this.lengths.length) {
      const n = this.lengths[this.attachments.length] as number;
      if (n > 0) {
        this.piece = allocPiece(n);
        this.pieceFill = 0;
        return undefined;
      }
      this.attachments.push(EMPTY);
    }
    const frame: Frame = { header: this.header, attachments: this.attachments };
    this.bodyBytes = 0;
    this.piece = EMPTY;
    this.header = EMPTY;
    this.attachments = [];
    this.lengths = [];
    return frame;
  }

  private checkLength(bodyBytes: number): number {
    if (bodyBytes > this.maxFrameBytes) throw new FrameError(`frame length ${bodyBytes} exceeds maxFrameBytes ${this.maxFrameBytes}`);
    if (bodyBytes < FRAME_PREFIX_BYTES - 4) throw new FrameError(`frame length ${bodyBytes} is shorter than the frame prefix`);
    return bodyBytes;
  }
}
