/**
 * The object data path end to end in the simulator (thesis §6.3): each replication mode serves
 * writes, reads, xattrs, compound operations and listing; acks and commits arrive in order; bad
 * input gets typed errors.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../../src/testkit.js';
import { objectMapping } from '../../../../src/actors/rados/osdmap/mapping.js';
import { POOL, dataCell } from './cell.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('RADOS data path in the simulator', () => {
  for (const mode of ['primary-copy', 'chain', 'splay'] as const) {
    it(`${mode}: write, append, read, stat, xattrs, remove; ack before commit (thesis §6.3.1–6.3.2)`, async () => {
      await withSeed(21, async () => {
        const c = dataCell({ seed: 21, replication: mode, osds: 4, size: 3 });
        const [client] = await c.start();
        const io = client!.pool(POOL);
        const h = io.writeFull('obj', enc('hello '));
        const order: string[] = [];
        void h.ack.then(() => order.push('ack'));
        void h.commit.then(() => order.push('commit'));
        const committed = await c.sim.result(h.commit);
        expect(committed.ok ? "ok" : committed.error.message).toBe("ok");
        expect(order).toEqual(['ack', 'commit']);
        const a = await c.sim.result(io.append('obj', enc('world')).commit);
        expect(a.ok && a.value.results[0]).toEqual({ op: 'append', offset: 6 });
        const r = await c.sim.result(io.read('obj'));
        expect(r.ok && dec(r.value)).toBe('hello world');
        const part = await c.sim.result(io.read('obj', 6, 3));
        expect(part.ok && dec(part.value)).toBe('wor');
        const st = await c.sim.result(io.stat('obj'));
        expect(st.ok && st.value.sizeBytes).toBe(11);
        expect((await c.sim.result(io.setxattr('obj', 'owner', enc('ana')).commit)).ok).toBe(true);
        const x = await c.sim.result(io.getxattr('obj', 'owner'));
        expect(x.ok && dec(x.value)).toBe('ana');
        const rm = await c.sim.result(io.remove('obj').commit);
        expect(rm.ok).toBe(true);
        const gone = await c.sim.result(io.read('obj'));
        expect(gone.ok ? 'found' : gone.error.code).toBe('not_found');
      });
    });
  }

  it("a large write's data is taken at submit: changing the caller's buffer afterwards changes nothing stored", async () => {
    await withSeed(23, async () => {
      const c = dataCell({ seed: 23, replication: 'primary-copy', osds: 4, size: 3 });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      // Past the client's shareDataAboveBytes (64 KiB): copied once into shared memory for the OSDs.
      const data = new Uint8Array(300 * 1024).map((_, i) => i % 251);
      const expected = data.slice();
      const h = io.writeFull('big', data);
      data.fill(0);
      expect((await c.sim.result(h.commit)).ok).toBe(true);
      const r = await c.sim.result(io.read('big'));
      expect(r.ok && Buffer.from(r.value).equals(Buffer.from(expected))).toBe(true);
      // An overwrite in the middle of it reads back with the rest intact (the store's pages).
      expect((await c.sim.result(io.write('big', enc('middle'), 100_000).commit)).ok).toBe(true);
      expected.set(enc('middle'), 100_000);
      const r2 = await c.sim.result(io.read('big'));
      expect(r2.ok && Buffer.from(r2.value).equals(Buffer.from(expected))).toBe(true);
    });
  });

  it('every replica holds the same bytes and PG log after writes (the update reached every member)', async () => {
    await withSeed(22, async () => {
      const c = dataCell({ seed: 22, replication: 'splay', osds: 5, size: 3 });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      for (let i = 0; i < 12; i++) expect((await c.sim.result(io.writeFull(`o${i}`, enc(`v${i}`)).commit)).ok).toBe(true);
      const states = await Promise.all([0, 1, 2, 3, 4].map((id) => c.osdStatus(id)));
      const byPg = new Map<string, Set<string>>();
      for (const s of states) for (const p of s?.held ?? []) if (p.acting.includes(s!.osd)) byPg.set(p.pg, (byPg.get(p.pg) ?? new Set()).add(`${p.lastUpdate}/${p.objects}`));
      for (const [pg, seen] of byPg) expect(seen.size, `pg ${pg}`).toBe(1);
      const listed = await c.sim.result(io.list({ ps: 0, after: '' }, 5));
      expect(listed.ok && listed.value.oids.length).toBe(5);
      let all: string[] = [];
      let cursor = listed.ok ? listed.value.next : undefined;
      all = listed.ok ? [...listed.value.oids] : [];
      while (cursor !== undefined) {
        const page = await c.sim.result(io.list(cursor, 5));
        if (!page.ok) throw new Error(page.error.message);
        all.push(...page.value.oids);
        cursor = page.value.next;
      }
      expect(all.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `o${i}`).sort());
    });
  });

  it('a compound operation with a compare-xattr guard applies all or nothing (canceled); exclusive create gets exists', async () => {
    await withSeed(23, async () => {
      const c = dataCell({ seed: 23, replication: 'primary-copy' });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      expect((await c.sim.result(io.operate('lock', [{ op: 'create', exclusive: true }, { op: 'setxattr', name: 'holder', value: enc('a') }]).commit)).ok).toBe(true);
      const again = await c.sim.result(io.create('lock', true).commit);
      expect(again.ok ? 'ok' : again.error.code).toBe('exists');
      const wrong = await c.sim.result(io.operate('lock', [{ op: 'cmpxattr', name: 'holder', value: enc('b') }, { op: 'writeFull', data: enc('b wins') }]).commit);
      expect(wrong.ok ? 'ok' : wrong.error.code).toBe('canceled');
      const right = await c.sim.result(io.operate('lock', [{ op: 'cmpxattr', name: 'holder', value: enc('a') }, { op: 'writeFull', data: enc('a wins') }, { op: 'setxattr', name: 'holder', value: enc('c') }]).commit);
      expect(right.ok).toBe(true);
      const r = await c.sim.result(io.read('lock'));
      expect(r.ok && dec(r.value)).toBe('a wins');
      const x = await c.sim.result(io.getxattrs('lock'));
      expect(x.ok && dec(x.value.get('holder')!)).toBe('c');
    });
  });

  it('bad input gets typed errors and changes nothing: unknown pool, long names, big xattrs, writes past the maximum object size', async () => {
    await withSeed(24, async () => {
      const c = dataCell({ seed: 24, dataPath: { objectNameBytesMax: 16, xattrValueBytesMax: 8, objectSizeBytesMax: 1024 } });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      const code = async (h: { commit: Promise<{ ok: boolean; error?: { code: string } }> }): Promise<string> => {
        const r = await c.sim.result(h.commit);
        return r.ok ? 'ok' : (r.error?.code ?? '?');
      };
      expect(await code(client!.pool('nope').writeFull('a', enc('x')))).toBe('no_pool');
      expect(await code(io.writeFull('a'.repeat(17), enc('x')))).toBe('invalid_argument');
      expect(await code(io.setxattr('a', 'k', new Uint8Array(9)))).toBe('invalid_argument');
      expect(await code(io.write('a', enc('x'), 1024))).toBe('invalid_argument');
      expect(await code(io.writeFull('a', enc('kept')))).toBe('ok');
      expect(await code(io.operate('a', [{ op: 'writeFull', data: enc('no') }, { op: 'rmxattr', name: 'missing' }]))).toBe('not_found');
      const r = await c.sim.result(io.read('a'));
      expect(r.ok && dec(r.value)).toBe('kept');
    });
  });

  it('a client whose epoch is far behind the incrementals the OSDs keep gets the full map from the OSD it reaches, and its write lands on the new primary (issue 16, bad input; thesis §6.2.5)', async () => {
    await withSeed(25, async () => {
      const HISTORY = 4;
      const c = dataCell({ seed: 25, osds: 5, size: 3, clients: 1, osd: { historyMax: HISTORY } });
      const [client] = await c.start();
      const io = client!.pool(POOL);
      expect((await c.sim.result(io.writeFull('far', enc('before')).commit)).ok).toBe(true);
      const behind = client!.epoch;
      const start = await c.map();
      const poolId = start.pools.find((p) => p.name === POOL)!.id;
      const old = objectMapping(start, poolId, 'far')!;
      // From here on the client hears nothing from the monitors: only an OSD can bring its map forward.
      c.sim.partition(['client0'], ['mon0', 'mon1', 'mon2']);
      // The object's primary is marked out (its PG gets a new first OSD), then more epochs pass than the OSDs keep incrementals for.
      expect((await c.sim.result(c.mon.submit({ type: 'rados.mon.osdMarkOut', osds: [old.primary] }))).ok).toBe(true);
      for (let i = 0; i < HISTORY + 3; i++) expect((await c.sim.result(c.mon.submit({ type: 'rados.mon.poolCreate', name: `filler${i}`, pgNum: 1, size: 2, minSize: 1 }))).ok).toBe(true);
      const latest = await c.map();
      expect(latest.epoch - behind).toBeGreaterThan(HISTORY + 1);
      const moved = objectMapping(latest, poolId, 'far')!;
      expect(moved.primary).not.toBe(old.primary);
      // Every OSD has the latest map before the client acts (lazy sharing among OSDs, thesis §6.2.5).
      for (let i = 0; ; i++) {
        const epochs = await Promise.all([0, 1, 2, 3, 4].map(async (id) => (await c.osdStatus(id))?.epoch));
        if (epochs.every((e) => e === latest.epoch)) break;
        expect(i, `OSD epochs ${epochs.join(',')}`).toBeLessThan(100);
        await c.sim.run({ forMs: 200 });
      }
      expect(client!.epoch).toBe(behind);
      const w = await c.sim.result(io.writeFull('far', enc('after')).commit);
      expect(w.ok ? 'ok' : w.error.code).toBe('ok');
      // The old primary answered `misdirected` with a full map (its history holds HISTORY incrementals, fewer than the gap), so the client jumped to the latest epoch without a monitor.
      expect(client!.epoch).toBeGreaterThanOrEqual(latest.epoch);
      const acked = c.events.filter((e) => e.kind === 'acked' && e.pg === `${poolId}.${moved.pg.ps}`);
      expect(acked.at(-1)?.osd).toBe(moved.primary);
      c.sim.heal();
      const r = await c.sim.result(io.read('far'));
      expect(r.ok && dec(r.value)).toBe('after');
    });
  });
});
