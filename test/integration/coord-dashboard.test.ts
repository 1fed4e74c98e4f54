/**
 * The dashboard's coordination panel and /metrics fed by real servers' mntr and srvr: two
 * standalone Troupe coordination servers and one address where nothing listens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordServer, type CoordServerHandle } from '../../src/actors/coord/node/tcp-server.js';
import { ZkWireClient } from '../../src/actors/coord/node/wire-client.js';
import { ActorSystem } from '../../src/runtime/system.js';
import { startDashboard, type Dashboard, type DashboardSnapshot } from '../../src/web/server.js';
import { ClusterMetrics } from '../../src/web/metrics.js';
import { coordSourcesOf, pollCoord } from '../../src/web/coord-watch.js';
import { freePort } from '../support/zk-peer.js';

let a: CoordServerHandle;
let b: CoordServerHandle;
let dead: number;
let system: ActorSystem;
let dashboard: Dashboard;
beforeAll(async () => {
  a = await startCoordServer({ port: 0, log: () => undefined });
  b = await startCoordServer({ port: 0, log: () => undefined });
  dead = await freePort();
  system = new ActorSystem({ node: 'dash', logger: () => undefined });
  dashboard = await startDashboard({ system, metrics: new ClusterMetrics({ processMetrics: false }), port: 0, pollIntervalMs: 100, coordServers: coordSourcesOf(`${a.connectString},${b.connectString},127.0.0.1:${dead}`) });
});
afterAll(async () => {
  await dashboard?.close();
  await system?.shutdown();
  await a?.close();
  await b?.close();
});

async function statusUntil(pred: (s: DashboardSnapshot) => boolean): Promise<DashboardSnapshot> {
  let last: DashboardSnapshot | undefined;
  for (let i = 0; i < 200; i++) {
    last = (await (await fetch(`${dashboard.url}/api/status`)).json()) as DashboardSnapshot;
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the dashboard never showed the expected state: ${JSON.stringify(last?.coord)}`);
}

describe('coordination panel', () => {
  it('polls each server: role, zxid, sessions and watches; an absent one is unreachable', async () => {
    const c = await ZkWireClient.connect({ connectString: a.connectString });
    try {
      await c.create('/dash', null, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], 0);
      await c.getData('/dash', true);
      const s = await statusUntil((x) => x.coord?.servers[0]?.sessions === 1 && x.coord.servers[0].watches === 1);
      const coord = s.coord;
      expect(coord?.total).toBe(3);
      expect(coord?.up).toBe(2);
      const [ra, rb, rdead] = coord?.servers ?? [];
      expect(ra).toMatchObject({ name: a.connectString, role: 'standalone', sessions: 1, watches: 1, outstanding: 0, error: null });
      expect(ra?.zxid).toBeGreaterThan(0);
      expect(ra?.znodes).toBe((rb?.znodes ?? 0) + 1);
      expect(rb).toMatchObject({ name: b.connectString, role: 'standalone', sessions: 0 });
      expect(rdead).toMatchObject({ name: `127.0.0.1:${dead}`, role: 'unreachable', zxid: null });
      // Two standalone servers are not one ensemble: no leader.
      expect(coord?.leader).toBeNull();

      const metrics = await (await fetch(`${dashboard.url}/metrics`)).text();
      expect(metrics).toContain(`troupe_zk_global_sessions{server="${a.connectString}"} 1`);
      expect(metrics).toContain(`troupe_zk_watch_count{server="${a.connectString}"} 1`);
      expect(metrics).toContain(`troupe_zk_server_role{server="${b.connectString}",role="standalone"} 1`);
      expect(metrics).toContain(`troupe_zk_server_up{server="127.0.0.1:${dead}"} 0`);
      expect(metrics).toMatch(new RegExp(`troupe_zk_last_zxid\\{server="${a.connectString}"\\} [1-9]`));

      const page = await (await fetch(`${dashboard.url}/`)).text();
      expect(page).toContain('id="coord-panel"');
    } finally {
      await c.close();
    }
  });

  it('names the one standalone server the leader when it is the only one', async () => {
    const snap = await pollCoord(coordSourcesOf(a.connectString), 2_000);
    expect(snap.leader).toBe(a.connectString);
  });
});
