import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, encodeFrame } from '../../../src/runtime/transport/frame.js';

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

describe('TCP frames: length + msgpack header + raw attachments', () => {
  const header = new Uint8Array([0x93, 1, 2, 3]);
  const att = [new Uint8Array(5000).fill(9), new Uint8Array(3).fill(1)];

  it('encodes attachments as separate chunks (vectored write, no copy of the payload)', () => {
    const chunks = encodeFrame(header, att, 1 << 20);
    expect(chunks[1]).toBe(att[0]);
    expect(chunks[2]).toBe(att[1]);
  });

  it('decodes frames split at every possible byte boundary', () => {
    const wire = concat([...encodeFrame(header, att, 1 << 20), ...encodeFrame(header, [], 1 << 20)]);
    for (let cut = 1; cut < wire.byteLength; cut += 97) {
      const d = new FrameDecoder(1 << 20);
      const frames = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
      expect(frames).toHaveLength(2);
      expect(Array.from(frames[0]!.header)).toEqual([0x93, 1, 2, 3]);
      expect(frames[0]!.attachments.map((a) => a.byteLength)).toEqual([5000, 3]);
      expect(frames[1]!.attachments).toEqual([]);
      expect(d.partial).toBe(false);
    }
  });

  it('rejects an oversized length before buffering the frame', () => {
    const d = new FrameDecoder(1000);
    expect(() => d.push(new Uint8Array([0, 1, 0, 0]))).toThrow(/exceeds maxFrameBytes/);
    expect(() => encodeFrame(header, att, 1000)).toThrow(FrameError);
  });

  it('rejects frames whose sections do not add up to the frame length', () => {
    const wire = concat(encodeFrame(header, att, 1 << 20));
    wire[7] = (wire[7] ?? 0) + 1; // header length off by one
    expect(() => new FrameDecoder(1 << 20).push(wire)).toThrow(/add up/);
  });

  it('reports a partial frame so that the stream ending mid-frame is a truncation', () => {
    const wire = concat(encodeFrame(header, att, 1 << 20));
    const d = new FrameDecoder(1 << 20);
    expect(d.push(wire.subarray(0, 20))).toEqual([]);
    expect(d.partial).toBe(true);
  });

  it('assembles a split frame so that each attachment owns its buffer (transferable to a thread without a copy)', () => {
    const big = new Uint8Array(200_000).fill(4);
    const wire = concat(encodeFrame(header, [big, new Uint8Array(0), att[1]!], 1 << 20));
    const d = new FrameDecoder(1 << 20);
    const frames: ReturnType<FrameDecoder['push']> = [];
    for (let pos = 0; pos < wire.byteLength; pos += 65_536) frames.push(...d.push(wire.subarray(pos, pos + 65_536)));
    expect(frames).toHaveLength(1);
    const got = frames[0]!.attachments;
    expect(got.map((a) => a.byteLength)).toEqual([200_000, 0, 3]);
    expect(got[0]!.byteOffset).toBe(0);
    expect(got[0]!.buffer.byteLength).toBe(200_000);
    expect(got[0]!.every((b) => b === 4)).toBe(true);
    expect(Array.from(frames[0]!.header)).toEqual([0x93, 1, 2, 3]);
  });

  it('rejects a header that runs past the frame length while assembling', () => {
    const wire = concat(encodeFrame(header, att, 1 << 20));
    wire[4] = 0x7f; // header length far beyond the frame
    const d = new FrameDecoder(1 << 20);
    expect(() => {
      d.push(wire.subarray(0, 8));
      d.push(wire.subarray(8, 14));
    }).toThrow(FrameError);
  });
});
