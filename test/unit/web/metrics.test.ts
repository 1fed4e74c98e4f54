import { describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../../src/actors/gfs/protocol.js';
import { ClusterMetrics } from '../../../src/web/metrics.js';

const status: ClusterStatus = {
  role: 'primary',
  master: 'master@troupe',
  lsn: 7,
  files: 2,
  directories: 1,
  chunks: 3,
  underReplicated: 1,
  missing: 0,
  leases: 2,
  clonesInFlight: 1,
  servers: [
    { server: 'cs0', rack: 'rack0', host: 'h', alive: true, decommission: 'none', chunks: 3, usedBytes: 1024, capacityBytes: 4096, leases: 2, recentCreations: 1 },
    { server: 'cs1', rack: 'rack1', host: 'h', alive: false, decommission: 'none', chunks: 1, usedBytes: 512, capacityBytes: 4096, leases: 0, recentCreations: 0 },
  ],
};

describe('cluster metrics in Prometheus text', () => {
  it('exports the master status as gauges, per cluster and per chunkserver', async () => {
    const m = new ClusterMetrics({ processMetrics: false });
    m.observeStatus(status);
    const text = await m.text();
    expect(text).toContain('troupe_gfs_chunkservers{state="up"} 1');
    expect(text).toContain('troupe_gfs_chunkservers{state="down"} 1');
    expect(text).toContain('troupe_gfs_chunks_under_replicated 1');
    expect(text).toContain('troupe_gfs_clones_in_flight 1');
    expect(text).toContain('troupe_gfs_chunkserver_used_bytes{server="cs0",rack="rack0"} 1024');
    expect(text).toContain('troupe_gfs_chunkserver_up{server="cs1",rack="rack1"} 0');
    expect(text).toContain('troupe_gfs_chunkserver_leases{server="cs0",rack="rack0"} 2');
  });

  it('counts master requests by role, type and outcome, with latency in seconds, and folds unknown labels', async () => {
    const m = new ClusterMetrics({ processMetrics: false });
    const hook = m.masterRequestHook('primary');
    hook('gfs.master.create', 'ok', 3);
    hook('gfs.master.create', 'already_exists', 1);
    hook('not a type', 'Weird Outcome!', 0);
    const text = await m.text();
    expect(text).toContain('troupe_gfs_master_requests_total{role="primary",type="gfs.master.create",outcome="ok"} 1');
    expect(text).toContain('troupe_gfs_master_requests_total{role="primary",type="gfs.master.create",outcome="already_exists"} 1');
    expect(text).toContain('troupe_gfs_master_requests_total{role="primary",type="other",outcome="other"} 1');
    expect(text).toContain('troupe_gfs_master_request_duration_seconds_sum{role="primary",type="gfs.master.create"} 0.004');
    expect(text).toContain('troupe_gfs_master_request_duration_seconds_bucket{le="0.0025",role="primary",type="gfs.master.create"} 1');
  });

  it('turns chunkserver running totals into counter increments, across a server restart', async () => {
    const m = new ClusterMetrics({ processMetrics: false });
    const stats = (writtenBytes: number) => ({ server: 'cs0', reads: 0, readBytes: 0, mutations: 1, writtenBytes, pushedBytes: 0, clonedBytes: 0 });
    m.observeChunkservers([{ rack: 'rack0', stats: stats(100) }]);
    m.observeChunkservers([{ rack: 'rack0', stats: stats(150) }]);
    expect(await m.text()).toContain('troupe_gfs_chunkserver_written_bytes_total{server="cs0",rack="rack0"} 150');
    // Restarted: its totals start again from zero.
    m.observeChunkservers([{ rack: 'rack0', stats: stats(30) }]);
    expect(await m.text()).toContain('troupe_gfs_chunkserver_written_bytes_total{server="cs0",rack="rack0"} 180');
  });

  it('keeps two clusters apart: each has its own registry', async () => {
    const a = new ClusterMetrics({ processMetrics: false });
    const b = new ClusterMetrics({ processMetrics: false });
    a.observeStatus(status);
    expect(await a.text()).toContain('troupe_gfs_chunks 3');
    expect(await b.text()).not.toContain('troupe_gfs_chunks 3');
  });
});
