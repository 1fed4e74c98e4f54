/**
 * The network model behind the `gfs-data` bench's Figure 3 cases (GFS paper §6.1): 100 Mbps
 * full-duplex NICs (12.5 MB/s), clients and chunkservers on two switches joined by 1 Gbps
 * (125 MB/s). Plain actors stream bytes and the rates come out of virtual time.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../../src/testkit.js';
import { fig3Limit, fig3Network, NIC_BYTES_PER_SEC, TRUNK_BYTES_PER_SEC } from '../../../src/bench/gfs-fig3.js';

const PIECE = 1 << 20;

/** `pairs[i]` = [server, client]: each server sends `pieces` MiB to its client; returns the aggregate bytes/s. */
async function stream(clients: number, servers: number, pairs: ReadonlyArray<readonly [number, number]>, pieces: number): Promise<number> {
  const sim = new Simulation({ seed: 1, network: { latencyMinMs: 0.1, latencyMaxMs: 0.2 } });
  const cNames = Array.from({ length: clients }, (_, i) => `client${i}`);
  const sNames = Array.from({ length: servers }, (_, i) => `cs${i}`);
  let received = 0;
  let lastAt = 0;
  for (const c of cNames) {
    sim.addNode(c, (system) => {
      system.spawn<Uint8Array>(() => ({ receive: (m) => void ((received += m.length), (lastAt = sim.now)) }), { name: 'sink', mailboxCapacity: 100_000 });
    });
  }
  const nodes = sNames.map((s) => sim.addNode(s, () => {}));
  fig3Network(sim, cNames, sNames);
  for (const [s, c] of pairs) for (let k = 0; k < pieces; k++) nodes[s]?.system.tell({ node: `client${c}`, id: 'sink' }, new Uint8Array(PIECE));
  await sim.run();
  expect(received).toBe(pairs.length * pieces * PIECE);
  return received / (lastAt / 1000);
}

describe('Figure 3 testbed network', () => {
  it('one client reads at its NIC rate, 12.5 MB/s', async () => {
    const rate = await stream(1, 16, [[0, 0]], 16);
    expect(rate / NIC_BYTES_PER_SEC).toBeGreaterThan(0.98);
    expect(rate / NIC_BYTES_PER_SEC).toBeLessThanOrEqual(1);
  });

  it('16 clients fed by 16 servers are capped by the 1 Gbps trunk, 125 MB/s (not 16 × 12.5)', async () => {
    const rate = await stream(16, 16, Array.from({ length: 16 }, (_, i) => [i, i] as const), 8);
    expect(rate / TRUNK_BYTES_PER_SEC).toBeGreaterThan(0.98);
    expect(rate / TRUNK_BYTES_PER_SEC).toBeLessThanOrEqual(1);
  });

  it('two servers sending to one client share its ingress NIC', async () => {
    const rate = await stream(1, 16, [[0, 0], [1, 0]], 8);
    expect(rate / NIC_BYTES_PER_SEC).toBeGreaterThan(0.98);
    expect(rate / NIC_BYTES_PER_SEC).toBeLessThanOrEqual(1);
  });

  it('the limits the bench divides by are the paper\'s dashed lines', () => {
    expect(fig3Limit('read', 1)).toBe(12.5e6);
    expect(fig3Limit('read', 16)).toBe(125e6);
    expect(fig3Limit('write', 16) / 1e6).toBeCloseTo(66.7, 1);
    expect(fig3Limit('append', 16)).toBe(12.5e6);
  });
});
