/**
 * A whole simulated GFS cluster: the master (with a replica), real chunkservers on simulated
 * disks (which survive crashes as power cuts do), and clients — for end-to-end tests of the
 * client library and the data path.
 */
import type { ActorRef } from '../../../src/index.js';
import { Simulation, SimDisk } from '../../../src/testkit.js';
import { gfsMaster } from '../../../src/actors/gfs/master/master.js';
import { MemoryJournal } from '../../../src/actors/gfs/master/journal.js';
import { gfsChunkserver } from '../../../src/actors/gfs/chunkserver/chunkserver.js';
import { GfsClient, type GfsClientOptions } from '../../../src/actors/gfs/client/client.js';
import type { GfsConfig } from '../../../src/actors/gfs/config.js';
import type { MasterMsg } from '../../../src/actors/gfs/protocol.js';
import { testConfig } from './harness.js';

export const MASTER: ActorRef<MasterMsg> = { node: 'master', id: 'master' };

export interface RealClusterOptions {
  readonly seed: number;
  readonly servers?: number;
  readonly racks?: number;
  readonly config?: Partial<GfsConfig>;
}

export function realCluster(o: RealClusterOptions) {
  const sim = new Simulation({ seed: o.seed, network: { latencyMinMs: 0.1, latencyMaxMs: 1 } });
  const config: Partial<GfsConfig> = { ...testConfig, chunkSizeBytes: 64 * 1024, ...o.config };
  const journal = new MemoryJournal();
  let masterBoots = 0;
  sim.addNode('master', (system) => {
    system.spawn(gfsMaster({ role: 'primary', journal, config, afterRestart: masterBoots++ > 0 }), { name: 'master', reentrant: true, supervision: { strategy: 'stop' } });
  });
  const disks = new Map<string, SimDisk>();
  const servers: string[] = [];
  /** Every serial a primary assigned, in virtual time (who acted as primary when: M6). */
  const acts: Array<{ at: number; server: string; handle: bigint; version: number; serial: number }> = [];
  for (let i = 0; i < (o.servers ?? 5); i++) {
    const id = `cs${i}`;
    servers.push(id);
    disks.set(id, new SimDisk({ random: sim.random.fork(`disk:${id}`) }));
    sim.addNode(id, (system) => {
      system.spawn(
        gfsChunkserver({ id, rack: `rack${i % (o.racks ?? 3)}`, host: `host-${id}`, masters: [MASTER], disk: disks.get(id) as SimDisk, dir: 'chunks', config, probe: { ordered: (e) => void acts.push({ at: sim.now, server: id, ...e }) } }),
        { name: 'chunkserver', reentrant: true, supervision: { strategy: 'stop' } },
      );
    });
  }
  let clients = 0;
  /** A client on its own node. */
  function client(name = `client${clients++}`, options: Pick<GfsClientOptions, 'pushTopology' | 'sliceBytes' | 'readPieceBytes' | 'readReplicasMax'> & { rack?: string } = {}): GfsClient {
    const node = sim.addNode(name, () => {});
    return GfsClient.on(node.system, {
      masters: [MASTER],
      clientId: name,
      host: `host-${name}`,
      rack: 'rack0',
      config,
      ...options,
    });
  }
  /** A power cut of a chunkserver: its node crashes and its disk keeps only what survives a crash. */
  function crashServer(id: string): void {
    sim.crash(id);
    disks.set(id, (disks.get(id) as SimDisk).crash());
  }
  return { sim, config, servers, disks, acts, client, crashServer, run: <T>(p: Promise<T>) => sim.result(p) };
}
