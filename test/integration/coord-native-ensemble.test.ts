/**
 * The native client against `startCoordEnsemble` (real disks, one Troupe node): every server's
 * native actor in its list, it keeps its session when the server it talks to stops — its
 * ephemeral stays, its watch fires for a change made meanwhile, and writes go on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoordClient } from '../../src/actors/coord/client/client.js';
import { startCoordEnsemble, type CoordEnsembleHandle } from '../../src/actors/coord/node/ensemble.js';
import { EventType, type WatchEvent } from '../../src/actors/coord/protocol.js';
import { consecutiveFreePorts } from '../support/zk-peer.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-coord-native-'));
let ens: CoordEnsembleHandle | undefined;
const clients: CoordClient[] = [];

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await ens?.close();
  rmSync(root, { recursive: true, force: true });
});

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function until<T>(f: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('native client on an ensemble', () => {
  it('keeps its session, ephemeral and watch when its server stops', async () => {
    ens = await startCoordEnsemble({ dataDir: root, servers: 3, basePort: await consecutiveFreePorts(3), zab: { tickMs: 100, syncLimitTicks: 5, initLimitTicks: 10, requestTimeoutMs: 5_000 } });
    await ens.ready();
    const natives = ens.servers.map((s) => s.native);
    const a = await CoordClient.connect(ens.node.system, natives, { sessionTimeoutMs: 3_000, requestTimeoutMs: 5_000 });
    const b = await CoordClient.connect(ens.node.system, [...natives.slice(1), natives[0]!], { sessionTimeoutMs: 3_000, requestTimeoutMs: 5_000 });
    clients.push(a, b);
    await a.create('/cfg', enc('1'));
    await a.create('/alive', null, { mode: 'ephemeral' });
    const events: WatchEvent[] = [];
    await a.getData('/cfg', (ev) => void events.push(ev));
    const session = a.sessionId;
    const gone = ens.servers[a.serverIndex]!;
    const bOn = ens.servers[b.serverIndex]!;
    await gone.stop();
    if (bOn === gone) await until(async () => (await b.exists('/cfg')) ?? undefined, 'b back');
    await until(async () => (await b.setData('/cfg', enc('2'))).version, 'b writes');
    await until(async () => (events.length > 0 ? events : undefined), 'the watch fires after a moves');
    expect(events.map((e) => [e.type, e.path])).toEqual([[EventType.NodeDataChanged, '/cfg']]);
    expect(a.sessionId).toBe(session);
    expect(ens.servers[a.serverIndex]).not.toBe(gone);
    expect(await b.exists('/alive')).not.toBeNull();
    expect((await a.setData('/cfg', enc('3'))).version).toBe(2);
  }, 60_000);
});
