/**
 * The checksummed frame around every record the MDS stores (directory objects, journal entries,
 * the journal header): magic, payload length, CRC32C over magic, length and payload, then the
 * payload (JSON). STYLE.md: data integrity is checked at both ends — before persisting and after
 * reading. Pure.
 */
import { crc32c } from '../../storage/crc32c.js';

export const FRAME_HEADER_BYTES = 12;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(magic: number, value: unknown): Uint8Array {
  const payload = utf8.encode(JSON.stringify(value));
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, magic >>> 0, true);
  dv.setUint32(4, payload.length, true);
  out.set(payload, FRAME_HEADER_BYTES);
  dv.setUint32(8, frameCrc(out, payload.length), true);
  return out;
}

function frameCrc(buf: Uint8Array, payloadBytes: number): number {
  const head = crc32c(buf.subarray(0, 8));
  return crc32c(buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadBytes), head) >>> 0;
}

export type FrameRead =
  | { readonly kind: 'ok'; readonly value: unknown; readonly bytes: number }
  /** Not enough bytes for the header or the payload it announces. */
  | { readonly kind: 'short' }
  /** The bytes are not a frame: wrong magic, bad checksum, or a payload that does not parse. */
  | { readonly kind: 'bad'; readonly reason: string };

/** Reads the frame at `offset` of `buf`. */
export function decodeFrame(buf: Uint8Array, offset: number, magic: number, payloadBytesMax: number): FrameRead {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'short' };
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, buf.length - offset);
  if (dv.getUint32(0, true) !== magic >>> 0) return { kind: 'bad', reason: 'wrong magic' };
  const len = dv.getUint32(4, true);
  if (len > payloadBytesMax) return { kind: 'bad', reason: `payload of ${len} bytes is over the ${payloadBytesMax}-byte limit` };
  if (buf.length - offset < FRAME_HEADER_BYTES + len) return { kind: 'short' };
  const frame = buf.subarray(offset, offset + FRAME_HEADER_BYTES + len);
  if (frameCrc(frame, len) !== dv.getUint32(8, true)) return { kind: 'bad', reason: 'checksum mismatch' };
  try {
    return { kind: 'ok', value: JSON.parse(utf8d.decode(frame.subarray(FRAME_HEADER_BYTES))), bytes: FRAME_HEADER_BYTES + len };
  } catch (e) {
    return { kind: 'bad', reason: `payload does not parse: ${(e as Error).message}` };
  }
}
