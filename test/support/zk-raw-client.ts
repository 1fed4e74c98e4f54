/**
 * A bare TCP client for the ZooKeeper wire protocol: sends frames as given and collects every
 * frame the server sends back, and whether the server closed the connection. For tests of exact
 * wire behaviour and bad input.
 */
import { connect, type Socket } from 'node:net';

export class RawZkClient {
  private buf = Buffer.alloc(0);
  readonly frames: Buffer[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const len = this.buf.readInt32BE(0);
        if (len < 0 || this.buf.length < 4 + len) break;
        this.frames.push(this.buf.subarray(0, 4 + len));
        this.buf = this.buf.subarray(4 + len);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawZkClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawZkClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Raw bytes received but not forming a whole frame (e.g. four-letter-word text). */
  get rest(): Buffer {
    return this.buf;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits until `pred` holds (checked on every received frame and on close), or rejects after timeoutMs. */
  until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms; have ${this.frames.length} frames, closed=${this.closed}`)), timeoutMs);
      const check = (): void => {
        if (pred()) {
          clearTimeout(t);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
