/**
 * Restarts without a lease-period stall, and sizes visible when a mutation returns — real master,
 * real chunkservers on simulated disks, clients on their own nodes; times are virtual.
 *
 * M6 (GFS README): after a restart the master waits only for chunks whose lease holder (logged
 * with the version bump) has not reported its leases yet; a reported lease is adopted.
 */
import { describe, expect, it } from 'vitest';
import { realCluster } from './cluster.js';

const record = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed * 5 + 1) & 0xff);

function crashAll(c: ReturnType<typeof realCluster>): void {
  c.sim.crash('master');
  for (const s of c.servers) c.crashServer(s);
}

function restartAll(c: ReturnType<typeof realCluster>): void {
  c.sim.restart('master');
  for (const s of c.servers) c.sim.restart(s);
}

describe('restarts: the master waits only for leases that may really be in force (M6)', () => {
  it('after a whole-cluster power cut and restart, the first append to an existing file proceeds without waiting a lease period', async () => {
    const c = realCluster({ seed: 21 });
    await c.sim.run({ forMs: 1_000 });
    const before = c.client('before');
    await c.run(before.create('/log'));
    const first = await c.run(before.append('/log', record(1_000, 1)));
    // The primary holds a 10 s lease; the whole cluster loses power and comes back at once.
    crashAll(c);
    restartAll(c);
    const restartedAt = c.sim.now;
    const after = c.client('after');
    const second = await c.run(after.append('/log', record(1_000, 2)));
    // The chunkservers lost their leases with the power cut and said so in their first reports:
    // nothing to wait for (the master used to wait a whole lease period here).
    expect(c.sim.now - restartedAt).toBeLessThan(c.config.leaseDurationMs!);
    expect(second.offset).toBe(first.offset + 1_000);
    expect((await c.run(after.stat('/log'))).sizeBytes).toBe(2_000);
    expect(await c.run(after.read('/log', 0, 2_000))).toEqual(Uint8Array.from([...record(1_000, 1), ...record(1_000, 2)]));
  });

  it('after a master restart, a lease its previous incarnation granted is adopted: the same primary goes on, at the same version', async () => {
    const c = realCluster({ seed: 22 });
    await c.sim.run({ forMs: 1_000 });
    const before = c.client('before');
    await c.run(before.create('/log'));
    await c.run(before.append('/log', record(500, 1)));
    const granted = c.acts[c.acts.length - 1]!;
    c.sim.crash('master');
    c.sim.restart('master');
    const restartedAt = c.sim.now;
    const after = c.client('after');
    await c.run(after.append('/log', record(500, 2)));
    expect(c.sim.now - restartedAt).toBeLessThan(c.config.leaseDurationMs!);
    const last = c.acts[c.acts.length - 1]!;
    expect(last).toMatchObject({ server: granted.server, handle: granted.handle, version: granted.version, serial: granted.serial + 1 });
    // Still one primary: nobody else ordered a mutation of the chunk.
    expect(new Set(c.acts.filter((a) => a.handle === granted.handle).map((a) => a.server))).toEqual(new Set([granted.server]));
  });

  it('a lease holder that cannot report holds grants back until its lease surely ended, while it keeps acting as primary (M6)', async () => {
    const c = realCluster({ seed: 23 });
    await c.sim.run({ forMs: 1_000 });
    const producer = c.client('producer');
    await c.run(producer.create('/log'));
    await c.run(producer.append('/log', record(200, 0)));
    const granted = c.acts[c.acts.length - 1]!;
    const holder = granted.server;
    // The holder is cut off from the master, which then restarts: its lease is unknown there.
    c.sim.partition(['master'], [holder]);
    c.sim.crash('master');
    c.sim.restart('master');
    const restartedAt = c.sim.now;
    // The producer keeps appending through the primary it knows, while that lease runs.
    const background = (async () => {
      for (let i = 1; i <= 12; i++) {
        await producer.append('/log', record(200, i)).catch(() => undefined);
        await new Promise<void>((resolve) => c.sim.after(500, resolve));
      }
    })();
    const other = c.client('other');
    await c.run(other.append('/log', record(200, 99)));
    await c.run(background);
    const acts = c.acts.filter((a) => a.handle === granted.handle);
    const byHolder = acts.filter((a) => a.server === holder);
    const byOthers = acts.filter((a) => a.server !== holder);
    expect(byHolder.filter((a) => a.at > restartedAt).length).toBeGreaterThan(0);
    expect(byOthers.length).toBeGreaterThan(0);
    // Never two primaries: every mutation another server ordered came after the holder's last one,
    // and not before the lease period since the restart (the holder never reported) had passed.
    const firstOther = Math.min(...byOthers.map((a) => a.at));
    expect(firstOther).toBeGreaterThan(Math.max(...byHolder.map((a) => a.at)));
    expect(firstOther).toBeGreaterThanOrEqual(restartedAt + c.config.leaseDurationMs! + c.config.leaseSkewMarginMs!);
  });
});

describe('sizes at once: when a write or append returns, stat shows its bytes', () => {
  it('a write spanning two chunks is in stat and list as soon as it returns, before any heartbeat', async () => {
    const c = realCluster({ seed: 24, config: { heartbeatIntervalMs: 60_000, rpcTimeoutMs: 1_000 } });
    await c.sim.run({ forMs: 1_000 });
    const client = c.client();
    await c.run(client.create('/f'));
    await c.run(client.write('/f', 0, record(100 * 1024, 3)));
    expect((await c.run(client.stat('/f'))).sizeBytes).toBe(100 * 1024);
    expect((await c.run(client.list('/')))[0]).toMatchObject({ path: '/f', sizeBytes: 100 * 1024 });
  });

  it('concurrent appenders: the size is the end of the last record when they return, and later heartbeats never shrink it', async () => {
    const c = realCluster({ seed: 25 });
    await c.sim.run({ forMs: 1_000 });
    const writers = [0, 1, 2, 3].map((i) => c.client(`w${i}`));
    await c.run(writers[0]!.create('/q'));
    const ends = await c.run(
      Promise.all(
        writers.map(async (w, i) => {
          let end = 0;
          for (let k = 0; k < 10; k++) {
            const r = await w.append('/q', record(700 + i * 10, k));
            end = Math.max(end, r.offset + 700 + i * 10);
          }
          return end;
        }),
      ),
    );
    const size = (await c.run(writers[1]!.stat('/q'))).sizeBytes;
    expect(size).toBe(Math.max(...ends));
    await c.sim.run({ forMs: 5_000 }); // heartbeats, full reports
    expect((await c.run(writers[2]!.stat('/q'))).sizeBytes).toBe(size);
  });
});
