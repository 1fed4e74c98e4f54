/**
 * The coordination panel's data: mntr/srvr answers as rows, the ensemble's leader and followers'
 * lag, and the `troupe_zk_*` gauges of /metrics.
 */
import { describe, expect, it } from 'vitest';
import { coordRow, coordSnapshot, parseMntr, parseSrvr } from '../../../src/web/coord-watch.js';
import { ClusterMetrics } from '../../../src/web/metrics.js';

const mntr = (state: string, zxid: string, extra = ''): string =>
  `zk_version\tTroupe coord\nzk_server_state\t${state}\nzk_avg_latency\t0.5000\nzk_num_alive_connections\t3\nzk_outstanding_requests\t2\nzk_znode_count\t7\nzk_watch_count\t4\nzk_global_sessions\t5\nzk_last_zxid\t${zxid}\n${extra}`;

describe('coordination status', () => {
  it('parses mntr lines and srvr mode and zxid', () => {
    const m = parseMntr(mntr('leader', '0x10'));
    expect(m.get('zk_server_state')).toBe('leader');
    expect(m.get('zk_znode_count')).toBe('7');
    expect(parseSrvr('Zookeeper version: 3.8\nZxid: 0x1a\nMode: follower\n')).toEqual({ mode: 'follower', zxid: 26 });
  });

  it("makes one row per server, with each follower's lag behind the leader", () => {
    const snap = coordSnapshot([
      coordRow('zk1', { mntr: mntr('follower', '0x100000005') }),
      coordRow('zk2', { mntr: mntr('leader', '0x100000009', 'zk_followers\t2\nzk_synced_followers\t2\n') }),
      coordRow('zk3', { mntr: mntr('follower', '0x100000009') }),
      coordRow('zk4', { error: 'connect ECONNREFUSED' }),
    ]);
    expect(snap.leader).toBe('zk2');
    expect(snap.up).toBe(3);
    expect(snap.total).toBe(4);
    expect(snap.servers.map((r) => [r.name, r.role, r.lag])).toEqual([
      ['zk1', 'follower', 4],
      ['zk2', 'leader', null],
      ['zk3', 'follower', 0],
      ['zk4', 'unreachable', null],
    ]);
    expect(snap.servers[1]).toMatchObject({ zxid: 0x100000009, sessions: 5, watches: 4, outstanding: 2, connections: 3, znodes: 7, avgLatencyMs: 0.5, error: null });
    expect(snap.servers[3]).toMatchObject({ zxid: null, sessions: null, error: 'connect ECONNREFUSED' });
  });

  it('takes the zxid and mode from srvr where mntr has none (ZooKeeper 3.8)', () => {
    const row = coordRow('zk', { mntr: 'zk_version\t3.8.4\nzk_znode_count\t5\n', srvr: 'Zxid: 0x2a\nMode: standalone\n' });
    expect(row).toMatchObject({ role: 'standalone', zxid: 42, znodes: 5 });
    expect(coordSnapshot([row]).leader).toBe('zk');
  });

  it('exports mntr values as troupe_zk_* gauges by server, and drops a silent server\'s values', async () => {
    const m = new ClusterMetrics({ processMetrics: false });
    m.observeCoord(
      coordSnapshot([
        coordRow('zk1', { mntr: mntr('leader', '0x20', 'zk_followers\t1\n') }),
        coordRow('zk2', { mntr: mntr('follower', '0x1d') }),
      ]),
    );
    let text = await m.text();
    expect(text).toContain('troupe_zk_znode_count{server="zk1"} 7');
    expect(text).toContain('troupe_zk_global_sessions{server="zk2"} 5');
    expect(text).toContain('troupe_zk_outstanding_requests{server="zk1"} 2');
    expect(text).toContain('troupe_zk_last_zxid{server="zk1"} 32');
    expect(text).toContain('troupe_zk_followers{server="zk1"} 1');
    expect(text).toContain('troupe_zk_follower_lag_zxids{server="zk2"} 3');
    expect(text).toContain('troupe_zk_server_role{server="zk1",role="leader"} 1');
    expect(text).toContain('troupe_zk_server_role{server="zk2",role="leader"} 0');
    expect(text).toContain('troupe_zk_server_up{server="zk2"} 1');
    // A version string is not a number: no gauge.
    expect(text).not.toContain('troupe_zk_version');

    m.observeCoord(coordSnapshot([coordRow('zk1', { mntr: mntr('leader', '0x21') }), coordRow('zk2', { error: 'timeout' })]));
    text = await m.text();
    expect(text).toContain('troupe_zk_server_up{server="zk2"} 0');
    expect(text).not.toContain('troupe_zk_znode_count{server="zk2"}');
    expect(text).not.toContain('troupe_zk_follower_lag_zxids{server="zk2"}');
  });
});
