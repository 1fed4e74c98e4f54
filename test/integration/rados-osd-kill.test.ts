/**
 * An OSD killed mid-write on real worker threads and real disks (issue 16, item 7; thesis
 * §6.3.5.3): a stream of writes runs to objects of one PG, the PG's primary is stopped while
 * writes are in flight, the monitors mark it down on its peers' failure reports, and the client
 * resends what was not committed (same reqids) to the new primary. Every write the client saw
 * committed is then readable with its bytes, and every write of the stream committed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// OSDs run on worker threads that load `dist/cluster/roles.js`, so the cluster (and the client, so
// that its runtime errors are the same classes) come from the build (test/global-setup.ts builds it).
type LocalClusterModule = typeof import('../../src/cluster/local-cluster.js');
type ClientModule = typeof import('../../src/actors/rados/client/client.js');
type MappingModule = typeof import('../../src/actors/rados/osdmap/mapping.js');
type LocalCluster = Awaited<ReturnType<LocalClusterModule['startLocalCluster']>>;
const dist = (p: string): string => new URL(`../../dist/${p}`, import.meta.url).href;

const WRITES = 32;
const WINDOW = 4;
/** Writes committed before the kill. */
const BEFORE_KILL = 8;
const OBJECT_BYTES = 64 * 1024;

/** Object i's bytes: a pattern no other object shares. */
function payload(i: number): Uint8Array {
  const b = new Uint8Array(OBJECT_BYTES);
  for (let j = 0; j < b.length; j++) b[j] = (i * 131 + j * 7 + (j >> 8)) & 0xff;
  return b;
}

describe('RADOS on worker threads: the primary killed mid-write', () => {
  let dir: string | undefined;
  let cluster: LocalCluster | undefined;

  afterAll(async () => {
    await cluster?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('the client finishes every write on the new primary and every committed write reads back with its bytes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'troupe-rados-kill-'));
    const { startLocalCluster } = (await import(dist('cluster/local-cluster.js'))) as LocalClusterModule;
    const { RadosClient } = (await import(dist('actors/rados/client/client.js'))) as ClientModule;
    const { objectMapping } = (await import(dist('actors/rados/osdmap/mapping.js'))) as MappingModule;
    const c = await startLocalCluster({ dataDir: join(dir, 'data'), port: 0, webPort: false, gfs: false, ceph: { osds: 4 }, logger: () => {} });
    cluster = c;
    const ceph = c.ceph;
    if (ceph === undefined || c.node.pool === undefined) throw new Error('no Ceph roles on worker threads');
    // Generous deadlines: the kill is noticed through heartbeats (20 s grace) and failure reports.
    const connected = await RadosClient.connect({ system: c.node.system, monitors: ceph.monitors, name: 'client.kill', config: { opTimeoutMs: 180_000, resendAfterMs: 2_000 } });
    if (!connected.ok) throw new Error(connected.error.message);
    const client = connected.value;
    try {
      const io = client.pool('rbd');
      const poolId = client.poolId('rbd') as number;
      // Objects of one PG, so that every write of the stream goes to the primary that is killed.
      const first = objectMapping(client.osdMap, poolId, 'kill-0');
      if (first === undefined) throw new Error('no mapping');
      const names: string[] = [];
      for (let i = 0; names.length < WRITES; i++) {
        const m = objectMapping(client.osdMap, poolId, `kill-${i}`);
        if (m?.pg.ps === first.pg.ps) names.push(`kill-${i}`);
        if (i > 100_000) throw new Error('no objects of one PG');
      }
      const victim = first.primary;
      const victimRef = ceph.osds.find((o) => o.id === victim)?.ref;
      if (victimRef === undefined) throw new Error(`osd.${victim} not started here`);

      let killed = false;
      let committedBeforeKill = 0;
      const inFlightAtKill = new Set<number>();
      const inFlight = new Set<number>();
      const committed = new Set<number>();
      const failures: string[] = [];
      const write = async (i: number): Promise<void> => {
        inFlight.add(i);
        const r = await io.writeFull(names[i] as string, payload(i)).commit;
        inFlight.delete(i);
        if (!r.ok) failures.push(`${names[i]}: ${r.error.code}: ${r.error.message}`);
        else committed.add(i);
      };
      let next = 0;
      const workers = Array.from({ length: WINDOW }, async () => {
        while (next < WRITES) {
          const i = next++;
          const w = write(i);
          if (!killed && committed.size >= BEFORE_KILL) {
            // Right after sending a write (and with the other workers' writes out): as if its machine
            // failed, the OSD actor is stopped on its worker thread.
            killed = true;
            committedBeforeKill = committed.size;
            for (const j of inFlight) inFlightAtKill.add(j);
            await c.node.pool!.stop(victimRef);
          }
          await w;
        }
      });
      await Promise.all(workers);

      expect(killed).toBe(true);
      expect(failures).toEqual([]);
      expect(committed.size).toBe(WRITES);
      // Writes were running when the primary died, and the stream went on past it.
      expect(inFlightAtKill.size).toBeGreaterThan(0);
      expect(WRITES - committedBeforeKill).toBeGreaterThan(WINDOW);
      // The client finished on a new primary: the map has the victim down and another first OSD for the PG.
      expect(client.osdMap.osds[victim]?.up).toBe(false);
      const after = objectMapping(client.osdMap, poolId, names[0] as string);
      expect(after?.primary).not.toBe(victim);
      expect(after?.primary).toBeGreaterThanOrEqual(0);
      for (const i of committed) {
        const r = await io.read(names[i] as string);
        if (!r.ok) throw new Error(`${names[i]}: ${r.error.code}: ${r.error.message}`);
        expect(Buffer.from(r.value).equals(Buffer.from(payload(i))), `${names[i]} bytes`).toBe(true);
      }
    } finally {
      client.close();
    }
  }, 300_000);
});
