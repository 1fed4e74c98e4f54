/**
 * The GFS client library end to end, in the simulator: real master, real chunkservers on
 * simulated disks, clients on their own nodes (patent ¶82–109; DESIGN.md §1 consistency model).
 */
import { describe, expect, it } from 'vitest';
import { simSeeds, withSeed } from '../../../src/testkit.js';
import { GfsClient, GfsClientError, RecordReader, RecordWriter } from '../../../src/actors/gfs/client/client.js';
import type { ChunkLocation } from '../../../src/actors/gfs/protocol.js';
import { MASTER, realCluster } from './cluster.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bytes each chunkserver has served to readers so far (its traffic counters). */
async function readBytesByServer(c: ReturnType<typeof realCluster>, servers: readonly string[] = c.servers): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const node = c.sim.node('master').system;
  for (const s of servers) {
    const r = await c.run(node.ask<{ ok: true; value: { readBytes: number } }>({ node: s, id: 'chunkserver' }, { type: 'gfs.chunkserver.stats' }));
    out.set(s, r.value.readBytes);
  }
  return out;
}

describe('GfsClient: namespace, reads and writes', () => {
  it('writes and reads back data that spans several chunks (¶84, ¶98)', async () => {
    const c = realCluster({ seed: 1 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client();
    await c.run(client.mkdirs('/data/set'));
    await c.run(client.create('/data/set/big'));
    const data = bytes(200 * 1024, 1); // about 3 chunks of 64 KiB
    await c.run(client.write('/data/set/big', 10 * 1024, data));
    await c.sim.run({ forMs: 2_000 }); // heartbeats report chunk lengths to the master
    const back = await c.run(client.read('/data/set/big', 10 * 1024, data.length));
    expect(back).toEqual(data);
    const info = await c.run(client.stat('/data/set/big'));
    expect(info.chunks).toBe(4);
    // Heartbeats carry the lengths of changed chunks between full reports: stat's size is current.
    expect(info.sizeBytes).toBe(10 * 1024 + data.length);
    const all = await c.run(client.read('/data/set/big', 0, 1 << 20));
    expect(all.length).toBe(10 * 1024 + data.length);
    expect(all.subarray(0, 10 * 1024)).toEqual(new Uint8Array(10 * 1024));
  });

  it('a serial successful write is defined: every replica holds the same bytes and readers see the write (Table 1)', async () => {
    const c = realCluster({ seed: 2 });
    await c.sim.run({ forMs: 1_000 });
    const a = c.client();
    await c.run(a.create('/f'));
    await c.run(a.write('/f', 0, text('first version of the data')));
    await c.run(a.write('/f', 6, text('VERSION')));
    await c.sim.run({ forMs: 2_000 });
    const b = c.client();
    expect(new TextDecoder().decode(await c.run(b.read('/f', 0, 100)))).toBe('first VERSION of the data');
  });

  it('a star push sends the data to every replica from the client: same bytes everywhere, three times the client\'s egress', async () => {
    const elapsed: Record<string, number> = {};
    for (const pushTopology of ['chain', 'star'] as const) {
      const c = realCluster({ seed: 3, servers: 3, config: { sliceBytesMax: 16 * 1024 } });
      await c.sim.run({ forMs: 1_000 });
      const w = c.client('writer', { pushTopology, sliceBytes: 16 * 1024 });
      await c.run(w.create('/f'));
      await c.run(w.write('/f', 0, text('x'))); // the chunk exists and the lease is granted: time only the data
      // The writer's NIC sends 1 MB/s; 48 KiB to 3 replicas is ~49 ms as a chain, ~147 ms as a star.
      c.sim.network.setNic('writer', { egressBytesPerSec: 1_000_000, ingressBytesPerSec: Infinity });
      const data = bytes(48 * 1024, 4);
      const t0 = c.sim.now;
      await c.run(w.write('/f', 0, data));
      elapsed[pushTopology] = c.sim.now - t0;
      const [loc] = (await c.run(c.sim.node('writer').system.ask<{ ok: true; value: ChunkLocation[] }>(MASTER, { type: 'gfs.master.getChunkLocations', path: '/f', index: 0, count: 1 }))).value;
      expect(loc?.replicas).toHaveLength(3);
      for (const r of loc?.replicas ?? []) {
        const got = await c.run(c.sim.node('writer').system.ask<{ ok: true; value: { data: Uint8Array } }>(r.ref, { type: 'gfs.chunkserver.read', handle: loc?.handle, version: loc?.version, offset: 0, lengthBytes: data.length }));
        expect(got.value.data).toEqual(data);
      }
    }
    expect(elapsed.star).toBeGreaterThan(2.5 * (elapsed.chain ?? 0));
  });

  it('equally near replicas are spread over clients and chunks, not always the first by name', () => {
    const c = realCluster({ seed: 5 });
    const far = (server: string) => ({ server, ref: { node: server, id: 'chunkserver' }, rack: 'elsewhere', host: `host-${server}` });
    const replicas = [far('cs1'), far('cs2'), far('cs3')];
    const first = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const client = c.client() as unknown as { nearestFirst(r: typeof replicas, handle: bigint): typeof replicas };
      for (let h = 1n; h <= 4n; h++) first.add(client.nearestFirst(replicas, h)[0]?.server ?? '');
    }
    expect(first.size).toBe(3);
  });

  it('reads go to the nearest replica and fall back to the others when it fails (¶87)', async () => {
    const c = realCluster({ seed: 3, servers: 6 });
    await c.sim.run({ forMs: 1_000 });
    const w = c.client();
    await c.run(w.create('/r'));
    await c.run(w.write('/r', 0, bytes(5_000, 3)));
    await c.sim.run({ forMs: 2_000 });
    const r = c.client('reader'); // on rack0: cs0 and cs3 are its rack-mates
    const locs = await c.run(c.sim.system('reader').ask<{ ok: true; value: ChunkLocation[] }>(MASTER, { type: 'gfs.master.getChunkLocations', path: '/r', index: 0, count: 1 }));
    const replicas = locs.value[0]?.replicas.map((x) => x.server) ?? [];
    expect(replicas).toHaveLength(3);
    const nearest = replicas.find((s) => s === 'cs0' || s === 'cs3') ?? (replicas[0] as string);
    c.crashServer(nearest);
    expect(await c.run(r.read('/r', 0, 5_000))).toEqual(bytes(5_000, 3));
  });

  it('new chunks made before the master has noticed a dead chunkserver still get every replica, none on it', async () => {
    const c = realCluster({ seed: 5, servers: 4 });
    await c.sim.run({ forMs: 1_000 });
    const w = c.client();
    c.crashServer('cs0');
    // Well within the master's heartbeat timeout: it still counts cs0 as live.
    const files = ['/n0', '/n1', '/n2', '/n3', '/n4', '/n5'];
    for (const f of files) {
      await c.run(w.create(f));
      await c.run(w.write(f, 0, bytes(1_000, 1)));
    }
    const node = c.sim.system('master');
    for (const f of files) {
      const locs = await c.run(node.ask<{ ok: true; value: ChunkLocation[] }>(MASTER, { type: 'gfs.master.getChunkLocations', path: f, index: 0, count: 1 }));
      const replicas = locs.value[0]?.replicas.map((x) => x.server) ?? [];
      expect(replicas.sort(), f).toEqual(['cs1', 'cs2', 'cs3']);
    }
  });

  it('a long read is split into sub-reads spread over the equally near replicas (¶87)', async () => {
    const c = realCluster({ seed: 21, servers: 3, racks: 1 });
    await c.sim.run({ forMs: 1_000 });
    const w = c.client();
    await c.run(w.create('/s'));
    const data = bytes(48 * 1024, 5);
    await c.run(w.write('/s', 0, data));
    const before = await readBytesByServer(c);
    // On the servers' rack but on none of their hosts: all three replicas are equally near.
    const r = c.client('reader', { readPieceBytes: 8 * 1024 });
    expect(await c.run(r.read('/s', 0, data.length))).toEqual(data);
    const after = await readBytesByServer(c);
    const served = c.servers.map((s) => (after.get(s) ?? 0) - (before.get(s) ?? 0));
    expect(served.reduce((a, b) => a + b, 0)).toBe(data.length);
    expect(served.filter((b) => b > 0)).toHaveLength(3);
    // `readReplicasMax: 1` reads from one replica only, as before the split.
    const one = c.client('reader1', { readPieceBytes: 8 * 1024, readReplicasMax: 1 });
    expect(await c.run(one.read('/s', 0, data.length))).toEqual(data);
    const last = await readBytesByServer(c);
    expect(c.servers.map((s) => (last.get(s) ?? 0) - (after.get(s) ?? 0)).filter((b) => b > 0)).toHaveLength(1);
  });

  it('a sub-read whose replica fails is read from another: the read still returns every byte (¶87)', async () => {
    const c = realCluster({ seed: 22, servers: 3, racks: 1 });
    await c.sim.run({ forMs: 1_000 });
    const w = c.client();
    await c.run(w.create('/s'));
    const data = bytes(60 * 1024, 6);
    await c.run(w.write('/s', 0, data));
    const r = c.client('reader', { readPieceBytes: 4 * 1024 });
    expect(await c.run(r.read('/s', 0, 1024))).toEqual(data.subarray(0, 1024)); // locations cached
    c.crashServer('cs1'); // the cached location still names it
    const before = await readBytesByServer(c, ['cs0', 'cs2']);
    expect(await c.run(r.read('/s', 0, data.length))).toEqual(data);
    const after = await readBytesByServer(c, ['cs0', 'cs2']);
    expect((after.get('cs0') ?? 0) - (before.get('cs0') ?? 0) + (after.get('cs2') ?? 0) - (before.get('cs2') ?? 0)).toBe(data.length);
  });

  it('a split read past the end of the file stops at the end: the sub-read that comes back short', async () => {
    const c = realCluster({ seed: 23, servers: 3, racks: 1 });
    await c.sim.run({ forMs: 1_000 });
    const w = c.client();
    await c.run(w.create('/s'));
    const data = bytes(20 * 1024 + 100, 7);
    await c.run(w.write('/s', 0, data));
    const r = c.client('reader', { readPieceBytes: 8 * 1024 });
    expect(await c.run(r.read('/s', 0, 64 * 1024))).toEqual(data);
    expect(await c.run(r.read('/s', 16 * 1024, 64 * 1024))).toEqual(data.subarray(16 * 1024));
    expect(await c.run(r.read('/s', 24 * 1024, 8 * 1024))).toEqual(new Uint8Array(0));
  });

  it('the push chain goes on to a replica in the same runtime node (thread) first: that hop crosses no thread (¶95)', () => {
    const c = realCluster({ seed: 24 });
    const on = (server: string, node: string) => ({ server, ref: { node, id: server }, rack: 'r', host: 'h' });
    const client = c.client() as unknown as { chainOrder(r: ReturnType<typeof on>[]): ReturnType<typeof on>[] };
    const chain = client.chainOrder([on('cs0', 'w0'), on('cs1', 'w1'), on('cs2', 'w0')]).map((r) => r.server);
    expect(chain).toEqual(['cs0', 'cs2', 'cs1']);
  });

  it('namespace operations through the client: list, rename, delete, undelete, snapshot', async () => {
    const c = realCluster({ seed: 4 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client();
    await c.run(client.mkdirs('/a/b'));
    await c.run(client.create('/a/b/x'));
    await c.run(client.rename('/a/b/x', '/a/b/y'));
    expect((await c.run(client.list('/a/b'))).map((f) => f.path)).toEqual(['/a/b/y']);
    await c.run(client.snapshot('/a', '/a-snap'));
    await c.run(client.delete('/a/b/y'));
    expect(await c.run(client.list('/a/b'))).toEqual([]);
    await c.run(client.undelete('/a/b/y'));
    expect((await c.run(client.list('/a-snap/b'))).map((f) => f.path)).toEqual(['/a-snap/b/y']);
    const err = await c.run(client.create('/a/b/y').catch((e: unknown) => e));
    expect(err).toMatchObject({ code: 'already_exists' });
  });

  it('streams a large file chunk by chunk', async () => {
    const c = realCluster({ seed: 5 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client();
    await c.run(client.create('/stream'));
    const data = bytes(150 * 1024, 5);
    await c.run(client.write('/stream', 0, data));
    await c.sim.run({ forMs: 2_000 });
    const parts: Uint8Array[] = [];
    await c.run(
      (async () => {
        for await (const p of client.chunks('/stream', 40 * 1024)) parts.push(p);
      })(),
    );
    expect(parts.length).toBe(4);
    expect(Uint8Array.from(parts.flatMap((p) => [...p]))).toEqual(data);
  });
});

describe('record append queues (¶101–108, ¶107)', () => {
  it('returns offsets, pads a chunk a record does not fit in, and refuses records over a quarter chunk', async () => {
    const c = realCluster({ seed: 6 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client();
    await c.run(client.create('/q'));
    const offsets: number[] = [];
    for (let i = 0; i < 10; i++) offsets.push((await c.run(client.append('/q', bytes(15_000, i)))).offset);
    const chunk = c.config.chunkSizeBytes as number;
    // Records never straddle a chunk: at most 4 of 15,000 bytes fit in 64 KiB, then the next chunk.
    for (const off of offsets) expect(Math.floor(off / chunk)).toBe(Math.floor((off + 15_000 - 1) / chunk));
    expect(new Set(offsets.map((o) => Math.floor(o / chunk))).size).toBeGreaterThanOrEqual(3);
    const err = await c.run(client.append('/q', new Uint8Array(chunk / 4 + 1)).catch((e: unknown) => e));
    expect(err).toMatchObject({ code: 'record_too_large' });
  });

  it.each(simSeeds([11, 12, 13]))('seed %i: many producers, a chunkserver crash: the reader yields every acknowledged record exactly once', async (seed) => {
    await withSeed(seed, async () => {
      const c = realCluster({ seed, servers: 5 });
      await c.sim.run({ forMs: 1_000 });
      const setup = c.client('setup');
      await c.run(setup.create('/queue'));
      const acked = new Set<string>();
      const producers = [0, 1, 2].map((p) => ({ p, writer: new RecordWriter(c.client(`producer${p}`), '/queue', BigInt(p + 1)) }));
      const work = producers.map(async ({ p, writer }) => {
        for (let i = 0; i < 30; i++) {
          const payload = text(`producer ${p} record ${i} `.padEnd(200 + ((p * 37 + i * 11) % 900), '.'));
          try {
            await writer.append(payload);
            acked.add(`${p}:${i}`);
          } catch {
            // Not acknowledged: it may or may not appear, but at most once.
          }
        }
      });
      const rnd = c.sim.random.fork('faults');
      const victim = `cs${rnd.int(5)}`;
      c.sim.after(200 + rnd.int(400), () => c.crashServer(victim));
      c.sim.after(2_000 + rnd.int(1_000), () => c.sim.restart(victim));
      await c.run(Promise.all(work));
      await c.sim.run({ forMs: 3_000 });
      const reader = new RecordReader(c.client('reader'), '/queue');
      const seen = new Map<string, number>();
      await c.run(
        (async () => {
          for await (const r of reader.records()) {
            const [, p, , i] = new TextDecoder().decode(r.data).split(' ');
            const k = `${p}:${i}`;
            seen.set(k, (seen.get(k) ?? 0) + 1);
          }
        })(),
      );
      for (const k of acked) expect(seen.get(k), `record ${k}`).toBe(1);
      for (const [k, n] of seen) expect(n, `record ${k} seen ${n} times`).toBe(1);
      expect(acked.size).toBeGreaterThan(60);
    });
  });
});

/** The rejection of `p`, or a failure of the test when it resolves. */
async function rejection(c: ReturnType<typeof realCluster>, p: Promise<unknown>): Promise<GfsClientError> {
  const settled = await c.run(p.then(() => undefined, (e: unknown) => e));
  if (!(settled instanceof GfsClientError)) throw new Error(`expected a GfsClientError, got ${String(settled)}`);
  return settled;
}

describe('GfsClient: runtime failures carry the runtime code, so callers need not read error text (issue #13)', () => {
  it('a namespace change sent while the master is cut off was never delivered: link_down, not_delivered, and it had no effect', async () => {
    const c = realCluster({ seed: 61 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client('cut');
    c.sim.partition(['cut'], ['master']);
    const e = await rejection(c, client.create('/never'));
    expect(e.code).toBe('chunkserver_failed');
    expect(e.runtimeCode).toBe('link_down');
    expect(e.delivery).toBe('not_delivered');
    c.sim.heal();
    const other = c.client();
    await expect(c.run(other.stat('/never'))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a master that never answers is no answer: ask_timeout, outcome unknown', async () => {
    const c = realCluster({ seed: 62 });
    const silent = c.sim.addNode('silent', (system) => {
      system.spawn(() => ({ receive: () => new Promise<never>(() => {}) }), { name: 'master', reentrant: true });
    });
    const client = GfsClient.on(c.sim.addNode('asker', () => {}).system, { masters: [{ node: silent.name, id: 'master' }], clientId: 'asker', config: c.config });
    const e = await rejection(c, client.mkdirs('/d'));
    expect(e.runtimeCode).toBe('ask_timeout');
    expect(e.delivery).toBe('unknown');
  });

  it('a write whose chunkservers are all unreachable fails after its retries with link_down, and no mutation was delivered (¶100)', async () => {
    const c = realCluster({ seed: 63, servers: 3 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client('writer');
    await c.run(client.create('/f'));
    await c.run(client.write('/f', 0, text('before')));
    c.sim.partition(['writer'], c.servers);
    const e = await rejection(c, client.write('/f', 0, text('during')));
    expect(e.code).toBe('chunkserver_failed');
    expect(e.runtimeCode).toBe('link_down');
    expect(e.delivery).toBe('not_delivered');
    c.sim.heal();
    await c.sim.run({ forMs: 2_000 });
    expect(new TextDecoder().decode(await c.run(c.client().read('/f', 0, 6)))).toBe('before');
  });

  it('a record append to unreachable chunkservers fails with link_down after its retries, and a read of an unreachable replica names its code too', async () => {
    const c = realCluster({ seed: 64, servers: 3 });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client('appender');
    await c.run(client.create('/q'));
    await c.run(client.append('/q', text('one')));
    c.sim.partition(['appender'], c.servers);
    const e = await rejection(c, client.append('/q', text('two')));
    expect(e).toMatchObject({ code: 'chunkserver_failed', runtimeCode: 'link_down', delivery: 'not_delivered' });
    const r = await rejection(c, client.read('/q', 0, 3));
    expect(r).toMatchObject({ code: 'chunkserver_failed', runtimeCode: 'link_down' });
  });
});
