import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { Ref } from '../ref.js';

/**
 * The wire codec: msgpack (`@msgpack/msgpack`) with three extension types.
 *
 * - `EXT_INT64` / `EXT_UINT64`: a `bigint` in the 64-bit range, 8 bytes big-endian. Plain numbers
 *   stay msgpack numbers; a bigint outside [-2^63, 2^64) is API misuse and throws.
 * - `EXT_REF`: a `Ref` instance (refs the runtime created), decoded back to a `Ref`. Refs that
 *   crossed a thread boundary are plain objects and travel as maps; every API accepts both.
 * - `EXT_ATTACHMENT`: a `Uint8Array` of at least `attachmentMinBytes` is *lifted out* of the
 *   msgpack body: the body holds only its index, and the bytes travel after the header as a raw
 *   attachment (the TCP frame writes them with writev, the receiver gets a view into the frame).
 *   Large payloads are therefore never re-encoded or copied into the msgpack body.
 *
 * One `MessageEncoder` reuses one msgpack `Encoder` and its buffer (machine-limits.md §7: a fresh
 * `encode()` allocates 2 KiB per call). The header it returns is a view into that shared buffer,
 * valid only until the next `encode`; callers copy it where it must live longer (the frame does).
 */

export const EXT_INT64 = 1;
export const EXT_UINT64 = 2;
export const EXT_REF = 3;
export const EXT_ATTACHMENT = 4;

/** Default size from which a Uint8Array travels as a raw attachment. */
export const ATTACHMENT_MIN_BYTES_DEFAULT = 4096;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

export interface EncodedMessage {
  /** msgpack bytes; a view into the encoder's reused buffer (copy it to keep it). */
  readonly header: Uint8Array;
  /** Raw payloads lifted out of the body, in index order. Not copied: the caller's arrays. */
  readonly attachments: readonly Uint8Array[];
}

interface EncodeContext {
  attachments: Uint8Array[];
  attachmentMinBytes: number;
}

interface DecodeContext {
  attachments: readonly Uint8Array[];
  used: number;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function encodeBigInt(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  if (value < 0n) view.setBigInt64(0, value);
  else view.setBigUint64(0, value);
  return out;
}

function encodeRef(ref: Ref): Uint8Array {
  const node = textEncoder.encode(ref.node);
  const id = textEncoder.encode(ref.id);
  if (node.byteLength > 0xffff) throw new CodecError(`ref node id too long (${node.byteLength} bytes)`);
  const out = new Uint8Array(2 + node.byteLength + id.byteLength);
  out[0] = node.byteLength >>> 8;
  out[1] = node.byteLength & 0xff;
  out.set(node, 2);
  out.set(id, 2 + node.byteLength);
  return out;
}

function decodeRef(data: Uint8Array): Ref {
  if (data.byteLength < 2) throw new CodecError('ref extension shorter than its length field');
  const nodeBytes = ((data[0] as number) << 8) | (data[1] as number);
  if (2 + nodeBytes > data.byteLength) throw new CodecError('ref extension node length exceeds its data');
  try {
    const node = textDecoder.decode(data.subarray(2, 2 + nodeBytes));
    const id = textDecoder.decode(data.subarray(2 + nodeBytes));
    return new Ref(node, id);
  } catch {
    throw new CodecError('ref extension is not valid UTF-8');
  }
}

function extensionCodec<C>(attach: ((value: unknown, ctx: C) => Uint8Array | null) | undefined, detach: ((data: Uint8Array, ctx: C) => unknown) | undefined): ExtensionCodec<C> {
  const codec = new ExtensionCodec<C>();
  codec.register({
    type: EXT_INT64,
    encode: (value) => {
      if (typeof value !== 'bigint') return null;
      if (value < INT64_MIN || value > UINT64_MAX) throw new CodecError(`bigint ${value} is outside the 64-bit range`);
      return value < 0n ? encodeBigInt(value) : null;
    },
    decode: (data) => {
      if (data.byteLength !== 8) throw new CodecError(`int64 extension must be 8 bytes, got ${data.byteLength}`);
      return new DataView(data.buffer, data.byteOffset, 8).getBigInt64(0);
    },
  });
  codec.register({
    type: EXT_UINT64,
    encode: (value) => (typeof value === 'bigint' && value >= 0n ? encodeBigInt(value) : null),
    decode: (data) => {
      if (data.byteLength !== 8) throw new CodecError(`uint64 extension must be 8 bytes, got ${data.byteLength}`);
      return new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0);
    },
  });
  codec.register({
    type: EXT_REF,
    encode: (value) => (value instanceof Ref ? encodeRef(value) : null),
    decode: (data) => decodeRef(data),
  });
  codec.register({
    type: EXT_ATTACHMENT,
    encode: (value, ctx) => (attach === undefined ? null : attach(value, ctx)),
    decode: (data, _type, ctx) => {
      if (detach === undefined) throw new CodecError('attachment extension in a context without attachments');
      return detach(data, ctx);
    },
  });
  return codec;
}

export interface CodecLimits {
  /** Uint8Arrays at least this long travel as raw attachments (Infinity: never). */
  readonly attachmentMinBytes?: number;
  /** Largest string, binary, array, map or extension the decoder accepts. */
  readonly maxItemBytes?: number;
}

/** Encodes values to msgpack + attachments. Not reentrant-safe across `encode` results: see class doc. */
export class MessageEncoder {
  private readonly ctx: EncodeContext;
  private readonly encoder: Encoder<EncodeContext>;

  constructor(limits: CodecLimits = {}) {
    this.ctx = { attachments: [], attachmentMinBytes: limits.attachmentMinBytes ?? ATTACHMENT_MIN_BYTES_DEFAULT };
    const codec = extensionCodec<EncodeContext>((value, ctx) => {
      if (!(value instanceof Uint8Array) || value.byteLength < ctx.attachmentMinBytes) return null;
      const index = ctx.attachments.length;
      ctx.attachments.push(value);
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, index);
      return out;
    }, undefined);
    this.encoder = new Encoder<EncodeContext>({ extensionCodec: codec, context: this.ctx, ignoreUndefined: false });
  }

  /** Encodes `value`. The returned header is valid until the next call. */
  encode(value: unknown): EncodedMessage {
    this.ctx.attachments = [];
    try {
      const header = this.encoder.encodeSharedRef(value);
      return { header, attachments: this.ctx.attachments };
    } catch (err) {
      if (err instanceof CodecError) throw err;
      throw new CodecError(`cannot encode message: ${(err as Error).message}`);
    }
  }
}

/** Decodes msgpack headers with their attachments. Attachments are returned as given (views, no copy). */
export class MessageDecoder {
  private readonly ctx: DecodeContext;
  private readonly decoder: Decoder<DecodeContext>;

  constructor(limits: CodecLimits = {}) {
    const max = limits.maxItemBytes ?? 64 * 1024 * 1024;
    this.ctx = { attachments: [], used: 0 };
    const codec = extensionCodec<DecodeContext>(undefined, (data, ctx) => {
      if (data.byteLength !== 4) throw new CodecError(`attachment extension must be 4 bytes, got ${data.byteLength}`);
      const index = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
      const att = ctx.attachments[index];
      if (att === undefined) throw new CodecError(`attachment index ${index} out of range (${ctx.attachments.length} attached)`);
      ctx.used++;
      return att;
    });
    this.decoder = new Decoder<DecodeContext>({
      extensionCodec: codec,
      context: this.ctx,
      maxStrLength: max,
      maxBinLength: max,
      maxArrayLength: max,
      maxMapLength: max,
      maxExtLength: max,
    });
  }

  /** Decodes one msgpack value; throws `CodecError` on malformed input or bad attachment references. */
  decode(header: Uint8Array, attachments: readonly Uint8Array[] = []): unknown {
    this.ctx.attachments = attachments;
    this.ctx.used = 0;
    let value: unknown;
    try {
      value = this.decoder.decode(header);
    } catch (err) {
      if (err instanceof CodecError) throw err;
      throw new CodecError(`invalid msgpack: ${(err as Error).message}`);
    } finally {
      this.ctx.attachments = [];
    }
    if (this.ctx.used !== attachments.length) {
      throw new CodecError(`frame carries ${attachments.length} attachments but the header references ${this.ctx.used}`);
    }
    return value;
  }
}
