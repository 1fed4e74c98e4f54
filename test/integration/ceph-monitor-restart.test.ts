/**
 * A monitor killed and restarted keeps its epochs, on real worker threads and real disks (thesis
 * §6.2.4; monitor README P4): three OSD monitors, each on its own worker thread and directory;
 * one is stopped while the others commit more epochs, then started again on its directory: it
 * recovers what it had committed, catches up, and the map never goes back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TroupeNode } from '../../src/runtime/node/troupe-node.js';
import type { ActorRef } from '../../src/runtime/ref.js';
import { MonitorClient } from '../../src/actors/rados/monitor/client.js';
import type { MonResult } from '../../src/actors/rados/monitor/errors.js';
import type { MonitorMsg, MonitorStatus } from '../../src/actors/rados/monitor/protocol.js';
import type { OsdMap } from '../../src/actors/rados/osdmap/osd-map.js';
import { simpleCrushText } from '../../src/actors/rados/osdmap/bootstrap.js';
import type { OsdMonitorRoleArgs } from '../../src/cluster/roles.js';

const NODE = 'mon-restart';
const root = mkdtempSync(join(tmpdir(), 'troupe-ceph-mon-'));
let node: TroupeNode | undefined;

afterAll(async () => {
  await node?.close();
  rmSync(root, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('OSD monitors on worker threads and real disks', () => {
  it('a monitor stopped and started again on its directory keeps its epochs and catches up', async () => {
    const n = await TroupeNode.start({ node: NODE, workers: 3, system: { logger: () => {} } });
    node = n;
    const refs: ActorRef<MonitorMsg>[] = [0, 1, 2].map((r) => ({ node: `${NODE}/w${r}`, id: `mon${r}` }));
    // Workers load the compiled module (`npm run build`), as `troupe up` does.
    const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'cluster', 'roles.js')).href;
    const spawn = (rank: number): Promise<ActorRef<MonitorMsg>> => n.spawn<MonitorMsg>({ module, export: 'osdMonitorRole', args: { rank, monitors: refs, dir: join(root, `mon${rank}`) } satisfies OsdMonitorRoleArgs }, { placement: { worker: rank }, name: `mon${rank}` });
    for (let rank = 0; rank < 3; rank++) await spawn(rank);
    const client = new MonitorClient({ ask: (to, msg, o) => n.system.ask(to, msg, o), monitors: refs, timeoutMs: 3_000, attemptsMax: 60, sleep, backoffMs: 500 });
    const status = async (rank: number): Promise<MonitorStatus | undefined> => {
      const r = await n.system.ask<MonResult<MonitorStatus>>(refs[rank] as ActorRef<MonitorMsg>, { type: 'rados.mon.status' }, { timeoutMs: 3_000 }).catch(() => undefined);
      return r?.ok === true ? r.value : undefined;
    };

    expect((await client.submit({ type: 'rados.mon.setCrush', crush: simpleCrushText({ osds: 4, osdsPerHost: 1, hostsPerRack: 2 }) })).ok).toBe(true);
    expect((await client.submit({ type: 'rados.mon.poolCreate', name: 'rbd', pgNum: 16, size: 3 })).ok).toBe(true);
    // Wait until monitor 2 has committed both versions, then stop it.
    for (let i = 0; (await status(2))?.lastCommitted !== 2; i++) {
      expect(i).toBeLessThan(200);
      await sleep(50);
    }
    n.system.stop(refs[2] as ActorRef<MonitorMsg>);
    await sleep(200);
    for (const w of [0.5, 0.25]) {
      // The leader may lose its quorum mid-commit when it notices the stopped monitor
      // (outcome_unknown); a reweight is idempotent, so submit again until it is known committed.
      for (let attempt = 0; ; attempt++) {
        const r = await client.submit({ type: 'rados.mon.osdReweight', osd: 1, weight: w });
        if (r.ok || r.error.serviceCode === 'no_change') break;
        expect(r.error.code, JSON.stringify(r)).toBe('outcome_unknown');
        expect(attempt).toBeLessThan(5);
      }
    }

    await spawn(2);
    let st: MonitorStatus | undefined;
    for (let i = 0; (st = await status(2))?.lastCommitted !== 4 || st?.quorum.length !== 3; i++) {
      // Never behind what it had committed before it stopped.
      if (st !== undefined) expect(st.lastCommitted).toBeGreaterThanOrEqual(2);
      expect(i, JSON.stringify(st)).toBeLessThan(600);
      await sleep(50);
    }
    const read = await client.read<OsdMap>();
    expect(read.ok && read.value.state?.epoch).toBe(4);
    expect(read.ok && read.value.state?.osds[1]?.weight).toBe(0x4000);
  }, 120_000);
});
