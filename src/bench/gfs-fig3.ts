/**
 * The GFS paper's micro-benchmark testbed (SOSP 2003, §6.1, Figure 3) in the simulator: one
 * master, 16 chunkservers and up to 16 clients, every machine with a 100 Mbps full-duplex NIC
 * (12.5 MB/s each way), the clients on one switch and the chunkservers on another, the two
 * switches joined by a 1 Gbps link (125 MB/s each way). The real GFS master, chunkservers (each
 * on a simulated disk timed as a modest SATA SSD, `ssdTiming`: ~2 ms per MiB, 1 ms per fsync) and
 * client library run on simulated nodes; the disks and the network are models (`SimNetwork.setNic` / `setTrunk`: FIFO queues per NIC direction and per
 * trunk direction, crossed by 64 KiB packets, store and forward).
 *
 * Workloads, scaled down from the paper's (its sizes in brackets) with the same shape:
 * - read: each client reads random 4 MiB regions [4 MB] of a file set of many chunks spread over
 *   all the chunkservers [320 GB], `readsPerClient` times [256 times: 1 GB];
 * - write: each client writes `writeBytesPerClient` [1 GB] to a new file in 1 MiB writes [1 MB];
 * - append: all clients append 1 MiB records to one file, `appendsPerClient` each.
 * Times are virtual, so the rates do not depend on this machine; MB below means 10^6 bytes, as in
 * the paper (100 Mbps = 12.5 MB/s).
 */
import { Simulation } from '../runtime/sim/simulation.js';
import { simDisks } from '../storage/sim/sim-disk.js';
import { ssdTiming } from '../storage/sim/disk-timing.js';
import type { ActorRef } from '../runtime/ref.js';
import { gfsMaster } from '../actors/gfs/master/master.js';
import { MemoryJournal } from '../actors/gfs/master/journal.js';
import { gfsChunkserver } from '../actors/gfs/chunkserver/chunkserver.js';
import { GfsClient } from '../actors/gfs/client/client.js';
import type { GfsConfig } from '../actors/gfs/config.js';
import type { MasterMsg } from '../actors/gfs/protocol.js';

export const NIC_BYTES_PER_SEC = 12.5e6;
export const TRUNK_BYTES_PER_SEC = 125e6;
export const MIB = 1 << 20;

const MASTER: ActorRef<MasterMsg> = { node: 'master', id: 'master' };

export interface Fig3Options {
  readonly clients: number;
  readonly servers?: number;
  readonly seed?: number;
  readonly chunkSizeBytes?: number;
  /** The clients' push (default chain, the paper's). */
  readonly pushTopology?: 'chain' | 'star';
}

export interface Fig3Testbed {
  readonly sim: Simulation;
  readonly clients: readonly GfsClient[];
  readonly servers: readonly string[];
  readonly chunkSizeBytes: number;
  run<T>(p: Promise<T>): Promise<T>;
}

/** Client node names (on switch `clients`) and chunkserver node names (on switch `servers`). */
export const clientNode = (i: number): string => `client${i}`;
export const serverNode = (i: number): string => `cs${i}`;

/**
 * Gives every named node a 100 Mbps NIC on its switch and joins the two switches by 1 Gbps: the
 * topology alone, usable with any nodes (the test checks its limits with plain actors).
 */
export function fig3Network(sim: Simulation, clients: readonly string[], servers: readonly string[]): void {
  for (const c of clients) sim.network.setNic(c, { egressBytesPerSec: NIC_BYTES_PER_SEC, ingressBytesPerSec: NIC_BYTES_PER_SEC, switch: 'clients' });
  for (const s of servers) sim.network.setNic(s, { egressBytesPerSec: NIC_BYTES_PER_SEC, ingressBytesPerSec: NIC_BYTES_PER_SEC, switch: 'servers' });
  sim.network.setTrunk('clients', 'servers', TRUNK_BYTES_PER_SEC);
}

export function fig3Testbed(o: Fig3Options): Fig3Testbed {
  const chunkSizeBytes = o.chunkSizeBytes ?? 16 * MIB;
  // A LAN: 0.1–0.2 ms per message on top of the NIC and trunk queues.
  const sim = new Simulation({ seed: o.seed ?? 1, network: { latencyMinMs: 0.1, latencyMaxMs: 0.2 } });
  const config: Partial<GfsConfig> = {
    chunkSizeBytes,
    // Generous timeouts: at 16 clients a 1 MiB slice may queue behind many others on a NIC.
    rpcTimeoutMs: 30_000,
    leaseDurationMs: 60_000,
    heartbeatIntervalMs: 5_000,
    chunkserverTimeoutMs: 60_000,
    pushBufferBytesMax: 1 << 30,
    // Spread a burst of creations (patent ¶62): with the default (8 recent creations per server
    // before it is avoided) and usage learned only from heartbeats, the chunks created in the
    // first seconds pile onto a few servers; the paper's file set was not created in one burst.
    recentCreationsPerServerMax: 1,
    recentCreationWindowMs: 600_000,
  };
  sim.addNode('master', (system) => {
    system.spawn(gfsMaster({ role: 'primary', journal: new MemoryJournal(), config, afterRestart: false }), { name: 'master', reentrant: true, supervision: { strategy: 'stop' } });
  });
  const servers: string[] = [];
  const newDisk = simDisks({ random: sim.random, scheduler: sim.scheduler(), timing: ssdTiming });
  for (let i = 0; i < (o.servers ?? 16); i++) {
    const id = serverNode(i);
    servers.push(id);
    const disk = newDisk(id);
    sim.addNode(id, (system) => {
      system.spawn(gfsChunkserver({ id, rack: 'servers', host: `host-${id}`, masters: [MASTER], disk, dir: 'chunks', config }), { name: 'chunkserver', reentrant: true, supervision: { strategy: 'stop' } });
    });
  }
  const clients: GfsClient[] = [];
  const clientNames: string[] = [];
  for (let i = 0; i < o.clients; i++) {
    const name = clientNode(i);
    clientNames.push(name);
    const node = sim.addNode(name, () => {});
    clients.push(
      GfsClient.on(node.system, {
        masters: [MASTER],
        clientId: name,
        host: `host-${name}`,
        rack: 'clients',
        config,
        // Pipelining in 64 KiB slices, like the paper's pipelined TCP transfers (§3.2): with the
        // default 1 MiB slices a 1 MB write would cross each hop of the chain whole, one after another.
        sliceBytes: 64 * 1024,
        slicesInFlightMax: 16,
        // Reads in 1 MiB sub-reads over the equally near replicas, so 16 readers spread over the
        // chunkservers' 100 Mbps NICs instead of queueing on one (GFS README, "Fig. 3").
        readPieceBytes: 1024 * 1024,
        ...(o.pushTopology === undefined ? {} : { pushTopology: o.pushTopology }),
      }),
    );
  }
  // The master sits on the chunkservers' switch with a NIC of its own (its traffic is small).
  fig3Network(sim, clientNames, [...servers, 'master']);
  const run = <T>(p: Promise<T>): Promise<T> => sim.result(p, { maxSteps: 500_000_000 });
  // The chunkservers register with their first heartbeat, once their stores are open (a journal
  // file created and fsynced): give them 100 ms of virtual time before the workload starts.
  const started = new Promise<void>((resolve) => sim.after(100, resolve));
  return { sim, clients, servers, chunkSizeBytes, run: async (p) => {
    await sim.result(started, { maxSteps: 500_000_000 });
    return run(p);
  } };
}

export interface Fig3Result {
  readonly clients: number;
  /** Bytes the clients moved in the measured phase, and the virtual time it took. */
  readonly bytes: number;
  readonly virtualMs: number;
  readonly bytesPerSec: number;
  /** The network's limit for this workload (see `fig3Limit`). */
  readonly limitBytesPerSec: number;
  readonly limitFraction: number;
}

/**
 * The network limit of each workload at `n` clients (the paper's dashed lines): reads, the
 * clients' NICs up to the 1 Gbps trunk; writes, every byte goes to 3 replicas over the 16
 * chunkservers' NICs (16 × 12.5 / 3 = 67 MB/s), or the clients' NICs if fewer; record append,
 * the NIC of the chunkserver holding the file's last chunk.
 */
export function fig3Limit(workload: 'read' | 'write' | 'append', n: number, servers = 16): number {
  if (workload === 'read') return Math.min(n * NIC_BYTES_PER_SEC, TRUNK_BYTES_PER_SEC);
  if (workload === 'write') return Math.min(n * NIC_BYTES_PER_SEC, TRUNK_BYTES_PER_SEC, (servers * NIC_BYTES_PER_SEC) / 3);
  return NIC_BYTES_PER_SEC;
}

function result(workload: 'read' | 'write' | 'append', clients: number, bytes: number, virtualMs: number): Fig3Result {
  const bytesPerSec = bytes / (virtualMs / 1000);
  const limitBytesPerSec = fig3Limit(workload, clients);
  return { clients, bytes, virtualMs, bytesPerSec, limitBytesPerSec, limitFraction: bytesPerSec / limitBytesPerSec };
}

function payload(bytes: number, seed: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) b[i] = (seed + i / 4096) & 0xff;
  return b;
}

export interface ReadWorkload {
  readonly clients: number;
  readonly files?: number;
  readonly chunksPerFile?: number;
  readonly readBytes?: number;
  readonly readsPerClient?: number;
  readonly replication?: number;
  readonly seed?: number;
}

/** Reads: every client reads random `readBytes` regions of a file set written beforehand. */
export async function fig3Read(o: ReadWorkload): Promise<Fig3Result> {
  const tb = fig3Testbed({ clients: o.clients, ...(o.seed === undefined ? {} : { seed: o.seed }) });
  const files = o.files ?? 8;
  const chunks = o.chunksPerFile ?? 4;
  const readBytes = o.readBytes ?? 4 * MIB;
  const reads = o.readsPerClient ?? 8;
  const writer = tb.clients[0] as GfsClient;
  // The file set, written (untimed) by every client in turn so chunks spread over the servers.
  await tb.run(writer.mkdirs('/set'));
  if (o.replication !== undefined) await tb.run(writer.setPolicy('/set', { replication: o.replication }));
  await tb.run(
    Promise.all(
      Array.from({ length: files }, async (_, f) => {
        const c = tb.clients[f % tb.clients.length] as GfsClient;
        await c.create(`/set/f${f}`);
        // In 1 MiB writes: the simulator's message copy (structuredClone) copies a view's whole
        // buffer, so slices of one large buffer would cost a copy of all of it each.
        const piece = payload(MIB, f);
        for (let at = 0; at < chunks * tb.chunkSizeBytes; at += MIB) await c.write(`/set/f${f}`, at, piece);
      }),
    ),
  );
  const random = tb.sim.random.fork('reads');
  const regionsPerChunk = Math.max(1, Math.floor(tb.chunkSizeBytes / readBytes));
  const t0 = tb.sim.now;
  let moved = 0;
  await tb.run(
    Promise.all(
      tb.clients.map(async (c) => {
        for (let r = 0; r < reads; r++) {
          const f = random.int(files);
          const at = random.int(chunks) * tb.chunkSizeBytes + random.int(regionsPerChunk) * readBytes;
          const got = (await c.read(`/set/f${f}`, at, readBytes)).length;
          if (got !== readBytes) throw new Error(`read of /set/f${f} at ${at} returned ${got} of ${readBytes} bytes`);
          moved += got;
        }
      }),
    ),
  );
  return result('read', o.clients, moved, tb.sim.now - t0);
}

export interface WriteWorkload {
  readonly clients: number;
  readonly bytesPerClient?: number;
  readonly writeBytes?: number;
  readonly seed?: number;
  readonly pushTopology?: 'chain' | 'star';
}

/** Writes: every client writes `bytesPerClient` to a new file of its own in `writeBytes` writes. */
export async function fig3Write(o: WriteWorkload): Promise<Fig3Result> {
  const tb = fig3Testbed({ clients: o.clients, ...(o.seed === undefined ? {} : { seed: o.seed }), ...(o.pushTopology === undefined ? {} : { pushTopology: o.pushTopology }) });
  const total = o.bytesPerClient ?? 32 * MIB;
  const size = o.writeBytes ?? MIB;
  await tb.run((tb.clients[0] as GfsClient).mkdirs('/w'));
  await tb.run(Promise.all(tb.clients.map((c, i) => c.create(`/w/c${i}`))));
  const data = payload(size, 7);
  const t0 = tb.sim.now;
  await tb.run(
    Promise.all(
      tb.clients.map(async (c, i) => {
        for (let at = 0; at < total; at += size) await c.write(`/w/c${i}`, at, data);
      }),
    ),
  );
  return result('write', o.clients, total * o.clients, tb.sim.now - t0);
}

export interface AppendWorkload {
  readonly clients: number;
  readonly appendsPerClient?: number;
  readonly recordBytes?: number;
  readonly seed?: number;
  readonly chunkSizeBytes?: number;
}

/** Record appends: every client appends `appendsPerClient` records to one shared file. */
export async function fig3Append(o: AppendWorkload): Promise<Fig3Result> {
  const tb = fig3Testbed({ clients: o.clients, ...(o.seed === undefined ? {} : { seed: o.seed }), ...(o.chunkSizeBytes === undefined ? {} : { chunkSizeBytes: o.chunkSizeBytes }) });
  const appends = o.appendsPerClient ?? 8;
  const size = o.recordBytes ?? MIB;
  await tb.run((tb.clients[0] as GfsClient).mkdirs('/a'));
  await tb.run((tb.clients[0] as GfsClient).create('/a/log'));
  const data = payload(size, 11);
  const t0 = tb.sim.now;
  await tb.run(
    Promise.all(
      tb.clients.map(async (c) => {
        for (let k = 0; k < appends; k++) await c.append('/a/log', data);
      }),
    ),
  );
  return result('append', o.clients, appends * size * o.clients, tb.sim.now - t0);
}
