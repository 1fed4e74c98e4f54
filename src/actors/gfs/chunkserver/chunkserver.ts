import type { ActorContext, ActorFactory, Behavior } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { isRef } from '../../../runtime/ref.js';
import { transferOwnership } from '../../../runtime/transport/ownership.js';
import { ChunkStore, type ChunkCorruption } from '../../../storage/chunk-store.js';
import type { Disk } from '../../../storage/disk.js';
import { isStorageError } from '../../../storage/errors.js';
import { Scrubber } from '../../../storage/scrubber.js';
import { defaultGfsConfig, type GfsConfig } from '../config.js';
import { fail, ok, type GfsErrorCode, type GfsResult } from '../errors.js';
import { withRpcLog } from './rpc-log.js';
import { ridField } from '../protocol.js';
import type { AppendReply, ChunkHandle, ChunkReport, ChunkserverMsg, ChunkserverReply, ChunkserverStats, HeartbeatReply, HeldLease, LeaseReport, MasterMsg, Mutation, ReadReply, ReplicaAddr } from '../protocol.js';
import { MutationOrder } from './mutation-order.js';
import { PushBuffer } from './push-buffer.js';

/**
 * The GFS chunkserver as an actor (patent ¶82–109, ¶113, ¶122–128; invariants C1–C10 in
 * `../README.md`). It stores chunks in a `ChunkStore` (64 KiB CRC32C blocks, verified reads) on the
 * injected `Disk`, obeys the master's commands, heartbeats with chunk reports and lease-extension
 * requests, and serves the data path: pipelined pushes into a bounded buffer, writes and record
 * appends ordered by the primary's serial numbers, verified reads, clones and local copies.
 *
 * Turns: **reentrant** (spawn it with `reentrant: true`). A clone paced over seconds, a primary
 * waiting for its secondaries or a push waiting for the rest of the chain must not hold up reads and
 * other pushes. State shared across `await`s is guarded explicitly:
 * - mutations of one chunk run through a per-chunk lane (a promise chain, `exclusive`): the primary
 *   assigns a serial, sends it to the secondaries and applies it locally inside the lane, so serial
 *   order, send order and local apply order agree (C2, C3);
 * - secondaries order mutations by serial in a `MutationOrder` per chunk before entering the lane;
 * - chunks being cloned or copied are in `building` and invisible to reports, garbage and reads (C7);
 * - a mutation is written inside the lane and synced outside it (`durable`), in sync rounds across
 *   all chunks of this server: the mutations written meanwhile, to any chunk, share the next round
 *   (group commit), and nobody is answered before its sync (C10).
 * Every wait is bounded: asks carry timeouts derived from `rpcTimeoutMs`, the lanes wait only on the
 * disk (wrap it with `withIoTimeout` to bound that too) and on nothing else.
 */
/** Chunks reported per heartbeat between full reports. */
const CHANGED_REPORT_MAX = 10_000;

export interface ChunkserverOptions {
  /** Server name, as the master knows it (unique in the cluster). */
  readonly id: string;
  readonly rack: string;
  readonly host: string;
  /** The primary master first; shadows get heartbeats too (they learn locations from reports, ¶121). */
  readonly masters: readonly ActorRef<MasterMsg>[];
  readonly disk: Disk;
  /** Folder of the chunk files on `disk`. */
  readonly dir: string;
  readonly config?: Partial<GfsConfig>;
  /** Capacity announced to the master; default: used bytes + the disk's free space. */
  readonly capacityBytes?: number;
  /** Observers of protocol events, for fault-injection checkers and metrics. */
  readonly probe?: ChunkserverProbe;
}

/** Called synchronously as the events happen; an observer must not throw or block. */
export interface ChunkserverProbe {
  /** As primary, this server gave a mutation of `handle` at `version` the serial `serial` (¶98). */
  readonly ordered?: (e: { readonly handle: ChunkHandle; readonly version: number; readonly serial: number }) => void;
  /** This server deletes its replica of `handle`: on the master's command, or as garbage named in a heartbeat reply (¶79–80). */
  readonly deleted?: (e: { readonly handle: ChunkHandle; readonly version: number; readonly why: 'master' | 'garbage' }) => void;
  /** As a secondary, this server applied mutation `serial` of `handle` at `version` (written, not yet synced). */
  readonly applied?: (e: { readonly handle: ChunkHandle; readonly version: number; readonly serial: number }) => void;
}

export function gfsChunkserver(options: ChunkserverOptions): ActorFactory<ChunkserverMsg> {
  return (ctx) => new Chunkserver(ctx, options).behavior();
}

/** The 16-hex-digit name of a 64-bit handle in the chunk store. */
export function chunkKey(handle: ChunkHandle): string {
  return handle.toString(16).padStart(16, '0');
}

const keyPattern = /^[0-9a-f]{16}$/;
const HANDLE_MAX = (1n << 64n) - 1n;
/** Mutations of one chunk that wait for a sync round before it starts even though more are queued in its lane (group commit). */
const SYNC_BATCH_MAX = 64;
/** Attempts to open the chunk store while its journal replay finds the disk full, and the pause between them. */
const STORE_OPEN_ATTEMPTS_MAX = 120;
const STORE_OPEN_RETRY_MS = 1_000;
/** Slice size the push buffer's slice-count bound assumes (clients may pipeline in slices this small). */
const PIPELINE_SLICE_BYTES = 64 * 1024;
/** Longest push chain accepted (a chain names the replicas still to reach). */
const CHAIN_MAX = 16;

interface Lease {
  readonly handle: ChunkHandle;
  readonly version: number;
  /** Master clock, as granted or extended. The lease is used only until `expiresAt - primaryLeaseMarginMs`. */
  expiresAt: number;
  /** The next serial number (¶98): consecutive from 1 within a lease. */
  nextSerial: number;
  /** The secondaries the master named at grant time (the up-to-date replicas, ¶89). */
  readonly secondaries: readonly ReplicaAddr[];
  /**
   * Mutated successfully on every replica since the last heartbeat: ask the master to extend the
   * lease (¶90). A mutation that fails at any replica clears it (C4): a primary that cannot reach a
   * secondary lets its lease lapse, so the next grant bumps the version past the failed replica (¶77).
   */
  mutated: boolean;
  /** Mutations started and not yet answered (revokeLease waits for them, C9). */
  readonly inflight: Set<Promise<unknown>>;
}

interface Pending {
  readonly m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.applyMutation' }>;
  readonly resolve: (r: GfsResult<null>) => void;
}

interface HeartbeatState {
  inFlight: boolean;
  needReport: boolean;
  beatsSinceReport: number;
  /** The primary master (masters[0]) has not confirmed a lease report made for its incarnation (M6). */
  needLeaseReport: boolean;
}

type WriteMsg = Extract<ChunkserverMsg, { type: 'gfs.chunkserver.write' }>;
type AppendMsg = Extract<ChunkserverMsg, { type: 'gfs.chunkserver.append' }>;

class Chunkserver {
  private readonly cfg: GfsConfig;
  private storeOrUndefined: ChunkStore | undefined;
  private scrubber: Scrubber | undefined;
  private readonly push: PushBuffer;
  private readonly leases = new Map<string, Lease>();
  private readonly orders = new Map<string, MutationOrder<Pending>>();
  /** The last (version, serial) each chunk's order released to its lane: checks C3 on every release. */
  private readonly released = new Map<string, { version: number; serial: number }>();
  private readonly lanes = new Map<string, { tail: Promise<void>; depth: number }>();
  /**
   * Group commit across the chunks of this server (C10): mutations written and waiting for a sync,
   * by chunk. One sync round runs at a time and syncs every chunk in it at once; what is written
   * meanwhile waits for the next round together.
   */
  private readonly syncWaiting = new Map<string, Array<(r: GfsResult<null>) => void>>();
  private syncRoundRunning = false;
  /** Chunks being cloned or copied: not reported, not served, not garbage-collected (C7). */
  private readonly building = new Set<string>();
  /**
   * Chunks fenced or sealed here (README S2), with the seal's version: mutations of older versions
   * are refused with `chunk_sealed`. The refusal itself is durable — the fence's version is on disk
   * and mutations need the version they name (C8) — this map only names it; after a restart the
   * same refusals say `stale_version`.
   */
  private readonly sealed = new Map<string, number>();
  /** Chunks mutated since the primary master last heard of them (bounded by the chunks on this server). */
  private readonly changed = new Set<string>();
  private readonly heartbeats: HeartbeatState[];
  private readonly traffic = { reads: 0, readBytes: 0, mutations: 0, writtenBytes: 0, pushedBytes: 0, clonedBytes: 0 };
  /**
   * The primary master's incarnation, as its last heartbeat reply named it. Lease grants of any
   * other incarnation are refused once it is known, so a lease report made after learning it is
   * complete: no lease of an earlier incarnation can arrive later (M6).
   */
  private masterIncarnation: string | undefined;

  constructor(
    private readonly ctx: ActorContext<ChunkserverMsg>,
    private readonly opts: ChunkserverOptions,
  ) {
    this.cfg = { ...defaultGfsConfig, ...opts.config };
    if (opts.masters.length === 0) throw new Error('a chunkserver needs at least one master');
    if (this.cfg.chunkSizeBytes % 4 !== 0) throw new Error('chunkSizeBytes must be a multiple of 4 (record append limit, ¶103)');
    if (this.cfg.mutationOrderTimeoutMs >= this.cfg.rpcTimeoutMs / 2) {
      ctx.log.warn('mutationOrderTimeoutMs should be below rpcTimeoutMs / 2, or clients time out before secondaries report a lost mutation', { mutationOrderTimeoutMs: this.cfg.mutationOrderTimeoutMs, rpcTimeoutMs: this.cfg.rpcTimeoutMs });
    }
    this.push = new PushBuffer({
      bytesMax: this.cfg.pushBufferBytesMax,
      entriesMax: this.cfg.pushBufferEntriesMax,
      ttlMs: this.cfg.pushBufferTtlMs,
      sliceBytesMax: this.cfg.sliceBytesMax,
      // A push is at most a chunk. Clients pipeline in slices smaller than the largest allowed
      // (the paper's pipelined TCP transfers; 64 KiB in the Figure 3 testbed): bound the count by
      // the smaller of 64 KiB and sliceBytesMax, not by sliceBytesMax alone.
      slicesMax: Math.ceil(this.cfg.chunkSizeBytes / Math.min(this.cfg.sliceBytesMax, PIPELINE_SLICE_BYTES)),
    });
    this.heartbeats = opts.masters.map(() => ({ inFlight: false, needReport: true, beatsSinceReport: 0, needLeaseReport: true }));
  }

  behavior(): Behavior<ChunkserverMsg> {
    return {
      preStart: () => this.start(),
      postStop: () => this.stop(),
      receive: (m) => withRpcLog(this.ctx.log, this.ctx.clock, m, () => this.receive(m)),
      invariants: () => this.invariants(),
    };
  }

  private get store(): ChunkStore {
    if (this.storeOrUndefined === undefined) throw new Error('the chunk store is not open yet');
    return this.storeOrUndefined;
  }

  // ----- lifecycle -----

  /** Opens the chunk store: chunks, versions and checksums come back as last synced (crash recovery). */
  private async start(): Promise<void> {
    const store = await this.openStore();
    this.storeOrUndefined = store;
    this.scrubber = new Scrubber(store, this.ctx.clock, this.ctx.env.timers, {
      scrubBandwidthBytesPerSec: this.cfg.scrubBandwidthBytesPerSecMax,
      idleAfterMs: this.cfg.scrubIdleAfterMs,
      restMs: this.cfg.scrubRestMs,
      sliceBytes: Math.min(this.cfg.sliceBytesMax, this.cfg.chunkSizeBytes),
    });
    this.scrubber.start();
    this.ctx.timers.repeat('heartbeat', this.cfg.heartbeatIntervalMs, { type: 'gfs.chunkserver.tick', task: 'heartbeat' }, 0);
    this.ctx.log.info('chunkserver ready', { server: this.opts.id, chunks: store.list().length });
  }

  /**
   * Opens the chunk store, replaying its journal. The replay writes the chunk data the journal holds
   * back into the chunk files, which needs disk space: on a full disk it fails with `no_space`, and
   * is retried (a replay can be redone from the start) every `STORE_OPEN_RETRY_MS`, at most
   * `STORE_OPEN_ATTEMPTS_MAX` times, while space is freed; then the error stands.
   */
  private async openStore(): Promise<ChunkStore> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ChunkStore.open(this.opts.disk, {
          dir: this.opts.dir,
          clock: this.ctx.clock,
          config: { chunkSizeBytes: this.cfg.chunkSizeBytes, journalSegmentBytes: this.cfg.chunkJournalSegmentBytes, journalBytesMax: this.cfg.chunkJournalBytesMax },
          onCorruption: (c) => this.corruptionFound(c),
        });
      } catch (err) {
        if (!isStorageError(err, 'no_space') || attempt >= STORE_OPEN_ATTEMPTS_MAX) throw err;
        this.ctx.log.warn('chunk store: the disk is full while replaying the journal; retrying', { server: this.opts.id, attempt, error: errorText(err) });
        await new Promise<void>((resolve) => this.ctx.env.timers.after(STORE_OPEN_RETRY_MS, resolve));
      }
    }
  }

  private async stop(): Promise<void> {
    this.scrubber?.stop();
    await this.storeOrUndefined?.close();
  }

  private receive(m: ChunkserverMsg): unknown {
    const problem = malformed(m);
    if (problem !== undefined) {
      this.ctx.log.warn('malformed request refused', { type: typeof m === 'object' && m !== null ? String((m as { type?: unknown }).type) : typeof m, problem });
      return fail('invalid_request', problem);
    }
    switch (m.type) {
      case 'gfs.chunkserver.createChunk':
        return this.createChunk(m.handle, m.version);
      case 'gfs.chunkserver.setVersion':
        return this.setVersion(m.handle, m.version);
      case 'gfs.chunkserver.grantLease':
        return this.grantLease(m);
      case 'gfs.chunkserver.revokeLease':
        return this.revokeLease(m.handle);
      case 'gfs.chunkserver.sealChunk':
        return this.sealChunk(m.handle, m.version, m.lengthBytes);
      case 'gfs.chunkserver.clone':
        return this.clone(m);
      case 'gfs.chunkserver.copyLocal':
        return this.copyLocal(m.from, m.to, m.version);
      case 'gfs.chunkserver.deleteChunks':
        return this.deleteChunks(m.handles, 'master');
      case 'gfs.chunkserver.report':
        return ok({ chunks: this.reports() }) satisfies ChunkserverReply;
      case 'gfs.chunkserver.stats':
        return ok({ server: this.opts.id, ...this.traffic }) satisfies GfsResult<ChunkserverStats>;
      case 'gfs.chunkserver.pushData':
        return this.pushData(m);
      case 'gfs.chunkserver.write':
      case 'gfs.chunkserver.append':
        return this.mutate(m);
      case 'gfs.chunkserver.applyMutation':
        return this.applyMutation(m);
      case 'gfs.chunkserver.read':
        return this.read(m.handle, m.version, m.offset, m.lengthBytes);
      case 'gfs.chunkserver.tick':
        if (m.task === 'heartbeat') this.heartbeat();
        else this.expireOrders();
        return undefined;
      default: {
        const never: never = m;
        this.ctx.log.warn('unknown message refused', { message: describe(never) });
        return fail('invalid_request', `unknown message type ${describe(never)}`);
      }
    }
  }

  // ----- master commands (¶61–81, ¶89–90, ¶113) -----

  private async createChunk(handle: ChunkHandle, version: number): Promise<ChunkserverReply> {
    const key = chunkKey(handle);
    if (this.building.has(key)) return fail('busy', `chunk ${key} is being copied here`);
    if (this.store.has(key)) {
      const v = this.store.info(key).version;
      return v === version ? ok({ version }) : fail('already_exists', `chunk ${key} already exists here at version ${v}`);
    }
    try {
      await this.store.create(key, version);
      // Durable before the master records the location: a chunk never synced does not survive a crash.
      await this.store.sync(key);
      return ok({ version, lengthBytes: 0 });
    } catch (err) {
      return this.storageFailure(err, key);
    }
  }

  /** A new lease: record the bumped version durably before the master logs it (¶76–77, C8). */
  private setVersion(handle: ChunkHandle, version: number): Promise<ChunkserverReply> {
    const key = chunkKey(handle);
    if (!this.store.has(key) || this.building.has(key)) return Promise.resolve(fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`));
    return this.exclusive(key, async () => {
      if (!this.store.has(key)) return fail<{ version?: number }>('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
      const current = this.store.info(key).version;
      if (version < current) return fail<{ version?: number }>('stale_version', `chunk ${key} is at version ${current}; versions only grow (asked for ${version})`);
      const lease = this.leases.get(key);
      if (lease !== undefined && lease.version < version) this.leases.delete(key);
      try {
        await this.store.setVersion(key, version);
      } catch (err) {
        return this.storageFailure(err, key);
      }
      return ok({ version, lengthBytes: this.store.info(key).sizeBytes });
    });
  }

  private grantLease(m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.grantLease' }>): ChunkserverReply {
    const key = chunkKey(m.handle);
    if (!this.store.has(key) || this.building.has(key)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
    if (this.sealed.has(key)) return fail('chunk_sealed', `${this.opts.id}: chunk ${key} is sealed; it is never leased again (S3)`);
    const v = this.store.info(key).version;
    if (v !== m.version) return fail('stale_version', `lease for version ${m.version}, but this replica of ${key} is at version ${v}`);
    if (this.masterIncarnation !== undefined && m.incarnation !== this.masterIncarnation) {
      // A grant of an earlier master incarnation, delivered late: the current one may not know of it (M6).
      return fail('not_primary', `lease grant from master incarnation ${m.incarnation ?? '?'}, but the primary master is now ${this.masterIncarnation}`);
    }
    const old = this.leases.get(key);
    if (old !== undefined && old.version === m.version) {
      old.expiresAt = Math.max(old.expiresAt, m.expiresAt);
    } else {
      this.leases.set(key, { handle: m.handle, version: m.version, expiresAt: m.expiresAt, secondaries: m.secondaries, nextSerial: 1, mutated: false, inflight: new Set() });
    }
    this.ctx.log.debug('lease granted', { chunk: key, version: m.version, expiresAt: m.expiresAt });
    return ok({ version: m.version });
  }

  /** Stops acting as primary; answers once the mutations already under way have finished (C9, ¶111). */
  private async revokeLease(handle: ChunkHandle): Promise<ChunkserverReply> {
    const key = chunkKey(handle);
    const lease = this.leases.get(key);
    this.leases.delete(key);
    if (lease !== undefined) await Promise.allSettled([...lease.inflight]);
    return ok({});
  }

  /**
   * Sealing (README S1–S2), in the chunk's lane, so mutations already applied here come first.
   * Fence (no `lengthBytes`): make what was written durable, record `version` durably — from then
   * on no mutation of an older version is applied here — drop any lease, and answer the length,
   * all of it durable. Cut (`lengthBytes`): shorten the replica to the sealed length durably.
   */
  private sealChunk(handle: ChunkHandle, version: number, lengthBytes: number | undefined): Promise<ChunkserverReply> {
    const key = chunkKey(handle);
    if (!this.store.has(key) || this.building.has(key)) return Promise.resolve(fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`));
    return this.exclusive(key, async (): Promise<ChunkserverReply> => {
      if (!this.store.has(key)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
      const current = this.store.info(key).version;
      try {
        if (lengthBytes === undefined) {
          if (version < current) return fail('stale_version', `chunk ${key} is at version ${current}; cannot fence it at ${version}`);
          // Named sealed before the version is on disk: a mutation that slips in meanwhile still fails at every fenced replica's version check.
          this.sealed.set(key, version);
          this.leases.delete(key);
          if (version > current) await this.store.setVersion(key, version);
          else await this.store.sync(key);
          return ok({ version, lengthBytes: this.store.info(key).sizeBytes });
        }
        if (version !== current) return fail('stale_version', `chunk ${key} is at version ${current}, the seal names ${version}`);
        const size = this.store.info(key).sizeBytes;
        if (size < lengthBytes) return fail('invalid_request', `chunk ${key} holds ${size} bytes, less than the sealed length ${lengthBytes}`);
        this.sealed.set(key, version);
        this.leases.delete(key);
        await this.store.truncate(key, lengthBytes);
        return ok({ version, lengthBytes });
      } catch (err) {
        // A fence whose version did not reach the disk fenced nothing: the replica takes mutations as before.
        if (lengthBytes === undefined && this.store.has(key) && this.store.info(key).version < version) this.sealed.delete(key);
        return this.storageFailure(err, key);
      }
    });
  }

  /** Re-replication (¶69): copies a chunk from `source` in verified pieces, at most `bandwidthBytesPerSecMax`. */
  private async clone(m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.clone' }>): Promise<ChunkserverReply> {
    const key = chunkKey(m.handle);
    if (m.bandwidthBytesPerSecMax <= 0) return fail('invalid_request', 'bandwidthBytesPerSecMax must be positive');
    if (this.building.has(key)) return fail('busy', `chunk ${key} is already being copied here`);
    if (this.store.has(key)) {
      const info = this.store.info(key);
      if (info.version === m.version && !info.corrupt) return ok({ version: info.version, lengthBytes: info.sizeBytes });
    }
    this.building.add(key);
    try {
      // A stale or corrupt copy of our own is replaced.
      if (this.store.has(key)) await this.dropChunk(key);
      // Built at version 0 (C7): if we crash midway, the report shows a stale replica and the master collects it.
      await this.store.create(key, 0);
      const started = this.ctx.clock.now();
      let offset = 0;
      for (;;) {
        const piece = Math.min(this.cfg.sliceBytesMax, this.cfg.chunkSizeBytes - offset);
        const r = piece <= 0 ? undefined : await this.ctx
          .ask<ReadReply>(m.source.ref, { type: 'gfs.chunkserver.read', handle: m.handle, version: m.version, offset, lengthBytes: piece }, { timeoutMs: this.cfg.rpcTimeoutMs })
          .catch((e: unknown) => fail<{ data: Uint8Array; chunkLengthBytes: number }>('chunkserver_failed', errorText(e)));
        if (r !== undefined && !r.ok) {
          await this.dropChunk(key);
          return fail('chunkserver_failed', `clone of ${key} from ${m.source.server} failed at byte ${offset}: ${r.error.code}: ${r.error.message}`);
        }
        const data = r?.value.data ?? new Uint8Array(0);
        if (data.length > 0) await this.store.write(key, offset, data);
        offset += data.length;
        this.traffic.clonedBytes += data.length;
        // Pace: never ahead of the bandwidth cap (the paper's clone limit, ¶69; §6.2 of the paper).
        const due = started + (offset * 1000) / m.bandwidthBytesPerSecMax;
        const now = this.ctx.clock.now();
        if (due > now) await this.sleep(due - now);
        if (r === undefined || data.length === 0 || offset >= r.value.chunkLengthBytes) break;
      }
      if (!this.store.has(key)) return fail('chunk_not_found', `chunk ${key} was deleted while being cloned`);
      // Data and checksums are synced and the real version recorded last: only now does the replica count (C7).
      await this.store.setVersion(key, m.version);
      this.ctx.log.info('chunk cloned', { chunk: key, from: m.source.server, bytes: offset });
      return ok({ version: m.version, lengthBytes: offset });
    } catch (err) {
      await this.dropChunk(key);
      return this.storageFailure(err, key);
    } finally {
      this.building.delete(key);
    }
  }

  /** Copy-on-write after a snapshot (¶113): C′ = a copy of C on this server, without the network. */
  private async copyLocal(from: ChunkHandle, to: ChunkHandle, version: number): Promise<ChunkserverReply> {
    const src = chunkKey(from);
    const dst = chunkKey(to);
    if (!this.store.has(src) || this.building.has(src)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${src} to copy`);
    if (this.building.has(dst)) return fail('busy', `chunk ${dst} is already being copied here`);
    if (this.store.has(dst)) {
      const v = this.store.info(dst).version;
      return v === version ? ok({ version, lengthBytes: this.store.info(dst).sizeBytes }) : fail('already_exists', `chunk ${dst} already exists here at version ${v}`);
    }
    this.building.add(dst);
    try {
      await this.store.create(dst, 0);
      let offset = 0;
      for (;;) {
        // Verified reads (C1): a copy never launders corruption into a fresh checksum.
        const data = await this.store.read(src, offset, this.cfg.sliceBytesMax);
        if (data.length === 0) break;
        await this.store.write(dst, offset, data);
        offset += data.length;
      }
      await this.store.setVersion(dst, version);
      return ok({ version, lengthBytes: offset });
    } catch (err) {
      await this.dropChunk(dst);
      return this.storageFailure(err, src);
    } finally {
      this.building.delete(dst);
    }
  }

  private async deleteChunks(handles: readonly ChunkHandle[], why: 'master' | 'garbage'): Promise<ChunkserverReply> {
    for (const h of handles) {
      const key = chunkKey(h);
      if (this.building.has(key)) {
        this.ctx.log.info('not deleting a chunk being copied here', { chunk: key, why });
        continue;
      }
      if (this.store.has(key)) this.opts.probe?.deleted?.({ handle: h, version: this.store.info(key).version, why });
      await this.dropChunk(key);
    }
    return ok({});
  }

  /** Forgets a chunk: its lease, its held mutations (failed), its files. */
  private async dropChunk(key: string): Promise<void> {
    this.leases.delete(key);
    this.sealed.delete(key);
    this.released.delete(key);
    const order = this.orders.get(key);
    if (order !== undefined) {
      this.orders.delete(key);
      this.settle(key, order.expire(Number.POSITIVE_INFINITY));
    }
    if (!this.store.has(key)) return;
    await this.exclusive(key, async () => {
      if (this.store.has(key)) await this.store.delete(key).catch((err: unknown) => void this.ctx.log.warn('chunk delete failed', { chunk: key, error: errorText(err) }));
    });
  }

  /** Reports of the chunks mutated since the primary master last heard of them (their lengths changed). */
  private changedReports(): ChunkReport[] {
    const out: ChunkReport[] = [];
    for (const key of this.changed) {
      if (out.length >= CHANGED_REPORT_MAX) break;
      if (!this.store.has(key) || this.building.has(key)) continue;
      const c = this.store.info(key);
      out.push({ handle: BigInt(`0x${c.handle}`), version: c.version, lengthBytes: c.sizeBytes });
    }
    return out;
  }

  private reports(): ChunkReport[] {
    const out: ChunkReport[] = [];
    for (const c of this.store.list()) {
      // Corrupt replicas are not advertised (C1); chunks being built are not complete yet (C7).
      if (c.corrupt || this.building.has(c.handle) || !keyPattern.test(c.handle)) continue;
      out.push({ handle: BigInt(`0x${c.handle}`), version: c.version, lengthBytes: c.sizeBytes });
    }
    return out;
  }

  // ----- heartbeats (¶45–46, ¶73–78, ¶90) -----

  private heartbeat(): void {
    const now = this.ctx.clock.now();
    this.push.expire(now);
    const store = this.store;
    let used = 0;
    for (const c of store.list()) used += c.sizeBytes;
    void this.opts.disk.freeSpaceBytes().then(
      (free) => this.sendHeartbeats(used, this.opts.capacityBytes ?? Math.min(Number.MAX_SAFE_INTEGER, used + free)),
      (err: unknown) => this.ctx.log.warn('cannot read free disk space; heartbeat skipped', { error: errorText(err) }),
    );
  }

  private sendHeartbeats(usedBytes: number, capacityBytes: number): void {
    const now = this.ctx.clock.now();
    // Leases of chunks mutated since the last heartbeat: ask the primary master to extend them (¶90).
    const extend: Lease[] = [];
    for (const l of this.leases.values()) if (l.mutated && this.leaseLive(l, now)) extend.push(l);
    this.opts.masters.forEach((master, i) => {
      const st = this.heartbeats[i] as HeartbeatState;
      if (st.inFlight) return;
      const full = st.needReport || st.beatsSinceReport + 1 >= this.cfg.fullReportEveryHeartbeats;
      const chunks = full ? this.reports() : undefined;
      const reported = new Map((chunks ?? []).map((c) => [c.handle, c.version]));
      const extensions = i === 0 ? extend : [];
      for (const l of extensions) l.mutated = false;
      // The leases held, for a primary master incarnation that has not had them (M6): after either side restarted.
      const leaseReport = i === 0 && st.needLeaseReport ? this.leaseReport(now) : undefined;
      // Between full reports, the primary master hears of the chunks whose length changed, so
      // `stat` and `ls` sizes stay current (a full report every heartbeat would cost O(chunks)).
      const updates = i === 0 && !full ? this.changedReports() : [];
      if (i === 0) for (const u of updates) this.changed.delete(chunkKey(u.handle));
      if (i === 0 && full) this.changed.clear();
      st.inFlight = true;
      this.ctx
        .ask<GfsResult<HeartbeatReply>>(
          master,
          {
            type: 'gfs.master.heartbeat',
            server: this.opts.id,
            ref: this.ctx.self,
            rack: this.opts.rack,
            host: this.opts.host,
            usedBytes,
            capacityBytes,
            ...(chunks === undefined ? {} : { chunks }),
            ...(extensions.length === 0 ? {} : { leaseExtensions: extensions.map((l) => l.handle) }),
            ...(updates.length === 0 ? {} : { updates }),
            ...(leaseReport === undefined ? {} : { leaseReport }),
          },
          { timeoutMs: Math.min(this.cfg.rpcTimeoutMs, Math.max(1, this.cfg.heartbeatIntervalMs * 4)) },
        )
        .then(
          (r) => {
            if (!r.ok) {
              st.needReport = true;
              st.needLeaseReport = true;
              for (const l of extensions) l.mutated = true;
              return;
            }
            st.beatsSinceReport = full ? 0 : st.beatsSinceReport + 1;
            st.needReport = r.value.needReport;
            if (i === 0 && r.value.incarnation !== undefined && r.value.incarnation !== this.masterIncarnation) {
              // A new primary master incarnation: fence off grants of the old one, then report the
              // leases at once (a write waiting for one of this server's chunks waits for this).
              this.masterIncarnation = r.value.incarnation;
              st.needLeaseReport = true;
              this.ctx.tell(this.ctx.self, { type: 'gfs.chunkserver.tick', task: 'heartbeat' });
            } else if (leaseReport !== undefined && leaseReport.incarnation === this.masterIncarnation) {
              st.needLeaseReport = false;
            }
            for (const e of r.value.extended) {
              const l = this.leases.get(chunkKey(e.handle));
              if (l !== undefined) l.expiresAt = Math.max(l.expiresAt, e.expiresAt);
            }
            // Garbage (¶73–78): only what we reported, and only if it did not change since (a new
            // version arrived meanwhile means the master's answer is about an older replica).
            const garbage = r.value.garbage.filter((h) => {
              const key = chunkKey(h);
              return reported.get(h) !== undefined && this.store.has(key) && this.store.info(key).version === reported.get(h);
            });
            if (garbage.length > 0) {
              this.ctx.log.info('deleting garbage chunks named by the master', { count: garbage.length });
              void this.deleteChunks(garbage, 'garbage');
            }
          },
          () => {
            // No answer: the master may have restarted and lost our locations (¶45): report in full next time.
            st.needReport = true;
            st.needLeaseReport = true;
            for (const l of extensions) l.mutated = true;
          },
        )
        .finally(() => {
          st.inFlight = false;
        });
    });
  }

  /** The leases this server holds and has not seen expire, for a lease report (M6). */
  private leaseReport(now: number): LeaseReport {
    const leases: HeldLease[] = [];
    for (const l of this.leases.values()) if (now < l.expiresAt) leases.push({ handle: l.handle, version: l.version, expiresAt: l.expiresAt });
    return { ...(this.masterIncarnation === undefined ? {} : { incarnation: this.masterIncarnation }), reportedAt: now, leases };
  }

  // ----- corruption (¶122–128) -----

  private corruptionFound(c: ChunkCorruption): void {
    this.ctx.log.warn('corrupt replica found', { chunk: c.handle, kind: c.kind, block: c.blockIndex, by: c.detectedBy });
    if (!keyPattern.test(c.handle)) return;
    // ¶124, ¶128: the master stops counting this replica, re-clones the chunk, then has us delete ours.
    this.ctx.tell(this.opts.masters[0] as ActorRef<MasterMsg>, { type: 'gfs.master.reportCorrupt', server: this.opts.id, handle: BigInt(`0x${c.handle}`) });
  }

  // ----- the data path (¶94–108) -----

  /**
   * Stores one slice and forwards it at once to the next server of the chain (pipelining, ¶96–97);
   * answers when the rest of the chain holds the slice too. The forward is sent in this turn, before
   * any `await`, so it never waits for later slices.
   */
  private pushData(m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.pushData' }>): GfsResult<null> | Promise<GfsResult<null>> {
    if (m.chain.some((r) => r.server === this.opts.id)) return fail('invalid_request', `push chain names ${this.opts.id} again (a loop)`);
    const added = this.push.add(m.pushId, m.slice, m.slices, m.data, this.ctx.clock.now());
    if (!added.ok) return fail(added.reason === 'busy' ? 'busy' : 'invalid_request', `${this.opts.id}: ${added.message}`);
    this.traffic.pushedBytes += m.data.length;
    const next = m.chain[0];
    if (next === undefined) return ok(null);
    const rest = m.chain.slice(1);
    // Nested waits shrink down the chain (T·k/(k+1) with k servers still to reach), so each server
    // gives up before the one that asked it does and the error travels back (C5).
    const timeoutMs = (this.cfg.rpcTimeoutMs * (rest.length + 1)) / (rest.length + 2);
    // The slice we keep stays in our push buffer; the next server gets a copy that we give away,
    // so a thread transport moves it instead of copying it a second time (ownership.ts).
    return this.ctx
      .ask<GfsResult<null>>(next.ref, { ...m, data: transferOwnership(m.data.slice()), chain: rest }, { timeoutMs })
      .then(
        (r) => (r.ok ? ok(null) : fail<null>(r.error.code, `${next.server}: ${r.error.message}`)),
        (e: unknown) => fail<null>('chunkserver_failed', `forwarding to ${next.server} failed: ${errorText(e)}`),
      );
  }

  /**
   * A write or record append at the primary (¶98–105): check lease and version, take the pushed data,
   * assign the next serial, send it to every secondary and apply it here, then answer ok only if all
   * succeeded (¶100, C4).
   */
  private async mutate(m: WriteMsg | AppendMsg): Promise<AppendReply> {
    const key = chunkKey(m.handle);
    const now = this.ctx.clock.now();
    const refused = this.checkPrimary(key, m.version, now);
    if (refused !== undefined) return refused;
    const size = this.cfg.chunkSizeBytes;
    if (m.type === 'gfs.chunkserver.append' && m.lengthBytes > size / 4) {
      return fail('record_too_large', `a record of ${m.lengthBytes} bytes exceeds a quarter chunk (${size / 4} bytes, ¶103)`);
    }
    if (m.type === 'gfs.chunkserver.write' && m.offset + m.lengthBytes > size) return fail('invalid_request', `write of ${m.lengthBytes} bytes at ${m.offset} runs past the ${size}-byte chunk`);
    const taken = this.push.takeParts(m.pushId, m.lengthBytes, now);
    if (!taken.ok) return fail(taken.reason === 'length' ? 'invalid_request' : 'data_not_found', `${this.opts.id}: ${taken.message}`);
    const data = taken.parts;

    const lease = this.leases.get(key) as Lease;
    // Every replica the master named at grant time, and any the client names besides: a replica
    // left out would keep the current version without the mutation and later serve stale bytes.
    const secondaries = unionByServer(lease.secondaries, m.secondaries).filter((r) => r.server !== this.opts.id);
    const started = this.exclusive(key, async () => {
      // The lease may have been revoked, or the version bumped, while we waited for the lane.
      const again = this.checkPrimary(key, m.version, this.ctx.clock.now());
      if (again !== undefined) return again;
      const current = this.leases.get(key) as Lease;
      let mutation: Mutation;
      if (m.type === 'gfs.chunkserver.write') {
        mutation = { kind: 'write', offset: m.offset, pushId: m.pushId, lengthBytes: m.lengthBytes };
      } else {
        const end = this.store.info(key).sizeBytes;
        // ¶103–104: a record that does not fit is not split; the chunk is padded everywhere instead (C6).
        mutation = end + m.lengthBytes > size ? { kind: 'pad', toBytes: size } : { kind: 'append', offset: end, pushId: m.pushId, lengthBytes: m.lengthBytes };
      }
      const serial = current.nextSerial++;
      this.opts.probe?.ordered?.({ handle: m.handle, version: m.version, serial });
      // Sent in serial order, inside the lane (C3); the secondaries' answers are awaited outside it.
      const acks = secondaries.map((s) => this.askSecondary(s, { type: 'gfs.chunkserver.applyMutation', handle: m.handle, version: m.version, serial, mutation, ...ridField(m.rid) }));
      const written = await this.writeMutation(key, m.version, mutation, data);
      return ok({ serial, mutation, acks, written });
    });
    const work = started.then(async (s) => {
      if (!s.ok) return s;
      const { serial, mutation, acks, written } = s.value;
      // Synced outside the lane, so the mutations queued behind this one share the sync (group commit).
      const [local, answers] = await Promise.all([written.ok ? this.durable(key) : Promise.resolve(written), Promise.all(acks)]);
      const failed: string[] = [];
      if (!local.ok) failed.push(`${this.opts.id} (primary): ${local.error.code}: ${local.error.message}`);
      answers.forEach((a, i) => {
        if (!a.ok) failed.push(`${secondaries[i]?.server ?? '?'}: ${a.error.code}: ${a.error.message}`);
      });
      lease.mutated = failed.length === 0;
      if (failed.length > 0) {
        // ¶100: the mutation may have succeeded on some replicas; the region is inconsistent until the client retries.
        return fail<{ offset: number } | { retryNextChunk: true }>('chunkserver_failed', `mutation ${serial} of chunk ${key} failed at ${failed.length} replica(s): ${failed.join('; ')}`);
      }
      if (mutation.kind === 'pad') return ok<{ offset: number } | { retryNextChunk: true }>({ retryNextChunk: true });
      return ok<{ offset: number } | { retryNextChunk: true }>({ offset: mutation.offset });
    });
    lease.inflight.add(work);
    try {
      return await work;
    } finally {
      lease.inflight.delete(work);
    }
  }

  /** Why this server may not order a mutation of `key` at `version` now (C2, C8), or undefined. */
  private checkPrimary(key: string, version: number, now: number): GfsResult<never> | undefined {
    if (!this.store.has(key) || this.building.has(key)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
    const sealedAt = this.sealed.get(key);
    if (sealedAt !== undefined && version < sealedAt) return fail('chunk_sealed', `${this.opts.id}: chunk ${key} is sealed (S2): appends go on in the file's next chunk`);
    const v = this.store.info(key).version;
    if (v !== version) return fail('stale_version', `${this.opts.id} holds chunk ${key} at version ${v}, the request names ${version}: ask the master again`);
    const lease = this.leases.get(key);
    if (lease === undefined || lease.version !== version || !this.leaseLive(lease, now)) return fail('lease_expired', `${this.opts.id} holds no lease on chunk ${key}: ask the master for the primary (¶93)`);
    return undefined;
  }

  /** S2: a mutation of a version older than this replica's seal is refused, typed. */
  private sealedRefusal(key: string, version: number): GfsResult<never> | undefined {
    const sealedAt = this.sealed.get(key);
    if (sealedAt === undefined || version >= sealedAt) return undefined;
    return fail('chunk_sealed', `${this.opts.id}: chunk ${key} is sealed (S2); the deposed primary's mutation at version ${version} is refused`);
  }

  private leaseLive(l: Lease, now: number): boolean {
    return now < l.expiresAt - this.cfg.primaryLeaseMarginMs;
  }

  private askSecondary(s: ReplicaAddr, m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.applyMutation' }>): Promise<GfsResult<null>> {
    // Half the client's timeout, so the primary's error report reaches the client in time (¶100).
    return this.ctx.ask<GfsResult<null>>(s.ref, m, { timeoutMs: this.cfg.rpcTimeoutMs / 2 }).catch((e: unknown) => fail<null>('chunkserver_failed', `no answer: ${errorText(e)}`));
  }

  /** A secondary: hold the mutation until its turn in serial order (¶99, C3), then apply it. */
  private applyMutation(m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.applyMutation' }>): GfsResult<null> | Promise<GfsResult<null>> {
    const key = chunkKey(m.handle);
    if (!this.store.has(key) || this.building.has(key)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
    const refused = this.sealedRefusal(key, m.version);
    if (refused !== undefined) return refused;
    const v = this.store.info(key).version;
    if (v !== m.version) return fail('stale_version', `${this.opts.id} holds chunk ${key} at version ${v}, the primary orders version ${m.version}`);
    if (m.mutation.kind !== 'pad' && m.mutation.offset + m.mutation.lengthBytes > this.cfg.chunkSizeBytes) return fail('invalid_request', `mutation runs past the ${this.cfg.chunkSizeBytes}-byte chunk`);
    if (m.mutation.kind === 'pad' && m.mutation.toBytes > this.cfg.chunkSizeBytes) return fail('invalid_request', `padding past the ${this.cfg.chunkSizeBytes}-byte chunk`);
    let order = this.orders.get(key);
    if (order === undefined) {
      order = new MutationOrder<Pending>(this.cfg.mutationOrderHeldMax, this.cfg.mutationOrderTimeoutMs);
      this.orders.set(key, order);
    }
    const o = order;
    return new Promise<GfsResult<null>>((resolve) => {
      const out = o.offer(m.version, m.serial, { m, resolve }, this.ctx.clock.now());
      if (out.refused !== undefined) resolve(fail(out.refused.reason === 'busy' ? 'busy' : 'chunkserver_failed', `${this.opts.id}: ${out.refused.message}`));
      this.settle(key, out);
      if (o.heldCount > 0 && !this.ctx.timers.isActive('order-expiry')) this.ctx.timers.once('order-expiry', this.cfg.mutationOrderTimeoutMs, { type: 'gfs.chunkserver.tick', task: 'expire' });
    });
  }

  private settle(key: string, out: { ready: readonly Pending[]; failed: ReadonlyArray<{ item: Pending; message: string }> }): void {
    for (const f of out.failed) f.item.resolve(fail('chunkserver_failed', `${this.opts.id}: ${f.message}`));
    for (const p of out.ready) {
      const last = this.released.get(key);
      if (last !== undefined && !(p.m.version > last.version || (p.m.version === last.version && p.m.serial > last.serial))) {
        throw new Error(`C3: chunk ${key} released mutation ${p.m.version}/${p.m.serial} after ${last.version}/${last.serial}`);
      }
      this.released.set(key, { version: p.m.version, serial: p.m.serial });
      void this.exclusive(key, () => this.applySecondary(key, p.m))
        .then((r) => (r.ok ? this.durable(key) : r))
        .then(p.resolve, (err: unknown) => p.resolve(this.storageFailure(err, key)));
    }
  }

  private expireOrders(): void {
    const now = this.ctx.clock.now();
    let next: number | undefined;
    for (const [key, o] of this.orders) {
      this.settle(key, o.expire(now));
      const d = o.deadline();
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    if (next !== undefined) this.ctx.timers.once('order-expiry', Math.max(1, next - now), { type: 'gfs.chunkserver.tick', task: 'expire' });
  }

  private async applySecondary(key: string, m: Extract<ChunkserverMsg, { type: 'gfs.chunkserver.applyMutation' }>): Promise<GfsResult<null>> {
    if (!this.store.has(key)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
    const refused = this.sealedRefusal(key, m.version);
    if (refused !== undefined) return refused;
    const v = this.store.info(key).version;
    if (v !== m.version) return fail('stale_version', `${this.opts.id} holds chunk ${key} at version ${v}, the primary orders version ${m.version}`);
    let data: readonly Uint8Array[] | undefined;
    if (m.mutation.kind !== 'pad') {
      const taken = this.push.takeParts(m.mutation.pushId, m.mutation.lengthBytes, this.ctx.clock.now());
      if (!taken.ok) return fail(taken.reason === 'length' ? 'invalid_request' : 'data_not_found', `${this.opts.id}: ${taken.message}`);
      data = taken.parts;
    }
    const written = await this.writeMutation(key, m.version, m.mutation, data);
    if (written.ok) this.opts.probe?.applied?.({ handle: m.handle, version: m.version, serial: m.serial });
    return written;
  }

  /** Applies one mutation to this replica (visible, not yet durable: see `durable`). Call inside the chunk's lane. */
  private async writeMutation(key: string, version: number, mutation: Mutation, data: readonly Uint8Array[] | undefined): Promise<GfsResult<null>> {
    try {
      switch (mutation.kind) {
        case 'write':
        case 'append': {
          // Record append: exactly the primary's offset, even over existing bytes (¶105, C4).
          // The slices as they were pushed, one after the other, without joining them (a copy):
          // the mutation counts only once synced, and a failure midway fails it (¶100).
          let at = mutation.offset;
          for (const part of data as readonly Uint8Array[]) {
            await this.store.write(key, at, part, { expectVersion: version });
            at += part.length;
          }
          this.traffic.writtenBytes += at - mutation.offset;
          break;
        }
        case 'pad': {
          // ¶104: pad to the full chunk; readers skip padding (record checksums, ¶107).
          let at = this.store.info(key).sizeBytes;
          while (at < mutation.toBytes) {
            const n = Math.min(this.cfg.sliceBytesMax, mutation.toBytes - at);
            await this.store.write(key, at, new Uint8Array(n), { expectVersion: version });
            at += n;
            this.traffic.writtenBytes += n;
          }
          break;
        }
        default: {
          const never: never = mutation;
          return fail('invalid_request', `unknown mutation ${describe(never)}`);
        }
      }
      this.traffic.mutations++;
      this.changed.add(key);
      return ok(null);
    } catch (err) {
      return this.storageFailure(err, key);
    }
  }

  /**
   * Resolves when every mutation written to `key` so far is durable (C10). Group commit, as the op
   * log does it: the chunks that have mutations waiting are synced together in one round, at most
   * one round at a time; while a round runs, or while mutations of a chunk are still queued in its
   * lane (they will want the same sync), callers wait for the next round together. So a burst of
   * appends to one chunk costs one sync instead of one each, and concurrent writes to many chunks
   * issue their data fsyncs together (the file system commits them in one journal transaction).
   */
  private durable(key: string): Promise<GfsResult<null>> {
    return new Promise((resolve) => {
      let waiters = this.syncWaiting.get(key);
      if (waiters === undefined) {
        waiters = [];
        this.syncWaiting.set(key, waiters);
      }
      waiters.push(resolve);
      this.runSyncRound();
    });
  }

  /** Starts a sync round of every waiting chunk whose lane has drained (or that has a full batch), unless one is running. */
  private runSyncRound(): void {
    if (this.syncRoundRunning || this.syncWaiting.size === 0) return;
    const batch: Array<[string, Array<(r: GfsResult<null>) => void>]> = [];
    for (const [key, waiters] of this.syncWaiting) {
      if ((this.lanes.get(key)?.depth ?? 0) === 0 || waiters.length >= SYNC_BATCH_MAX) batch.push([key, waiters]);
    }
    if (batch.length === 0) return;
    for (const [key] of batch) this.syncWaiting.delete(key);
    this.syncRoundRunning = true;
    void Promise.all(batch.map(([key, waiters]) => this.syncChunk(key).then((r) => waiters.forEach((w) => w(r))))).finally(() => {
      this.syncRoundRunning = false;
      this.runSyncRound();
    });
  }

  private syncChunk(key: string): Promise<GfsResult<null>> {
    if (!this.store.has(key)) return Promise.resolve(fail('chunk_not_found', `chunk ${key} was deleted before its mutations were synced`));
    return this.store.sync(key).then(
      () => ok(null),
      (err: unknown) => (isStorageError(err) ? this.storageFailure<null>(err, key) : fail<null>('io_error', errorText(err))),
    );
  }

  /** A verified read (¶124, C1): never returns bytes of a block whose checksum fails. */
  private async read(handle: ChunkHandle, version: number, offset: number, lengthBytes: number): Promise<ReadReply> {
    const key = chunkKey(handle);
    if (!this.store.has(key) || this.building.has(key)) return fail('chunk_not_found', `${this.opts.id} has no chunk ${key}`);
    const v = this.store.info(key).version;
    // A replica older than the caller's version missed mutations (¶76–78); a newer one is fine.
    if (v < version) return fail('stale_version', `${this.opts.id} holds chunk ${key} at version ${v}, older than the requested ${version}`);
    if (offset > this.cfg.chunkSizeBytes || lengthBytes > this.cfg.chunkSizeBytes) return fail('invalid_request', `read of ${lengthBytes} bytes at ${offset} is outside a ${this.cfg.chunkSizeBytes}-byte chunk`);
    try {
      const data = await this.store.read(key, offset, lengthBytes);
      this.traffic.reads++;
      this.traffic.readBytes += data.length;
      // The store reads into a fresh buffer each time and keeps none: give it to the reader, so a
      // thread transport moves it instead of copying it (ownership.ts).
      return ok({ data: transferOwnership(data), chunkLengthBytes: this.store.has(key) ? this.store.info(key).sizeBytes : offset + data.length });
    } catch (err) {
      return this.storageFailure(err, key);
    }
  }

  // ----- plumbing -----

  /** Runs `fn` after every earlier `exclusive` call for the same chunk has finished (a per-chunk lane). */
  private exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { tail: Promise.resolve(), depth: 0 };
      this.lanes.set(key, lane);
    }
    const l = lane;
    l.depth++;
    const run = l.tail.then(fn);
    l.tail = run.then(
      () => undefined,
      () => undefined,
    );
    void l.tail.then(() => {
      l.depth--;
      if (l.depth === 0) {
        if (this.lanes.get(key) === l) this.lanes.delete(key);
        // The lane drained: mutations waiting for durability get their (shared) sync now.
        this.runSyncRound();
      }
    });
    return run;
  }

  private storageFailure<T>(err: unknown, key: string): GfsResult<T> {
    if (isStorageError(err)) {
      const code: GfsErrorCode = (
        {
          corrupt_block: 'corrupt_replica',
          checksum_file_corrupt: 'corrupt_replica',
          not_found: 'chunk_not_found',
          stale_version: 'stale_version',
          no_space: 'io_error',
        } as Partial<Record<string, GfsErrorCode>>
      )[err.code] ?? 'io_error';
      return fail(code, `${this.opts.id}: chunk ${key}: ${err.message}`);
    }
    if (err instanceof Error && /runs past/.test(err.message)) return fail('invalid_request', `${this.opts.id}: ${err.message}`);
    throw err;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.ctx.env.timers.after(Math.max(0, ms), resolve));
  }

  private invariants(): void {
    if (this.storeOrUndefined === undefined) return;
    this.push.invariants();
    for (const [key, o] of this.orders) if (o.heldCount > this.cfg.mutationOrderHeldMax) throw new Error(`C5: ${o.heldCount} mutations held for chunk ${key}`);
    for (const [key, l] of this.leases) {
      if (l.nextSerial < 1) throw new Error(`C2: lease on ${key} has serial ${l.nextSerial}`);
      if (!this.store.has(key)) throw new Error(`C2: lease on ${key}, a chunk this server does not hold`);
      if (this.sealed.has(key)) throw new Error(`S3: lease on ${key}, a chunk sealed here`);
    }
  }
}

function unionByServer(a: readonly ReplicaAddr[], b: readonly ReplicaAddr[]): ReplicaAddr[] {
  const out = new Map<string, ReplicaAddr>();
  for (const r of [...a, ...b]) if (!out.has(r.server)) out.set(r.server, r);
  return [...out.values()];
}

function describe(m: unknown): string {
  return JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v))?.slice(0, 200) ?? String(m);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isHandle(h: unknown): h is ChunkHandle {
  return typeof h === 'bigint' && h >= 0n && h <= HANDLE_MAX;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isAddr(a: unknown): a is ReplicaAddr {
  if (typeof a !== 'object' || a === null) return false;
  const r = a as Record<string, unknown>;
  return typeof r['server'] === 'string' && isRef(r['ref']);
}

/** What is wrong with a request's fields, or undefined. Messages cross hosts: trust nothing. */
function malformed(m: ChunkserverMsg): string | undefined {
  if (typeof m !== 'object' || m === null || typeof (m as { type?: unknown }).type !== 'string') return 'not a message';
  const bad = (field: string): string => `${m.type}: bad ${field}`;
  switch (m.type) {
    case 'gfs.chunkserver.createChunk':
    case 'gfs.chunkserver.setVersion':
      return !isHandle(m.handle) ? bad('handle') : !isCount(m.version) ? bad('version') : undefined;
    case 'gfs.chunkserver.grantLease':
      return !isHandle(m.handle) ? bad('handle') : !isCount(m.version) ? bad('version') : typeof m.expiresAt !== 'number' ? bad('expiresAt') : m.incarnation !== undefined && typeof m.incarnation !== 'string' ? bad('incarnation') : !Array.isArray(m.secondaries) || m.secondaries.length > CHAIN_MAX || !m.secondaries.every(isAddr) ? bad('secondaries') : undefined;
    case 'gfs.chunkserver.revokeLease':
      return !isHandle(m.handle) ? bad('handle') : undefined;
    case 'gfs.chunkserver.sealChunk':
      return !isHandle(m.handle) ? bad('handle') : !isCount(m.version) ? bad('version') : m.lengthBytes !== undefined && !isCount(m.lengthBytes) ? bad('lengthBytes') : undefined;
    case 'gfs.chunkserver.clone':
      return !isHandle(m.handle) ? bad('handle') : !isCount(m.version) ? bad('version') : !isAddr(m.source) ? bad('source') : typeof m.bandwidthBytesPerSecMax !== 'number' ? bad('bandwidthBytesPerSecMax') : undefined;
    case 'gfs.chunkserver.copyLocal':
      return !isHandle(m.from) ? bad('from') : !isHandle(m.to) ? bad('to') : m.from === m.to ? 'copyLocal: from and to are the same chunk' : !isCount(m.version) ? bad('version') : undefined;
    case 'gfs.chunkserver.deleteChunks':
      return !Array.isArray(m.handles) || !m.handles.every(isHandle) ? bad('handles') : undefined;
    case 'gfs.chunkserver.report':
    case 'gfs.chunkserver.stats':
    case 'gfs.chunkserver.tick':
      return undefined;
    case 'gfs.chunkserver.pushData':
      return typeof m.pushId !== 'string' ? bad('pushId') : !isCount(m.slice) || !isCount(m.slices) ? bad('slice') : !(m.data instanceof Uint8Array) ? bad('data') : !Array.isArray(m.chain) || m.chain.length > CHAIN_MAX || !m.chain.every(isAddr) ? bad('chain') : undefined;
    case 'gfs.chunkserver.write':
    case 'gfs.chunkserver.append':
      if (m.type === 'gfs.chunkserver.write' && !isCount(m.offset)) return bad('offset');
      return !isHandle(m.handle) ? bad('handle') : !isCount(m.version) ? bad('version') : typeof m.pushId !== 'string' ? bad('pushId') : !isCount(m.lengthBytes) || m.lengthBytes === 0 ? bad('lengthBytes') : !Array.isArray(m.secondaries) || m.secondaries.length > CHAIN_MAX || !m.secondaries.every(isAddr) ? bad('secondaries') : undefined;
    case 'gfs.chunkserver.applyMutation': {
      if (!isHandle(m.handle) || !isCount(m.version) || !isCount(m.serial) || m.serial < 1) return bad('handle, version or serial');
      const mu = m.mutation as Partial<Record<string, unknown>> | undefined;
      if (mu === undefined || typeof mu !== 'object') return bad('mutation');
      if (mu['kind'] === 'pad') return isCount(mu['toBytes']) ? undefined : bad('mutation.toBytes');
      if (mu['kind'] !== 'write' && mu['kind'] !== 'append') return bad('mutation.kind');
      return isCount(mu['offset']) && isCount(mu['lengthBytes']) && typeof mu['pushId'] === 'string' ? undefined : bad('mutation fields');
    }
    case 'gfs.chunkserver.read':
      return !isHandle(m.handle) ? bad('handle') : !isCount(m.version) ? bad('version') : !isCount(m.offset) || !isCount(m.lengthBytes) ? bad('range') : undefined;
    default: {
      // Unknown types are answered by the exhaustiveness check in `receive`.
      const _unknown: never = m;
      return undefined;
    }
  }
}
