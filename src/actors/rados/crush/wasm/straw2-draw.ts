/**
 * Loads the straw2 draw module (straw2-draw.wat; README "Speed against crushtool"): straw2's
 * hash-and-draw loop with four items' rjenkins hashes in the lanes of one SIMD register. It
 * computes exactly what `straw2ChooseFlat` (../buckets.ts) computes (README I0–I2; both are held
 * to `bucketChoose` by test/unit/crush/buckets.test.ts), only faster; where WebAssembly SIMD is
 * missing, `straw2DrawModule()` returns undefined and the mapper uses `straw2ChooseFlat`.
 *
 * One instance per thread. Its memory holds the ln table and then the straw2 buckets of one map
 * at a time ("the loaded image"): the mapper loads a map's image when it maps with a map other
 * than the last one, so each map's ids and weights are copied once per switch, never kept.
 */
import { straw2LnTable } from '../ln.js';
import { STRAW2_DRAW_WASM_HEX } from './straw2-draw-module.js';

/**
 * The part of the WebAssembly JS API used here: the project compiles against ES2023 and Node's
 * types, and neither declares it (TypeScript's DOM library does).
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Readonly<Record<string, unknown>> };
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
};

/** Byte offset of the bucket region: below it, the ln table (65,536 f64). */
export const STRAW2_REGION_OFFSET = 0x10000 * 8;

const PAGE_BYTES = 0x10000;

export interface Straw2DrawModule {
  /**
   * The index of straw2's winning item among `n` >= 1 items whose ids (int32, padded with zeros
   * to a multiple of four) and 16.16 weights (f64) start at the given byte offsets of memory.
   */
  readonly draw: (itemsOffset: number, weightsOffset: number, n: number, x: number, r: number) => number;
  /** Copies a bucket region image to STRAW2_REGION_OFFSET (growing memory if needed) and records its owner. */
  load(owner: object, image: Uint8Array): void;
  /** The owner of the image now in memory. */
  loadedOwner(): object | undefined;
}

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

let instance: Straw2DrawModule | null | undefined;

/** This thread's module, built on first use; undefined where WebAssembly (with SIMD) is unavailable. */
export function straw2DrawModule(): Straw2DrawModule | undefined {
  if (instance === undefined) instance = instantiate();
  return instance ?? undefined;
}

function instantiate(): Straw2DrawModule | null {
  let exports: Readonly<Record<string, unknown>>;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(hexBytes(STRAW2_DRAW_WASM_HEX)), {}).exports;
  } catch {
    return null; // no WebAssembly or no SIMD: the JS path is exact too, only slower
  }
  const memory = exports['memory'];
  const draw = exports['straw2'];
  if (!(memory instanceof WebAssembly.Memory) || typeof draw !== 'function') throw new Error('straw2 draw module: unexpected exports');
  new Float64Array(memory.buffer, 0, 0x10000).set(straw2LnTable());
  let owner: object | undefined;
  return {
    draw: draw as Straw2DrawModule['draw'],
    load(newOwner: object, image: Uint8Array): void {
      const needed = STRAW2_REGION_OFFSET + image.length;
      if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
      new Uint8Array(memory.buffer).set(image, STRAW2_REGION_OFFSET);
      owner = newOwner;
    },
    loadedOwner: () => owner,
  };
}
