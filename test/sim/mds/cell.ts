/**
 * A Ceph file system in the simulator: the RADOS cell of test/sim/rados/osd/cell.ts (3 monitors,
 * OSDs with simulated disks, pool `data`), plus a `metadata` pool, one MDS on its own node, and
 * file-system clients on nodes of their own.
 */
import type { ActorRef } from '../../../src/index.js';
import { mdsServer, mdsSpawnOptions } from '../../../src/actors/mds/server.js';
import type { MdsMsg, MdsStatus } from '../../../src/actors/mds/protocol.js';
import type { MdsConfig } from '../../../src/actors/mds/config.js';
import { CephFsClient } from '../../../src/actors/mds/client.js';
import { dataCell, POOL } from '../rados/osd/cell.js';

export interface FsCellOptions {
  readonly seed: number;
  readonly osds?: number;
  readonly clients?: number;
  readonly mds?: Partial<MdsConfig>;
}

export const METADATA_POOL = 'metadata';
export const DATA_POOL = POOL;
export const MDS_NODE = 'mds0';

/** Small journal objects and segments so a short test crosses objects, segments and trims. */
export const simMdsConfig: Partial<MdsConfig> = { journalObjectBytes: 16 * 1024, segmentBytes: 4 * 1024, segmentsMax: 4, entryBytesMax: 32 * 1024, defaultLayout: { su: 4096, sc: 1, os: 4096 } };

export function fsCell(o: FsCellOptions) {
  const c = dataCell({ seed: o.seed, osds: o.osds ?? 4, clients: 0 });
  const { sim } = c;
  const mdsRef: ActorRef<MdsMsg> = { node: MDS_NODE, id: 'mds' };
  const mdsConfig = { ...simMdsConfig, ...o.mds };

  async function start(): Promise<CephFsClient[]> {
    await c.start();
    const p = await sim.result(c.mon.submit({ type: 'rados.mon.poolCreate', name: METADATA_POOL, pgNum: 8, size: 3, minSize: 1, replication: 'primary-copy' }));
    if (!p.ok) throw new Error(`poolCreate: ${JSON.stringify(p)}`);
    await sim.run({ forMs: 3_000 });
    sim.addNode(MDS_NODE, (system) => {
      system.spawn(mdsServer({ system, monitors: c.monRefs, dataPool: DATA_POOL, config: mdsConfig }), { ...mdsSpawnOptions(mdsConfig), supervision: { strategy: 'stop' } });
    });
    await waitActive();
    const clients: CephFsClient[] = [];
    for (let i = 0; i < (o.clients ?? 2); i++) {
      const node = sim.addNode(`fs${i}`, () => {});
      const r = await sim.result(CephFsClient.connect({ system: node.system, monitors: c.monRefs, mds: mdsRef, name: `client.fs${i}`, dataPool: DATA_POOL }));
      if (!r.ok) throw new Error(`client connect: ${r.error.message}`);
      clients.push(r.value);
    }
    return clients;
  }

  async function status(): Promise<MdsStatus | undefined> {
    return sim.result(c.admin.system.ask<MdsStatus>(mdsRef, { type: 'mds.status' }, { timeoutMs: 2_000 }).catch(() => undefined));
  }

  async function waitActive(limitMs = 120_000): Promise<MdsStatus> {
    const start = sim.now;
    for (;;) {
      const s = await status();
      if (s?.state === 'active') return s;
      if (sim.now - start > limitMs) throw new Error(`MDS not active within ${limitMs} ms (${JSON.stringify(s)})`);
      await sim.run({ forMs: 500 });
    }
  }

  async function flushJournal(): Promise<unknown> {
    return sim.result(c.admin.system.ask(mdsRef, { type: 'mds.flushJournal' }, { timeoutMs: 60_000 }));
  }

  /** Crashes the MDS node and boots it again: it replays its journal from RADOS. */
  async function restartMds(): Promise<MdsStatus> {
    sim.crash(MDS_NODE);
    await sim.run({ forMs: 1_000 });
    sim.restart(MDS_NODE);
    return waitActive();
  }

  return { ...c, mdsRef, start, status, waitActive, flushJournal, restartMds };
}
