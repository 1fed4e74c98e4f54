import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runCli, startClusterProcess, type ClusterProcess } from '../support/cli.js';

// Chunkservers run on worker threads that load `dist/cluster/roles.js` next to the module that
// spawns them, so the cluster comes from the build (test/global-setup.ts builds it first).
type LocalClusterModule = typeof import('../../src/cluster/local-cluster.js');
type ConnectModule = typeof import('../../src/cluster/connect.js');
type LocalCluster = Awaited<ReturnType<LocalClusterModule['startLocalCluster']>>;
const dist = (p: string): string => new URL(`../../dist/${p}`, import.meta.url).href;

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
// The flags this machine needs (see .ci/run): no sandbox as root, no GPU, and no background
// connections, which a closed network refuses. Playwright adds --headless and a fresh profile.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const HEARTBEAT_INTERVAL_MS = 200;
const CHUNKSERVER_TIMEOUT_MS = 1_500;
/** The page must show a stopped chunkserver as down within the heartbeat timeout plus one master liveness tick, one dashboard poll and rendering; this bound only keeps a broken run from hanging. */
const DOWN_WAIT_MAX_MS = CHUNKSERVER_TIMEOUT_MS + 8_000;
const METRIC_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.]+(e[-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?$/;

/** Parses Prometheus text exposition (version 0.0.4) into sample name → values, failing on any malformed line. */
function parsePrometheus(text: string): Map<string, { labels: string; value: number }[]> {
  const samples = new Map<string, { labels: string; value: number }[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      expect(line, 'comment lines are HELP or TYPE').toMatch(/^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/);
      continue;
    }
    expect(line, 'a sample line').toMatch(METRIC_LINE);
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 ? line.slice(0, brace) : line.slice(0, line.indexOf(' '));
    const labels = brace >= 0 ? line.slice(brace, line.lastIndexOf('}') + 1) : '';
    const list = samples.get(name) ?? [];
    list.push({ labels, value: Number(line.slice(space + 1)) });
    samples.set(name, list);
  }
  return samples;
}

describe('dashboard and /metrics of the one-node cluster (issue 7, items 4 and 5)', () => {
  let dir: string;
  let shots: string;
  let cluster: LocalCluster | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: the dashboard test drives Debian's chromium. Install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH.`);
    }
    dir = await mkdtemp(join(tmpdir(), 'troupe-dashboard-'));
    shots = await mkdtemp(join(tmpdir(), 'troupe-dashboard-shots-'));
    const { startLocalCluster } = (await import(dist('cluster/local-cluster.js'))) as LocalClusterModule;
    cluster = await startLocalCluster({
      dataDir: join(dir, 'data'),
      port: 0,
      webPort: 0,
      chunkSizeBytes: 256 * 1024,
      config: { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, chunkserverTimeoutMs: CHUNKSERVER_TIMEOUT_MS },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('shows 4 chunkservers up, then a stopped one as down within the heartbeat timeout', async () => {
    const c = cluster as LocalCluster;
    expect(c.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Some data, so that chunk counts, disk use and (after the stop) re-replication show.
    const { connect } = (await import(dist('cluster/connect.js'))) as ConnectModule;
    const conn = await connect({ dataDir: c.data.dir, host: c.address.host, port: c.address.port });
    try {
      await conn.client.mkdirs('/demo');
      for (let i = 0; i < 4; i++) {
        await conn.client.create(`/demo/file${i}`);
        await conn.client.write(`/demo/file${i}`, 0, new Uint8Array(300 * 1024).fill(i + 1));
      }
      // A client connection is a count, not a pair of events.
      const open = (await (await fetch(`${c.dashboardUrl}/api/status`, { signal: AbortSignal.timeout(10_000) })).json()) as { clients: number };
      expect(open.clients).toBeGreaterThanOrEqual(1);
    } finally {
      await conn.close();
    }

    await page.goto(`${c.dashboardUrl}/`, { timeout: 15_000 });
    await expect.poll(() => page.locator('#servers tbody tr[data-state="up"]').count(), { timeout: 15_000, interval: 100 }).toBe(4);
    await expect.poll(() => page.locator('#health').getAttribute('data-health'), { timeout: 10_000, interval: 100 }).toBe('healthy');
    await expect.poll(() => page.locator('[data-metric="chunks"] .v').textContent(), { timeout: 10_000, interval: 100 }).toBe('8');
    // Updates arrive over the server-sent-event stream, not the polling fallback.
    await expect.poll(() => page.locator('#live-text').textContent(), { timeout: 5_000, interval: 100 }).toMatch(/^live · /);
    await page.screenshot({ path: join(shots, 'dashboard-healthy.png'), fullPage: true });

    const victim = c.chunkservers[1];
    expect(victim).toBeDefined();
    if (victim === undefined || c.node.pool === undefined) throw new Error('cluster without worker chunkservers');
    await c.node.pool.stop(victim.ref);

    const row = page.locator(`#servers tbody tr[data-server="${victim.id}"]`);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: DOWN_WAIT_MAX_MS, interval: 100 }).toBe('down');
    expect(await page.locator('#servers tbody tr[data-state="up"]').count()).toBe(3);
    expect(await page.locator('#health').getAttribute('data-health')).not.toBe('healthy');
    await expect.poll(() => page.locator('#events').textContent(), { timeout: 5_000, interval: 100 }).toContain(`chunkserver ${victim.id} (${victim.rack}) is down`);
    // The client came and went: no "link to ... up/down" lines pushed the real events out of view.
    expect(await page.locator('#events').textContent()).not.toMatch(/link to .* (up|down)/);
    // The closed connection's link-down reaches the cluster asynchronously; the page polls for it.
    await expect.poll(() => page.locator('[data-metric="clients"] .v').textContent(), { timeout: 10_000, interval: 100 }).toBe('0');
    const shot = join(shots, 'dashboard-one-down.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshots: ${join(shots, 'dashboard-healthy.png')} and ${shot}`);
  });

  it('serves /metrics as Prometheus text with the cluster, request, runtime and worker metrics', async () => {
    const c = cluster as LocalCluster;
    const res = await fetch(`${c.dashboardUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const m = parsePrometheus(await res.text());
    for (const name of [
      'troupe_gfs_chunkservers',
      'troupe_gfs_files',
      'troupe_gfs_chunks',
      'troupe_gfs_chunks_under_replicated',
      'troupe_gfs_chunks_missing',
      'troupe_gfs_leases',
      'troupe_gfs_clones_in_flight',
      'troupe_gfs_chunkserver_up',
      'troupe_gfs_chunkserver_used_bytes',
      'troupe_gfs_chunkserver_capacity_bytes',
      'troupe_gfs_chunkserver_chunks',
      'troupe_gfs_master_requests_total',
      'troupe_gfs_master_request_duration_seconds_bucket',
      'troupe_gfs_master_request_duration_seconds_count',
      'troupe_gfs_chunkserver_reads_total',
      'troupe_gfs_chunkserver_written_bytes_total',
      'troupe_gfs_chunkserver_pushed_bytes_total',
      'troupe_gfs_chunkserver_mutations_total',
      'troupe_actor_mailbox_depth',
      'troupe_actors_spawned_total',
      'troupe_worker_actors',
      'troupe_client_connections',
      'process_cpu_seconds_total',
    ]) {
      expect(m.has(name), `metric ${name}`).toBe(true);
    }
    expect(m.get('troupe_gfs_chunkservers')).toContainEqual({ labels: '{state="down"}', value: 1 });
    expect(m.get('troupe_gfs_chunkservers')).toContainEqual({ labels: '{state="up"}', value: 3 });
    expect(m.get('troupe_gfs_chunks')).toEqual([{ labels: '', value: 8 }]);
    const creates = (m.get('troupe_gfs_master_requests_total') ?? []).filter((s) => s.labels.includes('type="gfs.master.create"') && s.labels.includes('outcome="ok"'));
    expect(creates.reduce((a, s) => a + s.value, 0)).toBe(4);
    // Every byte written lands on three replicas of four servers, so on at least two of the three
    // still up, whose counters were sampled after the writes (the stopped one's last writes may
    // have come after its last sample).
    const victim = c.chunkservers[1]?.id ?? 'cs1';
    const written = (m.get('troupe_gfs_chunkserver_written_bytes_total') ?? []).filter((s) => !s.labels.includes(`server="${victim}"`)).reduce((a, s) => a + s.value, 0);
    expect(written).toBeGreaterThanOrEqual(2 * 4 * 300 * 1024);
    expect(m.get('troupe_actor_mailbox_depth')?.map((s) => s.labels)).toEqual(expect.arrayContaining(['{actor="master",role="primary"}', '{actor="master-replica",role="replica"}', '{actor="master-shadow",role="shadow"}']));
  });

  it('serves the status as JSON and answers unknown paths with 404', async () => {
    const c = cluster as LocalCluster;
    const res = await fetch(`${c.dashboardUrl}/api/status`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: { servers: { server: string; alive: boolean }[] } | null; events: unknown[] };
    expect(body.status?.servers.map((s) => s.server)).toEqual(['cs0', 'cs1', 'cs2', 'cs3']);
    expect(body.events.length).toBeGreaterThan(0);
    const missing = await fetch(`${c.dashboardUrl}/nope`, { signal: AbortSignal.timeout(10_000) });
    expect(missing.status).toBe(404);
  });
});

describe('dashboard of a Ceph-style cluster: the data path panels (issue 16, item 6)', () => {
  let dir: string;
  let cluster: ClusterProcess | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('shows per-OSD writes and reads, ack and commit latency histograms, PGs by state and pool usage after writes through `troupe rados`', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH.`);
    dir = await mkdtemp(join(tmpdir(), 'troupe-dashboard-ceph-'));
    const dataDir = join(dir, 'data');
    cluster = await startClusterProcess(dataDir, ['--system', 'ceph']);
    const flags = ['--data-dir', dataDir, '--port', String(cluster.port)];
    const sizes = [1_000, 20_000, 300_000];
    for (const [i, size] of sizes.entries()) {
      const file = join(dir, `obj${i}`);
      await writeFile(file, new Uint8Array(size).fill(i + 1));
      const put = await runCli(['rados', '-p', 'rbd', 'put', `obj${i}`, file, ...flags]);
      expect(put.code, put.err).toBe(0);
    }
    const get = await runCli(['rados', '-p', 'rbd', 'get', 'obj1', join(dir, 'back'), ...flags]);
    expect(get.code, get.err).toBe(0);
    const url = /dashboard: (http:\/\/[\d.]+:\d+)\//.exec(cluster.banner)?.[1];
    expect(url).toBeDefined();

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await page.goto(`${url}/`, { timeout: 15_000 });
    await expect.poll(() => page.locator('#ceph-data-panel').isVisible(), { timeout: 15_000, interval: 100 }).toBe(true);
    // Pool usage: the three objects and their bytes, counted once per PG at its first OSD.
    const rbd = page.locator('#ceph-pools tbody tr[data-pool="rbd"]');
    await expect.poll(() => rbd.locator('[data-col="objects"]').textContent(), { timeout: 20_000, interval: 200 }).toBe('3');
    expect(await rbd.locator('[data-col="bytes"]').getAttribute('data-bytes')).toBe(String(sizes.reduce((a, b) => a + b, 0)));
    expect(await rbd.textContent()).toContain('primary-copy');
    // Each put of one op is one write served by its PG's first OSD, acked and committed once.
    const column = async (col: string): Promise<number> => (await page.locator(`#ceph-data-osds tbody [data-col="${col}"]`).allTextContents()).reduce((a, t) => a + Number(t), 0);
    expect(await page.locator('#ceph-data-osds tbody tr').count()).toBe(4);
    await expect.poll(() => column('writes'), { timeout: 10_000, interval: 200 }).toBe(sizes.length);
    expect(await column('reads')).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#chart-ceph-ack').getAttribute('data-total')).toBe(String(sizes.length));
    expect(await page.locator('#chart-ceph-commit').getAttribute('data-total')).toBe(String(sizes.length));
    // Every bucket of both histograms is drawn, the overflow bucket last.
    expect(await page.locator('#chart-ceph-ack svg g[data-bucket]').count()).toBe(13);
    expect(await page.locator('#chart-ceph-commit svg g[data-bucket="+Inf"]').count()).toBe(1);
    const counted = (await page.locator('#chart-ceph-commit svg g[data-bucket]').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-count'))))).reduce((a, b) => a + b, 0);
    expect(counted).toBe(sizes.length);
    expect(await page.locator('#ceph-data-osds tbody').textContent()).toMatch(/≤ \d+ ms \/ ≤ \d+ ms/);
    // PGs by state: the 64 PGs of rbd, all active and clean (as their primaries report them, within a few report intervals), and active at their first OSD.
    await expect.poll(() => page.locator('#ceph-pg-states tbody tr[data-pg-state="active+clean"] td.num').textContent(), { timeout: 30_000, interval: 250 }).toBe('64');
    await expect.poll(() => page.locator('#ceph-pg-activity').textContent(), { timeout: 10_000, interval: 250 }).toContain('64 active');
    const shot = join(dir, 'dashboard-ceph.png');
    await page.screenshot({ path: shot, fullPage: true });
  }, 180_000);
});
