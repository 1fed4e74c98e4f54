/**
 * A server's durable state on its disk (Z9–Z11): the transaction log (txn-log.ts), snapshots
 * `<dir>/snapshot.<zxid, 16 hex>`, and the two epochs ZooKeeper keeps in `acceptedEpoch` and
 * `currentEpoch` (one file here, `<dir>/epochs`, replaced atomically).
 *
 * `run(seq, op)` executes the peer's durable writes strictly in order and reports each completed
 * sequence number; consecutive appends queued while an earlier write was in flight go out as one
 * write and one fsync (group commit, ZooKeeper's SyncRequestProcessor).
 *
 * Snapshots are written beside the log without stopping it (`snapshot`): the state is captured at
 * an applied zxid, the log rolls to a new segment, and once the snapshot file is durable the
 * segments and snapshots it makes unnecessary are removed. Recovery (`open`) takes the newest
 * snapshot whose checksum holds and the log records after its zxid; the state machine's apply is
 * idempotent at or below a snapshot's zxid (Z11), so a snapshot taken while transactions kept
 * arriving (ZooKeeper's fuzzy snapshot) recovers the same way.
 */
import { MessageDecoder, MessageEncoder } from '../../../runtime/transport/codec.js';
import type { Disk } from '../../../storage/disk.js';
import { joinPath, readWholeFile, writeFileAtomically } from '../../../storage/disk.js';
import { decodeFrames, encodeFrame } from '../../../storage/op-log.js';
import type { ZabConfig } from './config.js';
import { ZabInvariantError } from './errors.js';
import type { DurableOp } from './peer.js';
import type { LogEntry, ZabTxn } from './protocol.js';
import { TxnLog } from './txn-log.js';
import type { Zxid } from './zxid.js';

const snapshotPrefix = 'snapshot.';
const epochsFile = 'epochs';

function snapshotFileName(zxid: Zxid): string {
  return `${snapshotPrefix}${zxid.toString(16).padStart(16, '0')}`;
}

function parseSnapshotFileName(name: string): Zxid | undefined {
  if (!name.startsWith(snapshotPrefix)) return undefined;
  const hex = name.slice(snapshotPrefix.length);
  return /^[0-9a-f]{16}$/.test(hex) ? Number.parseInt(hex, 16) : undefined;
}

export interface Recovered {
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  readonly snapshot: { readonly zxid: Zxid; readonly data: Uint8Array } | undefined;
  /** Log entries after the snapshot's zxid. */
  readonly entries: readonly LogEntry[];
  /** Bytes cut from a torn log tail. */
  readonly tornBytes: number;
}

export interface StoreCounters {
  fsyncBatches: number;
  recordsWritten: number;
  snapshotsWritten: number;
  segmentsPurged: number;
}

export class ZabStore {
  private readonly encoder = new MessageEncoder({ attachmentMinBytes: Infinity });
  private readonly decoder: MessageDecoder;
  private readonly queue: Array<{ readonly seq: number; readonly op: DurableOp }> = [];
  private running = false;
  private failed: unknown;
  private snapshotting = false;
  readonly counters: StoreCounters = { fsyncBatches: 0, recordsWritten: 0, snapshotsWritten: 0, segmentsPurged: 0 };

  private constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly log: TxnLog,
    private readonly config: ZabConfig,
    private readonly onDone: (seq: number) => void,
    private readonly onFailed: (err: unknown) => void,
  ) {
    this.decoder = new MessageDecoder({ maxItemBytes: config.snapshotMaxBytes });
  }

  static async open(disk: Disk, dir: string, config: ZabConfig, onDone: (seq: number) => void, onFailed: (err: unknown) => void): Promise<{ store: ZabStore; recovered: Recovered }> {
    const decoder = new MessageDecoder({ maxItemBytes: config.snapshotMaxBytes });
    const names = await disk.list(dir);
    // Epochs: absent on a fresh server.
    let acceptedEpoch = 0;
    let currentEpoch = 0;
    if (names.includes(epochsFile)) {
      const data = await readWholeFile(disk, joinPath(dir, epochsFile), 1024);
      const { records } = decodeFrames(data, 1024);
      const r = records[0];
      if (r === undefined) throw new ZabInvariantError('Z10', `${dir}/${epochsFile} is damaged`);
      const e = decoder.decode(r.payload) as { acceptedEpoch: number; currentEpoch: number };
      acceptedEpoch = e.acceptedEpoch;
      currentEpoch = e.currentEpoch;
    }
    // The newest snapshot that reads back whole.
    let snapshot: Recovered['snapshot'];
    const snaps = names.map(parseSnapshotFileName).filter((z): z is Zxid => z !== undefined).sort((a, b) => b - a);
    for (const zxid of snaps) {
      const data = await readWholeFile(disk, joinPath(dir, snapshotFileName(zxid)), config.snapshotMaxBytes + 64);
      const { records } = decodeFrames(data, config.snapshotMaxBytes + 64);
      const r = records[0];
      if (r !== undefined && r.lsn === zxid) {
        snapshot = { zxid, data: r.payload.slice() };
        break;
      }
    }
    for (const n of names) if (n.endsWith('.tmp')) await disk.remove(joinPath(dir, n), { durable: false });
    const opened = await TxnLog.open(disk, dir, config.txnMaxBytes);
    const base = snapshot?.zxid ?? 0;
    const entries: LogEntry[] = [];
    for (const r of opened.records) if (r.zxid > base) entries.push({ zxid: r.zxid, txn: decoder.decode(r.payload) as ZabTxn });
    const store = new ZabStore(disk, dir, opened.log, config, onDone, onFailed);
    return { store, recovered: { acceptedEpoch, currentEpoch, snapshot, entries, tornBytes: opened.tornBytes } };
  }

  get pendingOps(): number {
    return this.queue.length;
  }

  get logSegments(): number {
    return this.log.segmentCount;
  }

  /** Queues a durable write; `onDone(seq)` follows once it and everything before it is durable. */
  run(seq: number, op: DurableOp): void {
    if (this.failed !== undefined) return;
    this.queue.push({ seq, op });
    if (!this.running) {
      this.running = true;
      void this.loop();
    }
  }

  private async loop(): Promise<void> {
    try {
      // Let the rest of this turn queue its appends too, so they share the fsync.
      for (let i = 0; i < 4; i++) await Promise.resolve();
      while (this.queue.length > 0) {
        const head = this.queue[0] as { seq: number; op: DurableOp };
        if (head.op.kind === 'append') {
          const records: Array<{ zxid: Zxid; payload: Uint8Array }> = [];
          let bytes = 0;
          let lastSeq = head.seq;
          while (this.queue.length > 0) {
            const q = this.queue[0] as { seq: number; op: DurableOp };
            if (q.op.kind !== 'append' || records.length >= this.config.groupCommitMaxRecords || bytes >= this.config.groupCommitMaxBytes) break;
            for (const e of q.op.entries) {
              const payload = this.encode(e.txn);
              records.push({ zxid: e.zxid, payload });
              bytes += payload.length;
            }
            lastSeq = q.seq;
            this.queue.shift();
          }
          await this.log.write(records);
          this.counters.fsyncBatches++;
          this.counters.recordsWritten += records.length;
          this.onDone(lastSeq);
        } else {
          this.queue.shift();
          await this.execute(head.op);
          this.onDone(head.seq);
        }
      }
    } catch (err) {
      // The bytes on disk are unknown now: stop (the server restarts and recovers from what is there).
      this.failed = err;
      this.queue.length = 0;
      this.onFailed(err);
    } finally {
      this.running = false;
    }
  }

  private async execute(op: DurableOp): Promise<void> {
    switch (op.kind) {
      case 'append':
        throw new Error('appends are batched by the loop');
      case 'truncate':
        await this.log.truncateAfter(op.zxid);
        return;
      case 'epochs':
        await writeFileAtomically(this.disk, joinPath(this.dir, epochsFile), encodeFrame(0, this.encode({ acceptedEpoch: op.acceptedEpoch, currentEpoch: op.currentEpoch })));
        return;
      case 'installSnapshot':
        await this.writeSnapshot(op.zxid, op.data);
        await this.log.reset();
        await this.purgeSnapshots();
        return;
      default: {
        const never: never = op;
        throw new Error(`unknown durable op ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Writes a snapshot of the state at `zxid` beside the log (not in the queue: appends go on), rolls
   * the log, then purges what the retained snapshots make unnecessary. Returns false when one is
   * already being written.
   */
  snapshot(zxid: Zxid, data: Uint8Array, done: () => void): boolean {
    if (this.snapshotting || this.failed !== undefined) return false;
    this.snapshotting = true;
    this.log.roll();
    void (async () => {
      try {
        await this.writeSnapshot(zxid, data);
        await this.purgeSnapshots();
        done();
      } catch (err) {
        this.failed = err;
        this.onFailed(err);
      } finally {
        this.snapshotting = false;
      }
    })();
    return true;
  }

  private async writeSnapshot(zxid: Zxid, data: Uint8Array): Promise<void> {
    await writeFileAtomically(this.disk, joinPath(this.dir, snapshotFileName(zxid)), encodeFrame(zxid, data));
    this.counters.snapshotsWritten++;
  }

  /** Keeps the newest `snapshotsRetained` snapshots and the log segments after the oldest kept one. */
  private async purgeSnapshots(): Promise<void> {
    const snaps = (await this.disk.list(this.dir))
      .map(parseSnapshotFileName)
      .filter((z): z is Zxid => z !== undefined)
      .sort((a, b) => b - a);
    const kept = snaps.slice(0, this.config.snapshotsRetained);
    for (const z of snaps.slice(this.config.snapshotsRetained)) await this.disk.remove(joinPath(this.dir, snapshotFileName(z)));
    const oldest = kept[kept.length - 1];
    if (oldest !== undefined) this.counters.segmentsPurged += await this.log.purgeThrough(oldest);
  }

  private encode(value: unknown): Uint8Array {
    return this.encoder.encode(value).header.slice();
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
