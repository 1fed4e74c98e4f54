import type { Clock, Cancel, Timers } from '../runtime/env.js';
import type { ChunkStore } from './chunk-store.js';
import { scrubberConfigDefault, withDefaults, type ScrubberConfig } from './config.js';
import { assert, isStorageError } from './errors.js';

/**
 * The background scrubber (patent ¶128): during idle periods it reads and verifies inactive chunks,
 * so corruption in rarely read chunks is found and the master re-clones them before it counts a
 * corrupt replica as a good one.
 *
 * It walks chunks in handle order, skipping those accessed within `idleAfterMs`, verifying
 * `sliceBytes` at a time through `ChunkStore.verify` (which reports corruption through the store's
 * corruption event). After each slice it pauses `bytes / scrubBandwidthBytesPerSec`, so it never
 * reads faster than the bound on average; after a full pass, or when nothing is idle, it rests
 * `restMs`. Time and pauses come from the injected clock and timers.
 */
export class Scrubber {
  readonly config: ScrubberConfig;
  private cancel: Cancel | undefined;
  private running = false;
  private busy = false;
  /** Position: the chunk being scrubbed and the next offset in it. */
  private cursorHandle: string | undefined;
  private cursorOffset = 0;
  private bytes = 0;
  private passes = 0;

  constructor(
    private readonly store: ChunkStore,
    private readonly clock: Clock,
    private readonly timers: Timers,
    config?: Partial<ScrubberConfig>,
  ) {
    this.config = withDefaults(scrubberConfigDefault, config);
    assert(this.config.scrubBandwidthBytesPerSec > 0, 'scrubBandwidthBytesPerSec > 0');
    assert(this.config.sliceBytes > 0, 'sliceBytes > 0');
  }

  /** Bytes verified so far. */
  get bytesVerified(): number {
    return this.bytes;
  }

  /** Complete passes over every idle chunk. */
  get passesCompleted(): number {
    return this.passes;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.cancel?.();
    this.cancel = undefined;
  }

  /**
   * Verifies one slice of the next idle chunk; returns the bytes verified (0 when nothing is idle,
   * or a pass just ended). Exposed for tests and for callers that drive scrubbing themselves.
   */
  async step(): Promise<number> {
    assert(!this.busy, 'one scrub step at a time');
    this.busy = true;
    try {
      const now = this.clock.now();
      const idle = this.store
        .list()
        .filter((c) => !c.corrupt && c.sizeBytes > 0 && now - c.lastAccessMs >= this.config.idleAfterMs)
        .map((c) => c.handle)
        .sort();
      let handle = this.cursorHandle;
      if (handle === undefined || !idle.includes(handle)) {
        // Move on to the next idle chunk after the cursor; wrapping around ends a pass.
        const after = handle;
        const next = after === undefined ? idle[0] : idle.find((h) => h > after);
        if (next === undefined) {
          if (after !== undefined) this.passes++;
          this.cursorHandle = undefined;
          this.cursorOffset = 0;
          return 0;
        }
        handle = next;
        this.cursorHandle = next;
        this.cursorOffset = 0;
      }
      let verified = 0;
      try {
        verified = await this.store.verify(handle, this.cursorOffset, this.config.sliceBytes);
      } catch (err) {
        // Corruption was reported by the store; a deleted chunk is simply skipped.
        if (!isStorageError(err)) throw err;
      }
      this.bytes += verified;
      const size = this.store.has(handle) ? this.store.info(handle).sizeBytes : 0;
      this.cursorOffset += this.config.sliceBytes;
      if (verified === 0 || this.cursorOffset >= size) {
        // Done with this chunk: the next step starts the chunk after it.
        this.cursorOffset = 0;
        const after = handle;
        const next = idle.find((h) => h > after);
        if (next === undefined) {
          this.passes++;
          this.cursorHandle = undefined;
        } else {
          this.cursorHandle = next;
        }
      }
      return verified;
    } finally {
      this.busy = false;
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.cancel = this.timers.after(delayMs, () => {
      this.cancel = undefined;
      void this.step().then(
        (verified) => this.schedule(verified === 0 ? this.config.restMs : (verified * 1000) / this.config.scrubBandwidthBytesPerSec),
        () => this.schedule(this.config.restMs),
      );
    });
  }
}
