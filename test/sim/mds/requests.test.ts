/**
 * Request ids, typed errors and data purges of the MDS in the simulator (thesis §3.2, B.2.2).
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../src/testkit.js';
import type { MdsReply } from '../../../src/actors/mds/protocol.js';
import type { Inode } from '../../../src/actors/mds/dir-object.js';
import { stripeObjectName } from '../../../src/actors/rados/client/striping.js';
import { journalObjectName } from '../../../src/actors/mds/journal.js';
import { dirObjectName } from '../../../src/actors/mds/dir-object.js';
import { DATA_POOL, fsCell, METADATA_POOL } from './cell.js';

describe('MDS requests in the simulator', () => {
  it('a retried request id is answered from the journaled result, also after an MDS restart (B.2.2)', async () => {
    await withSeed(51, async () => {
      const c = fsCell({ seed: 51, clients: 1 });
      const [a] = await c.start();
      const sys = c.sim.node('fs0').system;
      const send = (tid: number, path: string) => c.sim.result(sys.ask<MdsReply<Inode>>(c.mdsRef, { type: 'mds.request', client: 'client.fs0', tid, req: { op: 'mkdir', path } }, { timeoutMs: 5_000 }));
      const first = await send(1_000, '/once');
      const again = await send(1_000, '/once');
      expect(again).toEqual(first);
      expect((await send(1_001, '/once')).ok ? 'ok' : 'EEXIST').toBe('EEXIST');
      await c.restartMds();
      expect(await send(1_000, '/once')).toEqual(first);
      const ls = await c.sim.result(a!.readdir('/'));
      expect(ls.ok && ls.value.map((e) => e.name)).toEqual(['once']);
    });
  });

  it('bad input gets typed errors end to end and nothing acknowledged is lost', async () => {
    await withSeed(52, async () => {
      const c = fsCell({ seed: 52, clients: 1, mds: { nameBytesMax: 16 } });
      const [a] = await c.start();
      const r = <T>(p: Promise<T>): Promise<T> => c.sim.result(p);
      const code = (x: { ok: boolean; error?: { code: string } }): string => (x.ok ? 'ok' : (x.error?.code ?? '?'));
      expect(code(await r(a!.mkdir('/' + 'x'.repeat(17))))).toBe('ENAMETOOLONG');
      expect(code(await r(a!.mkdir('/a\0')))).toBe('EINVAL');
      expect(code(await r(a!.mkdir('/a')))).toBe('ok');
      expect(code(await r(a!.mkdir('/a/b')))).toBe('ok');
      expect(code(await r(a!.rename('/a', '/a/b/a')))).toBe('EINVAL');
      expect(code(await r(a!.rmdir('/a')))).toBe('ENOTEMPTY');
      expect(code(await r(a!.unlink('/a')))).toBe('EISDIR');
      expect(code(await r(a!.mkdir('/a/b/c/d')))).toBe('ENOENT');
      expect(code(await r(a!.write('/a', 0, new Uint8Array(3))))).toBe('EISDIR');
      expect(code(await r(a!.write('/big', 2 ** 40, new Uint8Array(1))))).toBe('EFBIG');
      expect(code(await r(a!.truncate('/a/b', 0)))).toBe('EISDIR');
      await c.restartMds();
      const st = await r(a!.stat('/a/b'));
      expect(st.ok && st.value.type).toBe('dir');
      expect(code(await r(a!.stat('/big')))).toBe('ENOENT');
    });
  });

  it('unlinking the last link purges the file\'s objects; truncate trims and removes them (thesis §3.2.1)', async () => {
    await withSeed(53, async () => {
      const c = fsCell({ seed: 53, clients: 1 });
      const [a] = await c.start();
      const r = <T>(p: Promise<T>): Promise<T> => c.sim.result(p);
      const data = new Uint8Array(4096 * 3 + 100).map((_, i) => i % 256);
      const w = await r(a!.writeFile('/f', data));
      if (!w.ok) throw new Error(w.error.message);
      const ino = w.value.ino;
      const io = a!.rados.pool(DATA_POOL);
      const sizes = async (): Promise<(number | string)[]> =>
        Promise.all([0, 1, 2, 3].map(async (n) => {
          const s = await r(io.stat(stripeObjectName(ino, n)));
          return s.ok ? s.value.sizeBytes : s.error.code;
        }));
      expect(await sizes()).toEqual([4096, 4096, 4096, 100]);
      expect((await r(a!.truncate('/f', 5000))).ok).toBe(true);
      expect(await sizes()).toEqual([4096, 904, 'not_found', 'not_found']);
      const back = await r(a!.readFile('/f'));
      expect(back.ok && back.value).toEqual(data.subarray(0, 5000));
      expect((await r(a!.link('/f', '/g'))).ok).toBe(true);
      expect((await r(a!.unlink('/f'))).ok).toBe(true);
      expect(await sizes()).toEqual([4096, 904, 'not_found', 'not_found']);
      expect((await r(a!.unlink('/g'))).ok).toBe(true);
      expect(await sizes()).toEqual(['not_found', 'not_found', 'not_found', 'not_found']);
    });
  });

  it('trimming commits directories and deletes whole journal objects below the trim position (thesis §4.2.3)', async () => {
    await withSeed(54, async () => {
      const c = fsCell({ seed: 54, clients: 1 });
      const [a] = await c.start();
      const r = <T>(p: Promise<T>): Promise<T> => c.sim.result(p);
      const meta = a!.rados.pool(METADATA_POOL);
      expect((await r(a!.mkdir('/d'))).ok).toBe(true);
      for (let i = 0; i < 150; i++) expect((await r(a!.create(`/d/file-${i}`))).ok).toBe(true);
      const s = await c.status();
      expect(s!.journal.trimPos).toBeGreaterThan(16 * 1024);
      expect(s!.commits).toBeGreaterThan(0);
      expect(s!.commits).toBeLessThan(s!.updates / 4);
      const first = await r(meta.stat(journalObjectName(0, 0)));
      expect(first.ok ? 'exists' : first.error.code).toBe('not_found');
      const d = await r(a!.lookup('/d'));
      const obj = await r(meta.stat(dirObjectName(d.ok ? d.value.ino : 0)));
      expect(obj.ok).toBe(true);
    });
  });
});
