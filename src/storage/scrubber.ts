import type { Clock, Cancel, Timers } from '../runtime/env.js';
import type { ChunkHandle, ChunkInfo, ChunkStore } from './chunk-store.js';
import { scrubberConfigDefault, withDefaults, type ScrubberConfig } from './config.js';
import { assert, isStorageError } from './errors.js';

/**
 * The background scrubber (patent ¶128): during idle periods it reads and verifies inactive chunks,
 * so corruption in rarely read chunks is found and the master re-clones them before it counts a
 * corrupt replica as a good one.
 *
 * It works in passes, as scrubs are scheduled in practice (a scan period, not a continuous re-read):
 * a pass takes the chunks idle for `idleAfterMs` when it starts, in handle order, and verifies each
 * `sliceBytes` at a time through `ChunkStore.verify` (which reports corruption through the store's
 * corruption event). A chunk that was accessed, found corrupt or deleted since the pass started is
 * skipped (its readers and writers verify it themselves, ¶124–127). After each slice it pauses
 * `bytes / scrubBandwidthBytesPerSec`, so it never reads faster than the bound on average. After a
 * full pass, or when nothing is idle, it rests `restMs` before the next pass: an idle chunk is
 * verified once per pass, and a pass starts at most `restMs` plus its own reading time after the
 * previous one (the bound on how long damage in an idle chunk goes unnoticed). Time and pauses come
 * from the injected clock and timers.
 */
export class Scrubber {
  readonly config: ScrubberConfig;
  private cancel: Cancel | undefined;
  private running = false;
  private busy = false;
  /** The pass in progress: its chunks (handle order), the one being scrubbed and the next offset in it. */
  private pass: { readonly handles: readonly ChunkHandle[]; index: number; offset: number } | undefined;
  /** Set when the last step ended a pass (or found nothing idle): the scrubber rests before the next. */
  private passEnded = false;
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
   * Verifies one slice of the pass's next chunk, starting a pass when none is in progress; returns
   * the bytes verified (0 when nothing is idle, or a pass just ended with nothing left to verify).
   * Exposed for tests and for callers that drive scrubbing themselves.
   */
  async step(): Promise<number> {
    assert(!this.busy, 'one scrub step at a time');
    this.busy = true;
    this.passEnded = false;
    try {
      const now = this.clock.now();
      const idle = (c: ChunkInfo): boolean => !c.corrupt && c.sizeBytes > 0 && now - c.lastAccessMs >= this.config.idleAfterMs;
      if (this.pass === undefined) {
        const handles = this.store
          .list()
          .filter(idle)
          .map((c) => c.handle)
          .sort();
        if (handles.length === 0) {
          this.passEnded = true;
          return 0;
        }
        this.pass = { handles, index: 0, offset: 0 };
      }
      const pass = this.pass;
      // The next chunk of the pass that is still there and still idle.
      while (pass.index < pass.handles.length) {
        const h = pass.handles[pass.index] as ChunkHandle;
        if (this.store.has(h) && idle(this.store.info(h))) break;
        pass.index++;
        pass.offset = 0;
      }
      if (pass.index >= pass.handles.length) {
        this.endPass();
        return 0;
      }
      const handle = pass.handles[pass.index] as ChunkHandle;
      let verified = 0;
      try {
        verified = await this.store.verify(handle, pass.offset, this.config.sliceBytes);
      } catch (err) {
        // Corruption was reported by the store; a deleted chunk is simply skipped.
        if (!isStorageError(err)) throw err;
      }
      this.bytes += verified;
      const size = this.store.has(handle) ? this.store.info(handle).sizeBytes : 0;
      pass.offset += this.config.sliceBytes;
      if (verified === 0 || pass.offset >= size) {
        // Done with this chunk: the next step starts the one after it.
        pass.index++;
        pass.offset = 0;
        if (pass.index >= pass.handles.length) this.endPass();
      }
      return verified;
    } finally {
      this.busy = false;
    }
  }

  private endPass(): void {
    this.passes++;
    this.pass = undefined;
    this.passEnded = true;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.cancel = this.timers.after(delayMs, () => {
      this.cancel = undefined;
      void this.step().then(
        // The pause that keeps the slice within the bandwidth bound, and the rest after a pass.
        (verified) => this.schedule(Math.max((verified * 1000) / this.config.scrubBandwidthBytesPerSec, this.passEnded ? this.config.restMs : 0)),
        () => this.schedule(this.config.restMs),
      );
    });
  }
}
