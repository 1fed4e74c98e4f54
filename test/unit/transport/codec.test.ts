import { describe, expect, it } from 'vitest';
import { CodecError, MessageDecoder, MessageEncoder } from '../../../src/runtime/transport/codec.js';
import { Ref } from '../../../src/runtime/ref.js';

describe('wire codec (msgpack with extension types)', () => {
  const enc = new MessageEncoder({ attachmentMinBytes: 1024 });
  const dec = new MessageDecoder();
  const roundTrip = (v: unknown): unknown => {
    const { header, attachments } = enc.encode(v);
    return dec.decode(header.slice(), attachments);
  };

  it('round-trips 64-bit integers as bigint, including both ends of the range', () => {
    const values = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 123456789012345678n];
    expect(roundTrip({ values })).toEqual({ values });
  });

  it('rejects a bigint outside the 64-bit range (API misuse, not silent truncation)', () => {
    expect(() => enc.encode(2n ** 64n)).toThrow(CodecError);
    expect(() => enc.encode(-(2n ** 63n) - 1n)).toThrow(CodecError);
  });

  it('encodes Ref instances as an extension and decodes them back to Ref', () => {
    const out = roundTrip({ replyTo: new Ref('node-a/w1', 'actor-7') }) as { replyTo: unknown };
    expect(out.replyTo).toBeInstanceOf(Ref);
    expect(out.replyTo).toEqual(new Ref('node-a/w1', 'actor-7'));
  });

  it('lifts large Uint8Arrays out of the msgpack body as attachments, without copying them', () => {
    const big = new Uint8Array(64 * 1024).fill(7);
    const small = new Uint8Array([1, 2, 3]);
    const { header, attachments } = enc.encode({ type: 'put', data: big, tag: small });
    expect(attachments).toHaveLength(1);
    expect(attachments[0]).toBe(big);
    expect(header.byteLength).toBeLessThan(100);
    const out = dec.decode(header.slice(), attachments) as { data: Uint8Array; tag: Uint8Array };
    expect(out.data).toBe(big);
    expect(Array.from(out.tag)).toEqual([1, 2, 3]);
  });

  it('rejects attachment references that point past the attachments sent, and unreferenced attachments', () => {
    const { header } = enc.encode({ data: new Uint8Array(2048) });
    expect(() => dec.decode(header.slice(), [])).toThrow(CodecError);
    const plain = enc.encode({ a: 1 }).header.slice();
    expect(() => dec.decode(plain, [new Uint8Array(4)])).toThrow(CodecError);
  });

  it('reports invalid msgpack as a CodecError', () => {
    expect(() => dec.decode(new Uint8Array([0xc1]))).toThrow(CodecError);
    expect(() => dec.decode(new Uint8Array([0x92, 0x01]))).toThrow(CodecError);
  });
});
