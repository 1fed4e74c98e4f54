/**
 * A small file-system client (thesis §3.2): metadata operations go to the MDS, each with a request
 * id (client name + tid) that a retry reuses so the MDS never applies it twice (thesis B.2.2);
 * file data goes straight to the OSDs through the RADOS object client, striped by the file's
 * layout (thesis §3.2.1; client/striping.ts). Missing objects and ranges read as zeros.
 *
 * Who may call: any code holding the client, in any order; operations on one file are not ordered
 * unless the caller waits for one before the next. What can be lost: a request that ended with
 * ETIMEDOUT may or may not have been applied; data written but not followed by a successful
 * `close` (which reports the new size) is not counted in the file's size.
 */
import type { ActorRef } from '../../runtime/ref.js';
import type { ActorSystem } from '../../runtime/system.js';
import { TroupeError } from '../../runtime/errors.js';
import type { MonitorMsg } from '../rados/monitor/protocol.js';
import { RadosClient, type IoCtx, type RadosClientConfig } from '../rados/client/client.js';
import { stripeExtents, stripeObjectName } from '../rados/client/striping.js';
import type { Inode } from './dir-object.js';
import { DEFAULT_MDS_CONFIG } from './config.js';
import { fail, ok, RETRIED_MDS_ERRORS, type MdsResult } from './errors.js';
import type { MdsMsg, MdsOp, ReaddirReply } from './protocol.js';

export interface CephFsClientConfig {
  /** One attempt of a metadata request. */
  readonly requestTimeoutMs: number;
  /** Attempts per request (same request id) before ETIMEDOUT. */
  readonly attemptsMax: number;
  /** Wait between attempts. */
  readonly retryDelayMs: number;
  /** Object reads and writes in flight per file operation. */
  readonly dataParallelMax: number;
  /** Writes ending past this are refused with EFBIG before any data is sent (the MDS refuses such sizes too). */
  readonly fileSizeBytesMax: number;
}

export const DEFAULT_CEPHFS_CLIENT_CONFIG: CephFsClientConfig = {
  requestTimeoutMs: 5_000,
  attemptsMax: 12,
  retryDelayMs: 500,
  dataParallelMax: 8,
  fileSizeBytesMax: DEFAULT_MDS_CONFIG.fileSizeBytesMax,
};

export interface CephFsClientOptions {
  readonly system: ActorSystem;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  readonly mds: ActorRef<MdsMsg>;
  /** Unique per client instance: it names the client's requests. */
  readonly name: string;
  readonly dataPool: string;
  readonly config?: Partial<CephFsClientConfig>;
  readonly rados?: Partial<RadosClientConfig>;
}

export class CephFsClient {
  private readonly cfg: CephFsClientConfig;
  private nextTid = 1;
  private readonly data: IoCtx;

  private constructor(
    private readonly o: CephFsClientOptions,
    readonly rados: RadosClient,
  ) {
    this.cfg = { ...DEFAULT_CEPHFS_CLIENT_CONFIG, ...o.config };
    this.data = rados.pool(o.dataPool);
  }

  static async connect(o: CephFsClientOptions): Promise<MdsResult<CephFsClient>> {
    const r = await RadosClient.connect({ system: o.system, monitors: o.monitors, name: o.name, ...(o.rados === undefined ? {} : { config: o.rados }) });
    if (!r.ok) return fail('ETIMEDOUT', `no monitor answered: ${r.error.message}`);
    return ok(new CephFsClient(o, r.value));
  }

  close(): void {
    this.rados.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.system.env.timers.after(ms, resolve));
  }

  /** Sends one request, retrying it with the same request id while the MDS does not answer or is restarting. */
  async request<T>(req: MdsOp): Promise<MdsResult<T>> {
    const tid = this.nextTid++;
    let last = 'no attempt';
    for (let attempt = 0; attempt < this.cfg.attemptsMax; attempt++) {
      if (attempt > 0) await this.sleep(this.cfg.retryDelayMs);
      try {
        const r = await this.o.system.ask<MdsResult<T>>(this.o.mds, { type: 'mds.request', client: this.o.name, tid, req }, { timeoutMs: this.cfg.requestTimeoutMs });
        if (r.ok || !RETRIED_MDS_ERRORS.has(r.error.code)) return r;
        last = r.error.message;
      } catch (e) {
        if (!(e instanceof TroupeError)) throw e;
        last = e.message;
      }
    }
    return fail('ETIMEDOUT', `${req.op}: no answer from the MDS after ${this.cfg.attemptsMax} attempts (${last})`);
  }

  // ----- metadata -----

  lookup(path: string): Promise<MdsResult<Inode>> {
    return this.request({ op: 'lookup', path });
  }
  stat(path: string): Promise<MdsResult<Inode>> {
    return this.request({ op: 'stat', path });
  }
  mkdir(path: string, mode?: number): Promise<MdsResult<Inode>> {
    return this.request({ op: 'mkdir', path, ...(mode === undefined ? {} : { mode }) });
  }
  create(path: string, opts: { mode?: number; exclusive?: boolean } = {}): Promise<MdsResult<Inode>> {
    return this.request({ op: 'create', path, ...opts });
  }
  symlink(target: string, path: string): Promise<MdsResult<Inode>> {
    return this.request({ op: 'symlink', target, path });
  }
  link(existing: string, path: string): Promise<MdsResult<Inode>> {
    return this.request({ op: 'link', existing, path });
  }
  unlink(path: string): Promise<MdsResult<object>> {
    return this.request({ op: 'unlink', path });
  }
  rmdir(path: string): Promise<MdsResult<object>> {
    return this.request({ op: 'rmdir', path });
  }
  rename(from: string, to: string): Promise<MdsResult<object>> {
    return this.request({ op: 'rename', from, to });
  }
  setattr(path: string, attrs: { mode?: number; mtimeMs?: number; atimeMs?: number; sizeBytes?: number }): Promise<MdsResult<Inode>> {
    return this.request({ op: 'setattr', path, ...attrs });
  }
  truncate(path: string, sizeBytes: number): Promise<MdsResult<Inode>> {
    return this.setattr(path, { sizeBytes });
  }
  open(path: string, flags: { write?: boolean; create?: boolean; exclusive?: boolean; truncate?: boolean; mode?: number } = {}): Promise<MdsResult<Inode>> {
    return this.request({ op: 'open', path, ...flags });
  }
  closeFile(ino: number, report: { sizeBytes?: number; mtimeMs?: number } = {}): Promise<MdsResult<Inode>> {
    return this.request({ op: 'close', ino, ...report });
  }

  /** Every entry of a directory, with inodes, paging through the MDS's replies. */
  async readdir(path: string): Promise<MdsResult<{ name: string; inode: Inode }[]>> {
    const out: { name: string; inode: Inode }[] = [];
    let after: string | undefined;
    for (;;) {
      const r = await this.request<ReaddirReply>({ op: 'readdir', path, ...(after === undefined ? {} : { after }) });
      if (!r.ok) return r;
      out.push(...r.value.entries);
      const last = r.value.entries[r.value.entries.length - 1];
      if (!r.value.more || last === undefined) return ok(out);
      after = last.name;
    }
  }

  // ----- data -----

  private async parallel<T>(items: readonly T[], f: (x: T) => Promise<MdsResult<true>>): Promise<MdsResult<true>> {
    for (let i = 0; i < items.length; i += this.cfg.dataParallelMax) {
      const rs = await Promise.all(items.slice(i, i + this.cfg.dataParallelMax).map(f));
      const bad = rs.find((r) => !r.ok);
      if (bad !== undefined) return bad;
    }
    return ok(true);
  }

  /**
   * Writes `bytes` at `offset` (opening, creating if `create`): the data goes to the OSDs, then
   * `close` reports the largest offset written and the time (thesis §3.2.1).
   */
  async write(path: string, offset: number, bytes: Uint8Array, opts: { create?: boolean; truncate?: boolean } = {}): Promise<MdsResult<Inode>> {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) return fail('EINVAL', `offset ${offset} is not a non-negative integer`);
    if (offset + bytes.length > this.cfg.fileSizeBytesMax) return fail('EFBIG', `a write ending at ${offset + bytes.length} is past the ${this.cfg.fileSizeBytesMax}-byte maximum file size`);
    const opened = await this.open(path, { write: true, create: opts.create ?? true, ...(opts.truncate === undefined ? {} : { truncate: opts.truncate }) });
    if (!opened.ok) return opened;
    const inode = opened.value;
    if (inode.type !== 'file' || inode.layout === undefined) return fail('EISDIR', `${path} is not a regular file`);
    const layout = inode.layout;
    const w = await this.parallel(stripeExtents(layout, offset, bytes.length), async (x) => {
      const r = await this.data.write(stripeObjectName(inode.ino, x.ono), bytes.subarray(x.logicalOffset - offset, x.logicalOffset - offset + x.length), x.objectOffset).commit;
      return r.ok ? ok(true) : fail('EIO', `write of object ${x.ono} of ${path}: ${r.error.code}: ${r.error.message}`);
    });
    if (!w.ok) return w;
    const report = { sizeBytes: offset + bytes.length, mtimeMs: this.o.system.env.clock.now() };
    const c = await this.closeFile(inode.ino, report);
    if (c.ok || c.error.code !== 'EBADF') return c;
    // The MDS restarted and forgot the open file (reconnect is not built): open again and report.
    const again = await this.open(path, { write: true });
    if (!again.ok) return again;
    return this.closeFile(again.value.ino, report);
  }

  /** Replaces the file's contents. */
  writeFile(path: string, bytes: Uint8Array): Promise<MdsResult<Inode>> {
    return this.write(path, 0, bytes, { create: true, truncate: true });
  }

  /** Up to `length` bytes from `offset`, clipped at the file's size; holes read as zeros. */
  async read(path: string, offset = 0, length = Number.MAX_SAFE_INTEGER): Promise<MdsResult<Uint8Array>> {
    if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) return fail('EINVAL', 'offset and length must be non-negative integers');
    const st = await this.stat(path);
    if (!st.ok) return st;
    const inode = st.value;
    if (inode.type === 'dir') return fail('EISDIR', `${path} is a directory`);
    if (inode.layout === undefined) return fail('EINVAL', `${path} is not a regular file`);
    const n = Math.max(0, Math.min(length, inode.sizeBytes - offset));
    const out = new Uint8Array(n);
    const r = await this.parallel(stripeExtents(inode.layout, offset, n), async (x) => {
      const got = await this.data.read(stripeObjectName(inode.ino, x.ono), x.objectOffset, x.length);
      if (!got.ok) return got.error.code === 'not_found' ? ok(true) : fail('EIO', `read of object ${x.ono} of ${path}: ${got.error.code}: ${got.error.message}`);
      out.set(got.value.subarray(0, x.length), x.logicalOffset - offset);
      return ok(true);
    });
    return r.ok ? ok(out) : r;
  }

  readFile(path: string): Promise<MdsResult<Uint8Array>> {
    return this.read(path);
  }
}
