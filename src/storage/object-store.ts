import { decode, encode } from '@msgpack/msgpack';
import type { Defer } from '../runtime/env.js';
import { appendParts, joinPath, type Disk } from './disk.js';
import { crc32c } from './crc32c.js';
import { objectStoreConfigDefault, withDefaults, type CheckpointConfig, type ObjectStoreConfig, type OpLogConfig } from './config.js';
import { StorageError, assert, isStorageError } from './errors.js';
import { CheckpointStore } from './checkpoint.js';
import { OpLog } from './op-log.js';
import { Page, emptyData, readData, truncateData, writeData, type ObjectData, type PageLoc } from './object-data.js';

/**
 * The OSD object store, after EBOFS (thesis ch. 7, §7.1): objects with byte data and named
 * attributes, grouped in collections (RADOS uses one per placement group), changed only by atomic
 * multi-operation transactions.
 *
 * Each transaction gets two notifications (thesis §6.3.2): `applied` (the ack) when its changes are
 * visible to reads, and `committed` when they are durable. A transaction is validated and applied
 * in memory in one synchronous step (all or nothing: a failing operation rolls back the ones
 * before it), then appended as one record to an `OpLog`; its group commit fires `committed`. A crash
 * therefore rolls back to a prefix of the applied transactions that holds every committed one
 * (EBOFS rolls back to its last commit, thesis §7.3). Checkpoints bound the log (patent ¶49–51).
 *
 * Costs (storage README, "Object store"): object data lives in memory in pages copied on write
 * (`object-data.ts`), so a write of n bytes copies n bytes once; its log record is a small header
 * followed by the written bytes as they are, framed and written without joining them; a checkpoint
 * writes only the pages changed since the previous one to a data segment of its own, plus a
 * metadata file naming where every page is. Bounded by `storeMaxBytes` in memory.
 */

export type CollectionId = string;
export type ObjectId = string;

export type TransactionOp =
  | { readonly op: 'createCollection'; readonly cid: CollectionId }
  /** The collection must be empty. */
  | { readonly op: 'removeCollection'; readonly cid: CollectionId }
  | { readonly op: 'setCollectionAttr'; readonly cid: CollectionId; readonly name: string; readonly value: Uint8Array }
  /** Creates the object if it does not exist. */
  | { readonly op: 'touch'; readonly cid: CollectionId; readonly oid: ObjectId }
  /** Creates the object if needed; a gap before `offsetBytes` reads as zeros. */
  | { readonly op: 'write'; readonly cid: CollectionId; readonly oid: ObjectId; readonly offsetBytes: number; readonly data: Uint8Array }
  | { readonly op: 'truncate'; readonly cid: CollectionId; readonly oid: ObjectId; readonly sizeBytes: number }
  | { readonly op: 'remove'; readonly cid: CollectionId; readonly oid: ObjectId }
  | { readonly op: 'setAttr'; readonly cid: CollectionId; readonly oid: ObjectId; readonly name: string; readonly value: Uint8Array }
  | { readonly op: 'removeAttr'; readonly cid: CollectionId; readonly oid: ObjectId; readonly name: string };

export interface Transaction {
  readonly ops: readonly TransactionOp[];
}

export interface TransactionHandle {
  /** Settles when the transaction's changes are visible to reads (the ack). Rejects with `invalid_transaction` or `no_space` when nothing was applied. */
  readonly applied: Promise<void>;
  /** Settles when the transaction is durable (the commit). */
  readonly committed: Promise<void>;
}

interface ObjectRecord {
  readonly data: ObjectData;
  readonly attrs: ReadonlyMap<string, Uint8Array>;
}

interface Collection {
  readonly attrs: Map<string, Uint8Array>;
  readonly objects: Map<ObjectId, ObjectRecord>;
}

type State = Map<CollectionId, Collection>;

const emptyAttrs: ReadonlyMap<string, Uint8Array> = new Map();

const dataSegmentPrefix = 'data-';

export function dataSegmentName(checkpointLsn: number): string {
  return `${dataSegmentPrefix}${checkpointLsn.toString().padStart(16, '0')}`;
}

function parseDataSegmentName(name: string): number | undefined {
  if (!name.startsWith(dataSegmentPrefix)) return undefined;
  const digits = name.slice(dataSegmentPrefix.length);
  return /^\d{16}$/.test(digits) ? Number(digits) : undefined;
}

/** Bytes per `appendParts` call when a checkpoint writes its data segment (bounds the simulated disk's copy). */
const segmentWriteBatchBytes = 16 * 1024 * 1024;
/** Largest single read when recovery loads a checkpoint's pages (contiguous pages are read together). */
const loadReadMaxBytes = 16 * 1024 * 1024;

export class ObjectStore {
  private readonly state: State = new Map();
  private usedBytes = 0;
  private logBytesSinceCheckpoint = 0;
  private checkpointing: Promise<number> | undefined;
  private failure: unknown;
  /** LSN of the newest checkpoint known complete (0: none). */
  private checkpointLsn: number;
  /** Data segments the newest checkpoint may reference, with their sizes (for compaction). */
  private readonly segmentBytes: Map<number, number>;
  /** Data segments each checkpoint references, for the checkpoints this process wrote or loaded. */
  private readonly refs = new Map<number, ReadonlySet<number>>();

  private constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly log: OpLog,
    private readonly checkpoints: CheckpointStore,
    readonly config: ObjectStoreConfig,
    loaded: { readonly lsn: number; readonly segs: ReadonlySet<number>; readonly segmentBytes: Map<number, number> },
  ) {
    this.checkpointLsn = loaded.lsn;
    this.segmentBytes = loaded.segmentBytes;
    if (loaded.lsn > 0) this.refs.set(loaded.lsn, loaded.segs);
  }

  /**
   * Opens the store in `dir`: loads the newest checkpoint whose metadata and data pages check out
   * (older ones when it does not: patent ¶51), then replays the log after it.
   */
  static async open(
    disk: Disk,
    options: {
      readonly dir: string;
      readonly config?: Partial<ObjectStoreConfig>;
      readonly logConfig?: Partial<OpLogConfig>;
      readonly checkpointConfig?: Partial<CheckpointConfig>;
      /** The runtime's macrotask `Defer`, so every transaction of a turn shares one group commit. */
      readonly defer?: Defer;
    },
  ): Promise<ObjectStore> {
    const config = withDefaults(objectStoreConfigDefault, options.config);
    assert(Number.isSafeInteger(config.pageBytes) && config.pageBytes >= 1, 'pageBytes is a positive integer');
    const checkpoints = new CheckpointStore(disk, options.dir, options.checkpointConfig);
    checkpoints.skipped.length = 0;
    const state: State = new Map();
    let loaded = { lsn: 0, segs: new Set<number>() as ReadonlySet<number>, segmentBytes: new Map<number, number>() };
    const lsns = await checkpoints.list();
    for (let i = lsns.length - 1; i >= 0; i--) {
      const lsn = lsns[i]!;
      const r = await checkpoints.read(lsn);
      if ('problem' in r) {
        checkpoints.skipped.push({ name: `checkpoint ${lsn}`, problem: r.problem });
        continue;
      }
      try {
        const l = await loadCheckpoint(disk, options.dir, r.data, config.pageBytes, state);
        loaded = { lsn, ...l };
        break;
      } catch (err) {
        if (!isStorageError(err) || err.code === 'crashed' || err.code === 'closed') throw err;
        state.clear();
        checkpoints.skipped.push({ name: `checkpoint ${lsn}`, problem: err.message });
      }
    }
    const log = await OpLog.open(disk, {
      dir: options.dir,
      ...(options.logConfig === undefined ? {} : { config: options.logConfig }),
      afterLsn: loaded.lsn,
      onRecord: (r) => {
        const txn = decodeTransaction(r.payload);
        // A logged transaction was valid when applied; replaying it onto the same state cannot fail.
        applyAll(state, txn, [], Number.MAX_SAFE_INTEGER, { used: 0 }, config.pageBytes, undefined);
      },
      ...(options.defer === undefined ? {} : { defer: options.defer }),
    });
    const store = new ObjectStore(disk, options.dir, log, checkpoints, config, loaded);
    for (const [cid, c] of state) store.state.set(cid, c);
    store.usedBytes = measure(state);
    return store;
  }

  /**
   * Applies a transaction atomically and logs it. Both notifications always settle; an invalid
   * transaction rejects both with the same error and changes nothing.
   */
  submit(txn: Transaction): TransactionHandle {
    const handle = this.submitInner(txn);
    // Callers may await only one of the two; the other must not surface as an unhandled rejection.
    handle.applied.catch(() => undefined);
    handle.committed.catch(() => undefined);
    return handle;
  }

  /**
   * `submit` for callers that must know at once whether the transaction applied (the RADOS OSD
   * orders its PG updates by it): applies synchronously and returns the commit promise, or the
   * error that left the store unchanged.
   */
  applyNow(txn: Transaction): { readonly ok: true; readonly committed: Promise<void> } | { readonly ok: false; readonly error: unknown } {
    const r = this.applyInner(txn);
    if (r.ok) r.committed.catch(() => undefined);
    return r;
  }

  private submitInner(txn: Transaction): TransactionHandle {
    const r = this.applyInner(txn);
    if (!r.ok) return { applied: Promise.reject(r.error), committed: Promise.reject(r.error) };
    return { applied: Promise.resolve(), committed: r.committed };
  }

  private applyInner(txn: Transaction): { readonly ok: true; readonly committed: Promise<void> } | { readonly ok: false; readonly error: unknown } {
    const fail = (error: unknown): { ok: false; error: unknown } => ({ ok: false, error });
    if (this.failure !== undefined) return fail(new StorageError('closed', `the object store is unusable after a log failure: ${String(this.failure)}`));
    if (txn.ops.length === 0) return fail(new StorageError('invalid_transaction', 'empty transaction'));
    if (txn.ops.length > this.config.transactionMaxOps) return fail(new StorageError('invalid_transaction', `${txn.ops.length} operations exceed transactionMaxOps ${this.config.transactionMaxOps}`));
    if (this.log.pendingRecords >= this.log.config.pendingMaxRecords) {
      return fail(new StorageError('backlog_full', `${this.log.pendingRecords} transactions wait for commit; retry after earlier ones commit`));
    }
    const header = encodeRecordHeader(txn);
    let recordBytes = header.length;
    for (const op of txn.ops) if (op.op === 'write') recordBytes += op.data.length;
    if (recordBytes > this.log.config.recordMaxBytes) return fail(new StorageError('invalid_transaction', `transaction encodes to ${recordBytes} bytes, more than recordMaxBytes ${this.log.config.recordMaxBytes}`));
    const undo: (() => void)[] = [];
    const used = { used: this.usedBytes };
    // The record: the header, then each write's bytes as views of the pages they were copied into.
    const parts: Uint8Array[] = [header];
    try {
      applyAll(this.state, txn, undo, this.config.storeMaxBytes, used, this.config.pageBytes, parts);
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      return fail(err);
    }
    this.usedBytes = used.used;
    const committed = this.log.append(parts).then(
      () => undefined,
      (err: unknown) => {
        // Applied but not durable: the in-memory state is ahead of the disk for good. Refuse further work.
        this.failure = err;
        throw err;
      },
    );
    this.logBytesSinceCheckpoint += recordBytes;
    if (this.config.checkpointEveryLogBytes > 0 && this.logBytesSinceCheckpoint >= this.config.checkpointEveryLogBytes && this.checkpointing === undefined) {
      this.checkpoint().catch(() => undefined);
    }
    return { ok: true, committed };
  }

  /**
   * Writes a checkpoint of the current state without blocking transactions (patent ¶50): the state
   * is captured at the log boundary (a shallow copy; object records and pages are immutable), then
   * the pages changed since the last checkpoint are written to a new data segment and the metadata
   * (every object's attributes and page locations) to the checkpoint file. Resolves with the
   * checkpoint's LSN (the previous one's when nothing was logged since).
   */
  checkpoint(): Promise<number> {
    if (this.checkpointing !== undefined) return this.checkpointing;
    this.logBytesSinceCheckpoint = 0;
    const { boundaryLsn, done } = this.log.rotate();
    // Awaited below; handled now so a log failure meanwhile is not an unhandled rejection.
    done.catch(() => undefined);
    const view = captureState(this.state);
    const p = (boundaryLsn <= this.checkpointLsn ? done.then(() => this.checkpointLsn) : this.writeCheckpoint(boundaryLsn, done, view)).finally(() => {
      this.checkpointing = undefined;
    });
    this.checkpointing = p;
    return p;
  }

  private async writeCheckpoint(lsn: number, logDurable: Promise<void>, view: State): Promise<number> {
    // Segments whose live pages fell below the threshold are compacted: their pages are written again.
    const live = new Map<number, number>();
    forEachPage(view, (page) => {
      if (page.loc !== undefined) live.set(page.loc.seg, (live.get(page.loc.seg) ?? 0) + page.bytes.length);
    });
    const compact = new Set<number>();
    for (const [seg, size] of this.segmentBytes) if ((live.get(seg) ?? 0) < size * this.config.segmentCompactBelowLiveFraction) compact.add(seg);
    const placed: { readonly page: Page; readonly loc: PageLoc }[] = [];
    const segs = new Set<number>();
    let segmentBytes = 0;
    const meta = encodeMeta(view, this.config.pageBytes, segs, (page) => {
      const old = page.loc;
      if (old !== undefined && !compact.has(old.seg)) return old;
      const loc = { seg: lsn, off: segmentBytes, crc: crc32c(page.bytes) };
      segmentBytes += page.bytes.length;
      placed.push({ page, loc });
      return loc;
    });
    if (meta.length > this.checkpoints.config.checkpointMaxBytes) {
      throw new StorageError('no_space', `checkpoint metadata of ${meta.length} bytes exceeds checkpointMaxBytes ${this.checkpoints.config.checkpointMaxBytes}`);
    }
    if (placed.length > 0) {
      // Named without a directory sync: the checkpoint file's rename in the same folder makes the name durable.
      const f = await this.disk.open(joinPath(this.dir, dataSegmentName(lsn)), { create: true, durable: false });
      try {
        await f.truncate(0);
        let batch: Uint8Array[] = [];
        let batchBytes = 0;
        for (const { page } of placed) {
          batch.push(page.bytes);
          batchBytes += page.bytes.length;
          if (batchBytes >= segmentWriteBatchBytes) {
            await appendParts(f, batch);
            batch = [];
            batchBytes = 0;
          }
        }
        if (batch.length > 0) await appendParts(f, batch);
        await f.fsync();
      } finally {
        await f.close();
      }
    }
    // The checkpoint may only name LSNs that are durable in the log.
    await logDurable;
    await this.checkpoints.write(lsn, meta);
    for (const { page, loc } of placed) page.loc = loc;
    if (segmentBytes > 0) this.segmentBytes.set(lsn, segmentBytes);
    this.refs.set(lsn, segs);
    this.checkpointLsn = lsn;
    await this.prune();
    return lsn;
  }

  /** Removes old checkpoints, the log segments and data segments no kept checkpoint needs. */
  private async prune(): Promise<void> {
    const kept = await this.checkpoints.prune(this.log);
    const needed = new Set<number>();
    for (const lsn of kept) {
      let segs = this.refs.get(lsn);
      if (segs === undefined) {
        // A checkpoint of an earlier run, kept as a fallback: its metadata names its segments.
        const r = await this.checkpoints.read(lsn);
        segs = 'data' in r ? metaSegments(r.data) : new Set<number>();
        this.refs.set(lsn, segs);
      }
      for (const s of segs) needed.add(s);
    }
    for (const lsn of [...this.refs.keys()]) if (!kept.includes(lsn)) this.refs.delete(lsn);
    for (const name of await this.disk.list(this.dir)) {
      const seg = parseDataSegmentName(name);
      if (seg === undefined || needed.has(seg)) continue;
      // A crash may bring the name back: the next prune removes it again.
      await this.disk.remove(joinPath(this.dir, name), { durable: false });
      this.segmentBytes.delete(seg);
    }
  }

  /** Waits for every submitted transaction to commit, then closes the log. */
  async close(): Promise<void> {
    await this.checkpointing?.catch(() => undefined);
    await this.log.close();
  }

  // ---- reads (see applied state) ----

  listCollections(): CollectionId[] {
    return [...this.state.keys()].sort();
  }

  hasCollection(cid: CollectionId): boolean {
    return this.state.has(cid);
  }

  listObjects(cid: CollectionId): ObjectId[] {
    return [...this.collection(cid).objects.keys()].sort();
  }

  /** Objects and data bytes of a collection, leaving out objects `skip` names (no sorting: cheap enough to poll). */
  collectionUsage(cid: CollectionId, skip: (oid: ObjectId) => boolean = () => false): { readonly objects: number; readonly bytes: number } {
    let objects = 0;
    let bytes = 0;
    for (const [oid, o] of this.collection(cid).objects) {
      if (skip(oid)) continue;
      objects++;
      bytes += o.data.sizeBytes;
    }
    return { objects, bytes };
  }

  collectionAttr(cid: CollectionId, name: string): Uint8Array | undefined {
    return this.collection(cid).attrs.get(name)?.slice();
  }

  stat(cid: CollectionId, oid: ObjectId): { readonly sizeBytes: number } | undefined {
    const o = this.state.get(cid)?.objects.get(oid);
    return o === undefined ? undefined : { sizeBytes: o.data.sizeBytes };
  }

  /** Up to `lengthBytes` from `offsetBytes`, in a new buffer; `not_found` when the object does not exist. */
  read(cid: CollectionId, oid: ObjectId, offsetBytes = 0, lengthBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    return readData(this.object(cid, oid).data, offsetBytes, lengthBytes, this.config.pageBytes);
  }

  getAttr(cid: CollectionId, oid: ObjectId, name: string): Uint8Array | undefined {
    return this.object(cid, oid).attrs.get(name)?.slice();
  }

  getAttrs(cid: CollectionId, oid: ObjectId): Map<string, Uint8Array> {
    return new Map([...this.object(cid, oid).attrs].map(([k, v]) => [k, v.slice()]));
  }

  /**
   * Fault injection: flips bit `bit` of an object's bytes outside any transaction, as media
   * corruption changes data under a store (the simulator's bit flips in stored objects; RADOS deep
   * scrub must find it). Nothing is logged: reads, checkpoints and scrubs see the flipped bit.
   */
  corruptObjectBit(cid: CollectionId, oid: ObjectId, bit: number): void {
    const o = this.object(cid, oid);
    if (!Number.isSafeInteger(bit) || bit < 0 || bit >= o.data.sizeBytes * 8) throw new RangeError(`bit ${bit} is outside object ${oid} (${o.data.sizeBytes} bytes)`);
    const at = bit >>> 3;
    const byte = readData(o.data, at, 1, this.config.pageBytes);
    byte[0] = (byte[0] as number) ^ (1 << (bit & 7));
    // A new page holding the flipped byte, as a write would make, but unlogged: the next checkpoint stores it.
    this.collection(cid).objects.set(oid, { data: writeData(o.data, at, byte, this.config.pageBytes).data, attrs: o.attrs });
  }

  /** Bytes of object data and attribute values held. */
  get usedSpaceBytes(): number {
    return this.usedBytes;
  }

  private collection(cid: CollectionId): Collection {
    const c = this.state.get(cid);
    if (c === undefined) throw new StorageError('not_found', `no collection ${cid}`);
    return c;
  }

  private object(cid: CollectionId, oid: ObjectId): ObjectRecord {
    const o = this.collection(cid).objects.get(oid);
    if (o === undefined) throw new StorageError('not_found', `no object ${oid} in collection ${cid}`);
    return o;
  }
}

/**
 * Applies every op, pushing an undo step for each change; throws (after partial changes) on the
 * first invalid op. With `parts`, each write's bytes are pushed to it, in op order, as views of the
 * pages they landed in (the log record's data).
 */
function applyAll(state: State, txn: Transaction, undo: (() => void)[], maxBytes: number, acct: { used: number }, pageBytes: number, parts: Uint8Array[] | undefined): void {
  const invalid = (i: number, why: string): StorageError => new StorageError('invalid_transaction', `operation ${i} (${txn.ops[i]!.op}) of the transaction: ${why}; nothing was applied`);
  const charge = (delta: number, i: number): void => {
    if (acct.used + delta > maxBytes) throw new StorageError('no_space', `operation ${i} of the transaction needs ${delta} more bytes, but the store holds ${acct.used} of storeMaxBytes ${maxBytes}; nothing was applied`);
    acct.used += delta;
    undo.push(() => {
      acct.used -= delta;
    });
  };
  txn.ops.forEach((op, i) => {
    const coll = state.get(op.cid);
    if (op.op === 'createCollection') {
      if (coll !== undefined) throw invalid(i, `collection ${op.cid} exists`);
      state.set(op.cid, { attrs: new Map(), objects: new Map() });
      undo.push(() => state.delete(op.cid));
      return;
    }
    if (coll === undefined) throw invalid(i, `no collection ${op.cid}`);
    const setObject = (oid: ObjectId, next: ObjectRecord | undefined): void => {
      const prev = coll.objects.get(oid);
      if (next === undefined) coll.objects.delete(oid);
      else coll.objects.set(oid, next);
      undo.push(() => {
        if (prev === undefined) coll.objects.delete(oid);
        else coll.objects.set(oid, prev);
      });
    };
    switch (op.op) {
      case 'removeCollection': {
        if (coll.objects.size > 0) throw invalid(i, `collection ${op.cid} holds ${coll.objects.size} objects`);
        state.delete(op.cid);
        charge(-sumAttrs(coll.attrs), i);
        undo.push(() => state.set(op.cid, coll));
        return;
      }
      case 'setCollectionAttr': {
        const prev = coll.attrs.get(op.name);
        charge(op.value.length - (prev?.length ?? 0), i);
        coll.attrs.set(op.name, op.value.slice());
        undo.push(() => {
          if (prev === undefined) coll.attrs.delete(op.name);
          else coll.attrs.set(op.name, prev);
        });
        return;
      }
      case 'touch': {
        if (!coll.objects.has(op.oid)) setObject(op.oid, { data: emptyData, attrs: emptyAttrs });
        return;
      }
      case 'write': {
        if (!Number.isSafeInteger(op.offsetBytes) || op.offsetBytes < 0) throw invalid(i, `bad offset ${op.offsetBytes}`);
        const prev = coll.objects.get(op.oid);
        const old = prev?.data ?? emptyData;
        charge(Math.max(old.sizeBytes, op.offsetBytes + op.data.length) - old.sizeBytes, i);
        const w = writeData(old, op.offsetBytes, op.data, pageBytes);
        setObject(op.oid, { data: w.data, attrs: prev?.attrs ?? emptyAttrs });
        if (parts !== undefined) for (const p of w.parts) parts.push(p);
        return;
      }
      case 'truncate': {
        const prev = coll.objects.get(op.oid);
        if (prev === undefined) throw invalid(i, `no object ${op.oid}`);
        if (!Number.isSafeInteger(op.sizeBytes) || op.sizeBytes < 0) throw invalid(i, `bad size ${op.sizeBytes}`);
        charge(op.sizeBytes - prev.data.sizeBytes, i);
        setObject(op.oid, { data: truncateData(prev.data, op.sizeBytes, pageBytes), attrs: prev.attrs });
        return;
      }
      case 'remove': {
        const prev = coll.objects.get(op.oid);
        if (prev === undefined) throw invalid(i, `no object ${op.oid}`);
        charge(-(prev.data.sizeBytes + sumAttrs(prev.attrs)), i);
        setObject(op.oid, undefined);
        return;
      }
      case 'setAttr': {
        const prev = coll.objects.get(op.oid);
        if (prev === undefined) throw invalid(i, `no object ${op.oid}`);
        charge(op.value.length - (prev.attrs.get(op.name)?.length ?? 0), i);
        const attrs = new Map(prev.attrs);
        attrs.set(op.name, op.value.slice());
        setObject(op.oid, { data: prev.data, attrs });
        return;
      }
      case 'removeAttr': {
        const prev = coll.objects.get(op.oid);
        if (prev === undefined) throw invalid(i, `no object ${op.oid}`);
        const value = prev.attrs.get(op.name);
        if (value === undefined) throw invalid(i, `object ${op.oid} has no attribute ${op.name}`);
        charge(-value.length, i);
        const attrs = new Map(prev.attrs);
        attrs.delete(op.name);
        setObject(op.oid, { data: prev.data, attrs });
        return;
      }
      default: {
        const never: never = op;
        throw new Error(`unknown transaction op ${JSON.stringify(never)}`);
      }
    }
  });
}

function sumAttrs(attrs: ReadonlyMap<string, Uint8Array>): number {
  let n = 0;
  for (const v of attrs.values()) n += v.length;
  return n;
}

function measure(state: State): number {
  let n = 0;
  for (const c of state.values()) {
    n += sumAttrs(c.attrs);
    for (const o of c.objects.values()) n += o.data.sizeBytes + sumAttrs(o.attrs);
  }
  return n;
}

// ---- log records ----
//
// A transaction's record: byte 0 is `recordMark` (0xc1, which msgpack never uses, so records of the
// earlier format, a msgpack array of the ops, are still read), byte 1 the format (1), bytes 2–5 the
// header's length (u32 LE); the header is the msgpack array of the ops with each write's data
// replaced by its length (`dataBytes`); then every write's data, in op order, as it is.

const recordMark = 0xc1;
const recordFormat = 1;
const recordPrefixBytes = 6;

type HeaderOp = Exclude<TransactionOp, { op: 'write' }> | { readonly op: 'write'; readonly cid: CollectionId; readonly oid: ObjectId; readonly offsetBytes: number; readonly dataBytes: number };

/** The record's prefix and header; the writes' data follows it in the record. */
export function encodeRecordHeader(txn: Transaction): Uint8Array {
  const ops: HeaderOp[] = txn.ops.map((op) => (op.op === 'write' ? { op: 'write', cid: op.cid, oid: op.oid, offsetBytes: op.offsetBytes, dataBytes: op.data.length } : op));
  const header = encode(ops);
  const out = new Uint8Array(recordPrefixBytes + header.length);
  out[0] = recordMark;
  out[1] = recordFormat;
  new DataView(out.buffer).setUint32(2, header.length, true);
  out.set(header, recordPrefixBytes);
  return out;
}

/** A whole record in one buffer (tests, tools); the store writes the header and the data without joining them. */
export function encodeTransaction(txn: Transaction): Uint8Array {
  const header = encodeRecordHeader(txn);
  let n = header.length;
  for (const op of txn.ops) if (op.op === 'write') n += op.data.length;
  const out = new Uint8Array(n);
  out.set(header);
  let at = header.length;
  for (const op of txn.ops) {
    if (op.op !== 'write') continue;
    out.set(op.data, at);
    at += op.data.length;
  }
  return out;
}

/** Decodes a record (either format); write data are views of `payload`. */
export function decodeTransaction(payload: Uint8Array): Transaction {
  if (payload[0] !== recordMark) {
    const ops = decode(payload);
    assert(Array.isArray(ops), 'a logged transaction decodes to an array of ops');
    return { ops: ops as TransactionOp[] };
  }
  assert(payload.length >= recordPrefixBytes && payload[1] === recordFormat, `a logged transaction has format ${recordFormat}`);
  const headerBytes = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(2, true);
  const header = decode(payload.subarray(recordPrefixBytes, recordPrefixBytes + headerBytes));
  assert(Array.isArray(header), 'a logged transaction header decodes to an array of ops');
  let at = recordPrefixBytes + headerBytes;
  const ops = (header as HeaderOp[]).map((op): TransactionOp => {
    if (op.op !== 'write') return op;
    const data = payload.subarray(at, at + op.dataBytes);
    assert(data.length === op.dataBytes, 'a logged write holds its data');
    at += op.dataBytes;
    return { op: 'write', cid: op.cid, oid: op.oid, offsetBytes: op.offsetBytes, data };
  });
  assert(at === payload.length, 'a logged transaction ends with its last write');
  return { ops };
}

// ---- checkpoints ----

/** A frozen view of the state: fresh maps over the same immutable object records. */
function captureState(state: State): State {
  const view: State = new Map();
  for (const [cid, c] of state) view.set(cid, { attrs: new Map(c.attrs), objects: new Map(c.objects) });
  return view;
}

function forEachPage(view: State, f: (page: Page) => void): void {
  for (const c of view.values()) for (const o of c.objects.values()) for (const p of o.data.pages) if (p !== undefined) f(p);
}

// Checkpoint metadata: `metaMagic` ("TROS"), format u32 LE, then msgpack of `Meta`. A checkpoint
// of the earlier format (the whole state in msgpack, data included) starts with a msgpack array
// byte and is still read. Each object's page table is packed: per page, its index u32, segment
// (f64), offset (f64), length u32 and CRC32C u32, little-endian.

const metaMagic = 0x534f5254; // "TROS" little-endian
const metaFormat = 1;
const pageEntryBytes = 28;

type MetaObject = [ObjectId, number, [string, Uint8Array][], Uint8Array];
type MetaCollection = [CollectionId, [string, Uint8Array][], MetaObject[]];
interface Meta {
  /** pageBytes the page indexes refer to. */
  readonly p: number;
  /** Every data segment the page tables name. */
  readonly s: number[];
  readonly c: MetaCollection[];
}

function encodeMeta(view: State, pageBytes: number, segs: Set<number>, place: (page: Page) => PageLoc): Uint8Array {
  const colls: MetaCollection[] = [];
  for (const [cid, c] of view) {
    const objects: MetaObject[] = [];
    for (const [oid, o] of c.objects) {
      let count = 0;
      for (const p of o.data.pages) if (p !== undefined) count++;
      const table = new Uint8Array(count * pageEntryBytes);
      const v = new DataView(table.buffer);
      let at = 0;
      o.data.pages.forEach((page, k) => {
        if (page === undefined) return;
        const loc = place(page);
        segs.add(loc.seg);
        v.setUint32(at, k, true);
        v.setFloat64(at + 4, loc.seg, true);
        v.setFloat64(at + 12, loc.off, true);
        v.setUint32(at + 20, page.bytes.length, true);
        v.setUint32(at + 24, loc.crc, true);
        at += pageEntryBytes;
      });
      objects.push([oid, o.data.sizeBytes, [...o.attrs], table]);
    }
    colls.push([cid, [...c.attrs], objects]);
  }
  const meta: Meta = { p: pageBytes, s: [...segs].sort((a, b) => a - b), c: colls };
  const body = encode(meta);
  const out = new Uint8Array(8 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, metaMagic, true);
  v.setUint32(4, metaFormat, true);
  out.set(body, 8);
  return out;
}

function isMeta(data: Uint8Array): boolean {
  return data.length >= 8 && new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true) === metaMagic;
}

function decodeMeta(data: Uint8Array): Meta {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (v.getUint32(4, true) !== metaFormat) throw new StorageError('corrupt_block', `checkpoint metadata has unknown format ${v.getUint32(4, true)}`);
  return decode(data.subarray(8)) as Meta;
}

/** The data segments a checkpoint's metadata names (none for the earlier format, which holds its data). */
function metaSegments(data: Uint8Array): ReadonlySet<number> {
  if (!isMeta(data)) return new Set();
  try {
    return new Set(decodeMeta(data).s);
  } catch {
    return new Set();
  }
}

interface PageRef {
  readonly obj: { data: ObjectData };
  readonly k: number;
  readonly off: number;
  readonly len: number;
  readonly crc: number;
}

/**
 * Fills `state` from a checkpoint: its metadata, and each page read from its data segment and
 * checked against its CRC32C (a mismatch or a missing segment throws, and the caller falls back to
 * an older checkpoint). Returns the segments it names and their sizes.
 */
async function loadCheckpoint(disk: Disk, dir: string, data: Uint8Array, pageBytes: number, state: State): Promise<{ readonly segs: ReadonlySet<number>; readonly segmentBytes: Map<number, number> }> {
  state.clear();
  if (!isMeta(data)) {
    type OldCollection = [CollectionId, [string, Uint8Array][], [ObjectId, Uint8Array, [string, Uint8Array][]][]];
    for (const [cid, attrs, objects] of decode(data) as OldCollection[]) {
      state.set(cid, { attrs: new Map(attrs), objects: new Map(objects.map(([oid, d, a]) => [oid, { data: writeData(emptyData, 0, d, pageBytes).data, attrs: new Map(a) }])) });
    }
    return { segs: new Set(), segmentBytes: new Map() };
  }
  const meta = decodeMeta(data);
  const bySeg = new Map<number, PageRef[]>();
  const loaded: { readonly oid: ObjectId; readonly coll: Collection; readonly obj: { data: ObjectData }; readonly size: number; readonly attrs: Map<string, Uint8Array> }[] = [];
  for (const [cid, cattrs, objects] of meta.c) {
    const coll: Collection = { attrs: new Map(cattrs), objects: new Map() };
    state.set(cid, coll);
    for (const [oid, size, attrs, table] of objects) {
      const obj = { data: emptyData };
      loaded.push({ oid, coll, obj, size, attrs: new Map(attrs) });
      const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
      for (let at = 0; at + pageEntryBytes <= table.length; at += pageEntryBytes) {
        const seg = v.getFloat64(at + 4, true);
        const ref: PageRef = { obj, k: v.getUint32(at, true), off: v.getFloat64(at + 12, true), len: v.getUint32(at + 20, true), crc: v.getUint32(at + 24, true) };
        let list = bySeg.get(seg);
        if (list === undefined) bySeg.set(seg, (list = []));
        list.push(ref);
      }
    }
  }
  const pages = new Map<{ data: ObjectData }, (Page | undefined)[]>();
  const segmentBytes = new Map<number, number>();
  for (const [seg, refs] of bySeg) {
    const path = joinPath(dir, dataSegmentName(seg));
    const f = await disk.open(path);
    try {
      segmentBytes.set(seg, f.sizeBytes());
      refs.sort((a, b) => a.off - b.off);
      for (let i = 0; i < refs.length; ) {
        // A run of contiguous pages, read at once.
        let j = i + 1;
        let end = refs[i]!.off + refs[i]!.len;
        while (j < refs.length && refs[j]!.off === end && end - refs[i]!.off + refs[j]!.len <= loadReadMaxBytes) end += refs[j++]!.len;
        const start = refs[i]!.off;
        const buf = new Uint8Array(end - start);
        const got = await f.readInto(start, buf);
        if (got !== buf.length) throw new StorageError('corrupt_block', `data segment ${path} ends at ${start + got}, before the page the checkpoint places at ${start}..${end}`, { path });
        for (; i < j; i++) {
          const r = refs[i]!;
          const bytes = buf.slice(r.off - start, r.off - start + r.len);
          if (crc32c(bytes) !== r.crc) throw new StorageError('corrupt_block', `page at ${r.off} of data segment ${path} fails its CRC32C`, { path });
          if (meta.p === pageBytes) {
            let list = pages.get(r.obj);
            if (list === undefined) pages.set(r.obj, (list = []));
            list[r.k] = new Page(bytes, { seg, off: r.off, crc: r.crc });
          } else {
            // Stored with another page size: rebuilt page by page; the next checkpoint writes it again.
            r.obj.data = writeData(r.obj.data, r.k * meta.p, bytes, pageBytes).data;
          }
        }
      }
    } finally {
      await f.close();
    }
  }
  for (const l of loaded) {
    const list = pages.get(l.obj);
    const d: ObjectData = list !== undefined ? { sizeBytes: l.size, pages: Array.from(list) } : truncateData({ sizeBytes: Math.max(l.obj.data.sizeBytes, l.size), pages: l.obj.data.pages }, l.size, pageBytes);
    l.coll.objects.set(l.oid, { data: d, attrs: l.attrs });
  }
  return { segs: new Set(meta.s), segmentBytes };
}
