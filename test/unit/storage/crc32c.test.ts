import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../../src/runtime/random.js';
import { crc32c, crc32cCheckValue, crc32cImplementation, crc32cJs, loadNativeCrc32c } from '../../../src/storage/crc32c.js';
import { bytesOf } from './helpers.js';

describe('CRC32C (issue 4 item 2)', () => {
  it('the pure-JS slice-by-8 gives the standard check value crc32c("123456789") = 0xE3069283', () => {
    expect(crc32cJs(bytesOf('123456789'))).toBe(crc32cCheckValue);
    expect(crc32cCheckValue).toBe(0xe3069283);
  });

  it('the native @node-rs/crc32 loads here, passes the check value, and is the one in use', async () => {
    const native = await loadNativeCrc32c();
    expect(native).toBeDefined();
    expect(native!(bytesOf('123456789'))).toBe(0xe3069283);
    expect(crc32cImplementation).toBe('native');
    expect(crc32c(bytesOf('123456789'))).toBe(0xe3069283);
  });

  it('native and JS agree on random data of every length up to 600 bytes and on large buffers, chained or not', async () => {
    const native = (await loadNativeCrc32c())!;
    const seed = 4242;
    const r = seededRandom(seed);
    for (let n = 0; n <= 600; n++) {
      const data = r.bytes(n);
      const init = r.uint32();
      expect(native(data), `seed ${seed} length ${n}`).toBe(crc32cJs(data));
      expect(native(data, init), `seed ${seed} length ${n} chained`).toBe(crc32cJs(data, init));
      expect(crc32c(data, init)).toBe(crc32cJs(data, init));
    }
    for (const n of [4096, 65536, 65536 + 7, 1 << 20]) {
      const data = r.bytes(n);
      expect(native(data), `seed ${seed} length ${n}`).toBe(crc32cJs(data));
    }
  });

  it('a checksum continued over a second buffer equals the checksum of both (incremental update, patent ¶126)', () => {
    const r = seededRandom(7);
    const a = r.bytes(1000);
    const b = r.bytes(3333);
    const ab = new Uint8Array(a.length + b.length);
    ab.set(a);
    ab.set(b, a.length);
    expect(crc32c(b, crc32c(a))).toBe(crc32c(ab));
    expect(crc32cJs(b, crc32cJs(a))).toBe(crc32cJs(ab));
  });
});

describe('CRC32C fallback', () => {
  it('when the native module gives a wrong answer, crc32c.ts falls back to the pure-JS version and still passes the vector', async () => {
    vi.resetModules();
    vi.doMock('@node-rs/crc32', () => ({ crc32c: () => 0 }));
    try {
      const mod = await import('../../../src/storage/crc32c.js');
      expect(mod.crc32cImplementation).toBe('js');
      expect(mod.crc32c(bytesOf('123456789'))).toBe(0xe3069283);
      const data = seededRandom(5).bytes(70_000);
      expect(mod.crc32c(data)).toBe(crc32cJs(data));
    } finally {
      vi.doUnmock('@node-rs/crc32');
      vi.resetModules();
    }
  });

  it('when the native module is missing, crc32c.ts uses the pure-JS version', async () => {
    vi.resetModules();
    vi.doMock('@node-rs/crc32', () => {
      throw new Error('Cannot find module @node-rs/crc32-linux-x64-gnu');
    });
    try {
      const mod = await import('../../../src/storage/crc32c.js');
      expect(mod.crc32cImplementation).toBe('js');
      expect(mod.crc32c(bytesOf('123456789'))).toBe(0xe3069283);
    } finally {
      vi.doUnmock('@node-rs/crc32');
      vi.resetModules();
    }
  });
});
