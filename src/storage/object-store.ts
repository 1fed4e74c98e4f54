import { decode, encode } from '@msgpack/msgpack';
import type { Defer } from '../runtime/env.js';
import type { Disk } from './disk.js';
import { objectStoreConfigDefault, withDefaults, type CheckpointConfig, type ObjectStoreConfig, type OpLogConfig } from './config.js';
import { StorageError, assert } from './errors.js';
import { openLogWithCheckpoints, takeCheckpoint, type CheckpointStore } from './checkpoint.js';
import type { OpLog } from './op-log.js';

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
 * Limits: data lives in memory (the thesis digest: "an in-memory store with the same semantics
 * ... is enough"), bounded by `storeMaxBytes`; object data is copy-on-write, so a write costs a copy
 * of the object it changes.
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
  readonly data: Uint8Array;
  readonly attrs: ReadonlyMap<string, Uint8Array>;
}

interface Collection {
  readonly attrs: Map<string, Uint8Array>;
  readonly objects: Map<ObjectId, ObjectRecord>;
}

type State = Map<CollectionId, Collection>;

const emptyAttrs: ReadonlyMap<string, Uint8Array> = new Map();

export class ObjectStore {
  private readonly state: State = new Map();
  private usedBytes = 0;
  private logBytesSinceCheckpoint = 0;
  private checkpointing: Promise<number> | undefined;
  private failure: unknown;

  private constructor(
    private readonly log: OpLog,
    private readonly checkpoints: CheckpointStore,
    readonly config: ObjectStoreConfig,
  ) {}

  /** Opens the store in `dir`, recovering from the newest checkpoint and the log after it. */
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
    const state: State = new Map();
    const recovered = await openLogWithCheckpoints(disk, {
      dir: options.dir,
      ...(options.logConfig === undefined ? {} : { logConfig: options.logConfig }),
      ...(options.checkpointConfig === undefined ? {} : { checkpointConfig: options.checkpointConfig }),
      ...(options.defer === undefined ? {} : { defer: options.defer }),
      onCheckpoint: (data) => loadSnapshot(state, data),
      onRecord: (r) => {
        const txn = decodeTransaction(r.payload);
        const undo: (() => void)[] = [];
        // A logged transaction was valid when applied; replaying it onto the same state cannot fail.
        applyAll(state, txn, undo, Number.MAX_SAFE_INTEGER, { used: 0 });
      },
    });
    const store = new ObjectStore(recovered.log, recovered.checkpoints, config);
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
    const payload = encodeTransaction(txn);
    if (payload.length > this.log.config.recordMaxBytes) return fail(new StorageError('invalid_transaction', `transaction encodes to ${payload.length} bytes, more than recordMaxBytes ${this.log.config.recordMaxBytes}`));
    const undo: (() => void)[] = [];
    const used = { used: this.usedBytes };
    try {
      applyAll(this.state, txn, undo, this.config.storeMaxBytes, used);
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      return fail(err);
    }
    this.usedBytes = used.used;
    const committed = this.log.append(payload).then(
      () => undefined,
      (err: unknown) => {
        // Applied but not durable: the in-memory state is ahead of the disk for good. Refuse further work.
        this.failure = err;
        throw err;
      },
    );
    this.logBytesSinceCheckpoint += payload.length;
    if (this.config.checkpointEveryLogBytes > 0 && this.logBytesSinceCheckpoint >= this.config.checkpointEveryLogBytes && this.checkpointing === undefined) {
      this.checkpoint().catch(() => undefined);
    }
    return { ok: true, committed };
  }

  /**
   * Writes a checkpoint of the current state without blocking transactions (patent ¶50): the state
   * is captured at the log boundary (a shallow copy; object data is immutable) and serialized after.
   */
  checkpoint(): Promise<number> {
    if (this.checkpointing !== undefined) return this.checkpointing;
    this.logBytesSinceCheckpoint = 0;
    const p = takeCheckpoint(this.log, this.checkpoints, () => {
      const view = captureState(this.state);
      return { serialize: () => saveSnapshot(view) };
    }).finally(() => {
      this.checkpointing = undefined;
    });
    this.checkpointing = p;
    return p;
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
      bytes += o.data.length;
    }
    return { objects, bytes };
  }

  collectionAttr(cid: CollectionId, name: string): Uint8Array | undefined {
    return this.collection(cid).attrs.get(name)?.slice();
  }

  stat(cid: CollectionId, oid: ObjectId): { readonly sizeBytes: number } | undefined {
    const o = this.state.get(cid)?.objects.get(oid);
    return o === undefined ? undefined : { sizeBytes: o.data.length };
  }

  /** Up to `lengthBytes` from `offsetBytes`; `not_found` when the object does not exist. */
  read(cid: CollectionId, oid: ObjectId, offsetBytes = 0, lengthBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    const o = this.object(cid, oid);
    return o.data.slice(offsetBytes, Math.min(o.data.length, offsetBytes + lengthBytes));
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
    if (!Number.isSafeInteger(bit) || bit < 0 || bit >= o.data.length * 8) throw new RangeError(`bit ${bit} is outside object ${oid} (${o.data.length} bytes)`);
    const data = o.data.slice();
    data[bit >>> 3] = (data[bit >>> 3] as number) ^ (1 << (bit & 7));
    this.collection(cid).objects.set(oid, { data, attrs: o.attrs });
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

/** Applies every op, pushing an undo step for each change; throws (after partial changes) on the first invalid op. */
function applyAll(state: State, txn: Transaction, undo: (() => void)[], maxBytes: number, acct: { used: number }): void {
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
        if (!coll.objects.has(op.oid)) setObject(op.oid, { data: new Uint8Array(0), attrs: emptyAttrs });
        return;
      }
      case 'write': {
        if (!Number.isSafeInteger(op.offsetBytes) || op.offsetBytes < 0) throw invalid(i, `bad offset ${op.offsetBytes}`);
        const prev = coll.objects.get(op.oid);
        const old = prev?.data ?? new Uint8Array(0);
        const size = Math.max(old.length, op.offsetBytes + op.data.length);
        charge(size - old.length, i);
        const data = new Uint8Array(size);
        data.set(old);
        data.set(op.data, op.offsetBytes);
        setObject(op.oid, { data, attrs: prev?.attrs ?? emptyAttrs });
        return;
      }
      case 'truncate': {
        const prev = coll.objects.get(op.oid);
        if (prev === undefined) throw invalid(i, `no object ${op.oid}`);
        if (!Number.isSafeInteger(op.sizeBytes) || op.sizeBytes < 0) throw invalid(i, `bad size ${op.sizeBytes}`);
        charge(op.sizeBytes - prev.data.length, i);
        const data = new Uint8Array(op.sizeBytes);
        data.set(prev.data.subarray(0, Math.min(op.sizeBytes, prev.data.length)));
        setObject(op.oid, { data, attrs: prev.attrs });
        return;
      }
      case 'remove': {
        const prev = coll.objects.get(op.oid);
        if (prev === undefined) throw invalid(i, `no object ${op.oid}`);
        charge(-(prev.data.length + sumAttrs(prev.attrs)), i);
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
    for (const o of c.objects.values()) n += o.data.length + sumAttrs(o.attrs);
  }
  return n;
}

export function encodeTransaction(txn: Transaction): Uint8Array {
  return encode(txn.ops);
}

export function decodeTransaction(payload: Uint8Array): Transaction {
  const ops = decode(payload);
  assert(Array.isArray(ops), 'a logged transaction decodes to an array of ops');
  return { ops: ops as TransactionOp[] };
}

/** A frozen view of the state: fresh maps over the same immutable object records. */
function captureState(state: State): State {
  const view: State = new Map();
  for (const [cid, c] of state) view.set(cid, { attrs: new Map(c.attrs), objects: new Map(c.objects) });
  return view;
}

type SnapshotCollection = [CollectionId, [string, Uint8Array][], [ObjectId, Uint8Array, [string, Uint8Array][]][]];

function saveSnapshot(view: State): Uint8Array {
  const out: SnapshotCollection[] = [];
  for (const [cid, c] of view) out.push([cid, [...c.attrs], [...c.objects].map(([oid, o]) => [oid, o.data, [...o.attrs]])]);
  return encode(out);
}

function loadSnapshot(state: State, data: Uint8Array): void {
  state.clear();
  const colls = decode(data) as SnapshotCollection[];
  for (const [cid, attrs, objects] of colls) {
    state.set(cid, { attrs: new Map(attrs), objects: new Map(objects.map(([oid, d, a]) => [oid, { data: d, attrs: new Map(a) }])) });
  }
}
