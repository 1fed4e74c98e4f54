/**
 * A simulated GFS cell for chunkserver tests: the real master (`gfsMaster`, in-memory journal) and
 * real chunkservers (`gfsChunkserver`) on simulated disks, plus a tiny client that speaks the
 * protocol directly — findLeaseHolder at the master, pushData along the chain, write/append to the
 * primary, read from a replica — so each test sees the chunkserver's answers unfiltered.
 *
 * Each server's disk lives outside its node's boot function: `crash(id)` cuts power to the node and
 * replaces the disk with what survived (`SimDisk.crash()`); `restart(id)` boots it on that disk.
 */
import type { ActorRef } from '../../../src/index.js';
import { Simulation, SimDisk, SimulationError } from '../../../src/testkit.js';
import { gfsMaster } from '../../../src/actors/gfs/master/master.js';
import { MemoryJournal } from '../../../src/actors/gfs/master/journal.js';
import { gfsChunkserver, chunkKey } from '../../../src/actors/gfs/chunkserver/chunkserver.js';
import type { GfsConfig } from '../../../src/actors/gfs/config.js';
import type { GfsResult } from '../../../src/actors/gfs/errors.js';
import type { AppendReply, ChunkHandle, ChunkLease, ChunkLocation, ChunkserverMsg, ClusterStatus, MasterMsg, ReadReply, ReplicaAddr } from '../../../src/actors/gfs/protocol.js';
import type { Disk } from '../../../src/storage/disk.js';
import { withFsync } from '../../support/fsync-disk.js';
import { testConfig } from './harness.js';

export const MASTER: ActorRef<MasterMsg> = { node: 'master', id: 'master' };
export const SHADOW: ActorRef<MasterMsg> = { node: 'shadow', id: 'master' };
export const KiB = 1024;

/** Small chunks so appends fill them quickly; timeouts sized for the simulator's 0.2–2 ms links. */
export const chunkserverTestConfig: Partial<GfsConfig> = {
  ...testConfig,
  chunkSizeBytes: 256 * KiB,
  sliceBytesMax: 64 * KiB,
  pushBufferTtlMs: 5_000,
  mutationOrderTimeoutMs: 200,
  primaryLeaseMarginMs: 250,
  fullReportEveryHeartbeats: 4,
  scrubIdleAfterMs: 5_000,
  scrubBandwidthBytesPerSecMax: 1024 * KiB,
};

export interface CellOptions {
  readonly seed: number;
  readonly servers?: number;
  readonly racks?: number;
  readonly config?: Partial<GfsConfig>;
  readonly clients?: number;
  /** Add a shadow master (¶120–121): it follows the log and gets the chunkservers' heartbeats too. */
  readonly shadow?: boolean;
  /** Give each server a wrapper around its simulated disk (e.g. with slow fsyncs). `current` returns the disk in use now. */
  readonly wrapDisk?: (current: () => SimDisk, sim: Simulation) => Disk;
}

export function serverRef(id: string): ActorRef<ChunkserverMsg> {
  return { node: id, id: 'chunkserver' };
}

export function gfsCell(o: CellOptions) {
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.2, latencyMaxMs: 2 } });
  const config: Partial<GfsConfig> = { ...chunkserverTestConfig, ...o.config };
  const journal = new MemoryJournal();
  sim.addNode('master', (system) => {
    system.spawn(gfsMaster({ role: 'primary', journal, config, afterRestart: false, followers: o.shadow === true ? [SHADOW] : [] }), { name: 'master', reentrant: true, supervision: { strategy: 'stop' } });
  });
  if (o.shadow === true) {
    sim.addNode('shadow', (system) => {
      system.spawn(gfsMaster({ role: 'shadow', primaryName: 'master@master', config }), { name: 'master', reentrant: true });
    });
  }
  const masters = o.shadow === true ? [MASTER, SHADOW] : [MASTER];
  const disks = new Map<string, SimDisk>();
  const servers: string[] = [];
  for (let i = 0; i < (o.servers ?? 3); i++) {
    const id = `cs${i}`;
    servers.push(id);
    disks.set(id, new SimDisk({ random: sim.random.fork(`disk-${id}`) }));
    sim.addNode(id, (system) => {
      const current = (): SimDisk => disks.get(id) as SimDisk;
      const disk: Disk = o.wrapDisk === undefined ? current() : o.wrapDisk(current, sim);
      system.spawn(gfsChunkserver({ id, rack: `rack${i % (o.racks ?? 3)}`, host: `host-${id}`, masters, disk, dir: 'chunks', config }), { name: 'chunkserver', reentrant: true });
    });
  }
  const clients = Array.from({ length: o.clients ?? 1 }, (_, i) => sim.addNode(`client${i}`, () => {}));
  let pushSeq = 0;

  function fail(message: string): never {
    throw new SimulationError(message, sim.seed, sim.replayCommand);
  }

  /** Power cut on a chunkserver's node: it loses unsynced disk writes. */
  function crash(id: string): void {
    sim.crash(id);
    disks.set(id, (disks.get(id) as SimDisk).crash());
  }

  function ask<R>(to: ActorRef<unknown>, msg: unknown, client = 0, timeoutMs = 5_000): Promise<R> {
    const node = clients[client];
    if (node === undefined) fail(`no client ${client}`);
    return node.system.ask<R>(to, msg, { timeoutMs });
  }

  /** Asks and runs the simulation until the answer arrives. */
  function call<R>(to: ActorRef<unknown>, msg: unknown, client = 0): Promise<R> {
    return sim.result(ask<R>(to, msg, client));
  }

  async function must<T>(msg: MasterMsg, client = 0): Promise<T> {
    const r = await ask<GfsResult<T>>(MASTER, msg, client);
    if (!r.ok) fail(`${msg.type} failed: ${r.error.code}: ${r.error.message}`);
    return r.value;
  }

  /** The tiny client: pushes `data` along `chain` (slices of `sliceBytes`), all slices at once. */
  async function push(chain: readonly ReplicaAddr[], data: Uint8Array, client = 0, sliceBytes = config.sliceBytesMax ?? 64 * KiB): Promise<GfsResult<string>> {
    const head = chain[0];
    if (head === undefined) fail('empty chain');
    const pushId = `client${client}:${++pushSeq}`;
    const slices = Math.max(1, Math.ceil(data.length / sliceBytes));
    const replies = await Promise.all(
      Array.from({ length: slices }, (_, slice) =>
        ask<GfsResult<null>>(head.ref, { type: 'gfs.chunkserver.pushData', pushId, slice, slices, data: data.subarray(slice * sliceBytes, (slice + 1) * sliceBytes), chain: chain.slice(1) } satisfies ChunkserverMsg, client),
      ),
    );
    const bad = replies.find((r) => !r.ok);
    return bad !== undefined && !bad.ok ? bad : { ok: true, value: pushId };
  }

  async function lease(path: string, index: number, client = 0): Promise<ChunkLease> {
    return must<ChunkLease>({ type: 'gfs.master.findLeaseHolder', path, index }, client);
  }

  /** Lease, push to every replica, write at the primary. */
  async function write(path: string, index: number, offset: number, data: Uint8Array, client = 0): Promise<{ reply: GfsResult<unknown>; lease: ChunkLease }> {
    const l = await lease(path, index, client);
    const pushed = await push([l.primary, ...l.secondaries], data, client);
    if (!pushed.ok) return { reply: pushed, lease: l };
    const reply = await ask<GfsResult<unknown>>(l.primary.ref, { type: 'gfs.chunkserver.write', handle: l.handle, version: l.version, offset, pushId: pushed.value, lengthBytes: data.length, secondaries: l.secondaries } satisfies ChunkserverMsg, client);
    return { reply, lease: l };
  }

  /** Lease, push to every replica, record append at the primary. */
  async function append(path: string, index: number, data: Uint8Array, client = 0): Promise<{ reply: AppendReply; lease: ChunkLease }> {
    const l = await lease(path, index, client);
    const pushed = await push([l.primary, ...l.secondaries], data, client);
    if (!pushed.ok) return { reply: pushed, lease: l };
    const reply = await ask<AppendReply>(l.primary.ref, { type: 'gfs.chunkserver.append', handle: l.handle, version: l.version, pushId: pushed.value, lengthBytes: data.length, secondaries: l.secondaries } satisfies ChunkserverMsg, client);
    return { reply, lease: l };
  }

  function read(server: ActorRef<ChunkserverMsg>, handle: ChunkHandle, version: number, offset: number, lengthBytes: number, client = 0): Promise<ReadReply> {
    return ask<ReadReply>(server, { type: 'gfs.chunkserver.read', handle, version, offset, lengthBytes } satisfies ChunkserverMsg, client);
  }

  /** The whole chunk as one replica holds it. */
  async function chunkBytes(server: ActorRef<ChunkserverMsg>, handle: ChunkHandle, version: number): Promise<Uint8Array> {
    const r = await read(server, handle, version, 0, config.chunkSizeBytes ?? 256 * KiB);
    if (!r.ok) fail(`read of ${chunkKey(handle)} from ${server.node} failed: ${r.error.code}: ${r.error.message}`);
    return r.value.data;
  }

  async function locations(path: string, index: number): Promise<ChunkLocation> {
    const [loc] = await must<ChunkLocation[]>({ type: 'gfs.master.getChunkLocations', path, index, count: 1 });
    if (loc === undefined) fail(`no location for ${path}[${index}]`);
    return loc;
  }

  /** Runs until every chunkserver has joined the master (heartbeats arrive once the stores are open). */
  async function start(): Promise<void> {
    await sim.run({ forMs: 1_000 });
    for (let i = 0; i < 50; i++) {
      const st = await sim.result(ask<GfsResult<ClusterStatus>>(MASTER, { type: 'gfs.master.status' } satisfies MasterMsg));
      if (st.ok && st.value.servers.filter((x) => x.alive).length === servers.length) return;
      await sim.run({ forMs: 200 });
    }
    fail('chunkservers did not join the master');
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => sim.after(ms, resolve));
  }

  /**
   * A record append the way a client library does it (¶100, ¶104, ¶106): on an error, ask the master
   * again and retry; on "retry on the next chunk", move on. Returns where the record landed, or
   * undefined when every attempt failed.
   */
  async function appendWithRetries(path: string, record: Uint8Array, hint: { index: number }, client = 0, attempts = 60): Promise<{ index: number; offset: number } | undefined> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const index = hint.index;
      const l = await ask<GfsResult<ChunkLease>>(MASTER, { type: 'gfs.master.findLeaseHolder', path, index } satisfies MasterMsg, client).catch(() => undefined);
      if (l === undefined || !l.ok) {
        await sleep(300);
        continue;
      }
      const pushed = await push([l.value.primary, ...l.value.secondaries], record, client).catch(() => undefined);
      if (pushed === undefined || !pushed.ok) {
        await sleep(300);
        continue;
      }
      const r = await ask<AppendReply>(l.value.primary.ref, { type: 'gfs.chunkserver.append', handle: l.value.handle, version: l.value.version, pushId: pushed.value, lengthBytes: record.length, secondaries: l.value.secondaries } satisfies ChunkserverMsg, client).catch(() => undefined);
      if (r !== undefined && r.ok && 'offset' in r.value) return { index, offset: r.value.offset };
      if (r !== undefined && r.ok) {
        hint.index = Math.max(hint.index, index + 1);
        continue;
      }
      await sleep(300);
    }
    return undefined;
  }

  return { sim, config, disks, servers, clients, start, sleep, appendWithRetries, crash, ask, call, must, push, lease, write, append, read, chunkBytes, locations, fail };
}

/** Deterministic test bytes. */
export function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A disk whose fsyncs take `delayMs` of virtual time (the simulated disk's complete at once). */
export function slowFsyncDisk(sim: Simulation, current: () => Disk, delayMs: number): Disk {
  return withFsync(current, async (fsync) => {
    await new Promise<void>((resolve) => sim.after(delayMs, resolve));
    await fsync();
  });
}
