/**
 * The GFS data path on real worker threads: chunkservers on two workers, so a push chain crosses
 * thread boundaries, where a Uint8Array that is a whole buffer is transferred (and detached in the
 * sender) rather than copied. Every replica must still hold the written bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/cluster/local-cluster.js';
import type { GfsClient as GfsClientType } from '../../src/actors/gfs/client/client.js';
import type { GfsResult } from '../../src/actors/gfs/errors.js';
import type { ChunkLocation, ClusterStatus } from '../../src/actors/gfs/protocol.js';

// The compiled build (test/global-setup.ts builds it): the chunkservers' worker module is loaded from there.
const dist = (p: string): string => new URL(`../../dist/${p}`, import.meta.url).href;
const { startLocalCluster, MASTER_REF, SHADOW_REF } = (await import(dist('cluster/local-cluster.js'))) as typeof import('../../src/cluster/local-cluster.js');
const { GfsClient } = (await import(dist('actors/gfs/client/client.js'))) as typeof import('../../src/actors/gfs/client/client.js');
const { realClock, realTimers } = (await import(dist('runtime/node/env.js'))) as typeof import('../../src/runtime/node/env.js');

const CHUNK = 4 << 20;
let dir: string;
let cluster: LocalCluster;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-test-gfs-data-'));
  cluster = await startLocalCluster({ dataDir: dir, chunkservers: 4, workers: 2, port: 0, webPort: false, chunkSizeBytes: CHUNK, logger: () => {} });
  for (let i = 0; i < 200; i++) {
    const s = await cluster.node.system.ask<GfsResult<ClusterStatus>>(MASTER_REF, { type: 'gfs.master.status' });
    if (s.ok && s.value.servers.filter((v) => v.alive).length >= 4) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(options: { pushTopology?: 'chain' | 'star' } = {}): GfsClientType {
  const sys = cluster.node.system;
  return new GfsClient({ ask: (to, msg, opts) => sys.ask(to, msg, opts), clock: realClock, timers: realTimers, masters: [MASTER_REF, SHADOW_REF], clientId: `t-${options.pushTopology ?? 'chain'}`, host: hostname(), config: { chunkSizeBytes: CHUNK }, ...options });
}

describe('GFS writes across worker threads', () => {
  it.each(['chain', 'star'] as const)('a %s push leaves the bytes on every replica, and the caller keeps its buffer', async (pushTopology) => {
    const c = client({ pushTopology });
    const path = `/f-${pushTopology}`;
    await c.create(path);
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff); // a whole buffer: would be transferred
    await c.write(path, 0, data);
    expect(data.length).toBe(1 << 20);
    const [loc] = ((await cluster.node.system.ask<GfsResult<ChunkLocation[]>>(MASTER_REF, { type: 'gfs.master.getChunkLocations', path, index: 0, count: 1 })) as { ok: true; value: ChunkLocation[] }).value;
    expect(loc?.replicas).toHaveLength(3);
    for (const r of loc?.replicas ?? []) {
      const got = await cluster.node.system.ask<GfsResult<{ data: Uint8Array }>>(r.ref, { type: 'gfs.chunkserver.read', handle: loc?.handle, version: loc?.version, offset: 0, lengthBytes: data.length });
      expect(got.ok && got.value.data.length, r.server).toBe(data.length);
      expect(got.ok && Buffer.from(got.value.data).equals(Buffer.from(data)), r.server).toBe(true);
    }
  });
});

describe('GFS with an egress cap on every thread (the paper\'s NICs, emulated)', () => {
  it('a chain push of pipelined slices and a read split over the replicas move every byte intact', async () => {
    const capDir = mkdtempSync(join(tmpdir(), 'troupe-test-gfs-cap-'));
    const capped = await startLocalCluster({ dataDir: capDir, chunkservers: 4, workers: 2, port: 0, webPort: false, chunkSizeBytes: CHUNK, logger: () => {}, egressBytesPerSecMax: 50e6 });
    try {
      const sys = capped.node.system;
      for (let i = 0; i < 200; i++) {
        const s = await sys.ask<GfsResult<ClusterStatus>>(MASTER_REF, { type: 'gfs.master.status' });
        if (s.ok && s.value.servers.filter((v) => v.alive).length >= 4) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const c = new GfsClient({ ask: (to, msg, opts) => sys.ask(to, msg, opts), clock: realClock, timers: realTimers, masters: [MASTER_REF, SHADOW_REF], clientId: 't-capped', host: hostname(), config: { chunkSizeBytes: CHUNK }, sliceBytes: 64 * 1024, slicesInFlightMax: 16, readPieceBytes: 256 * 1024 });
      await c.create('/capped');
      const data = new Uint8Array(2 << 20).map((_, i) => (i * 13) & 0xff);
      await c.write('/capped', 0, data);
      const back = await c.read('/capped', 0, data.length);
      expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    } finally {
      await capped.close();
      rmSync(capDir, { recursive: true, force: true });
    }
  });
});
