/**
 * The MDS end to end in the simulator (thesis ch. 4, §3.2): monitors, OSDs, one MDS and clients.
 * Namespace operations, their typed errors, and file data striped straight to the OSDs.
 */
import { describe, expect, it } from 'vitest';
import { withSeed } from '../../../src/testkit.js';
import { fsCell } from './cell.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('MDS namespace in the simulator', () => {
  it('mkdir, create, readdir with inodes, stat, rename, unlink, rmdir (thesis §3.2, §3.2.3)', async () => {
    await withSeed(31, async () => {
      const c = fsCell({ seed: 31 });
      const [a] = await c.start();
      const r = <T>(p: Promise<T>): Promise<T> => c.sim.result(p);
      const code = (x: { ok: boolean; error?: { code: string } }): string => (x.ok ? 'ok' : (x.error?.code ?? '?'));
      expect(code(await r(a!.mkdir('/home')))).toBe('ok');
      expect(code(await r(a!.mkdir('/home/ana')))).toBe('ok');
      const f = await r(a!.create('/home/ana/notes.txt'));
      expect(f.ok && f.value.type).toBe('file');
      const ls = await r(a!.readdir('/home/ana'));
      expect(ls.ok && ls.value.map((e) => [e.name, e.inode.type])).toEqual([['notes.txt', 'file']]);
      expect(code(await r(a!.rename('/home/ana/notes.txt', '/home/notes.txt')))).toBe('ok');
      expect(code(await r(a!.stat('/home/ana/notes.txt')))).toBe('ENOENT');
      const st = await r(a!.stat('/home/notes.txt'));
      expect(st.ok && f.ok && st.value.ino).toBe(f.ok ? f.value.ino : -1);
      expect(code(await r(a!.rmdir('/home')))).toBe('ENOTEMPTY');
      expect(code(await r(a!.unlink('/home/notes.txt')))).toBe('ok');
      expect(code(await r(a!.rmdir('/home/ana')))).toBe('ok');
      expect(code(await r(a!.rmdir('/home')))).toBe('ok');
      const root = await r(a!.readdir('/'));
      expect(root.ok && root.value).toEqual([]);
    });
  });

  it('file data: write, holes read as zeros, truncate (thesis §3.2.1)', async () => {
    await withSeed(32, async () => {
      const c = fsCell({ seed: 32 });
      const [a, b] = await c.start();
      const r = <T>(p: Promise<T>): Promise<T> => c.sim.result(p);
      const w = await r(a!.writeFile('/f', enc('hello')));
      expect(w.ok && w.value.sizeBytes).toBe(5);
      const x = await r(a!.write('/f', 10_000, enc('far')));
      expect(x.ok && x.value.sizeBytes).toBe(10_003);
      const all = await r(b!.readFile('/f'));
      if (!all.ok) throw new Error(all.error.message);
      expect(all.value.length).toBe(10_003);
      expect(dec(all.value.subarray(0, 5))).toBe('hello');
      expect(all.value.subarray(5, 10_000).every((v) => v === 0)).toBe(true);
      expect(dec(all.value.subarray(10_000))).toBe('far');
      const t = await r(a!.truncate('/f', 3));
      expect(t.ok && t.value.sizeBytes).toBe(3);
      const ext = await r(a!.truncate('/f', 9_000));
      expect(ext.ok).toBe(true);
      const back = await r(b!.readFile('/f'));
      if (!back.ok) throw new Error(back.error.message);
      expect(dec(back.value.subarray(0, 3))).toBe('hel');
      expect(back.value.length).toBe(9_000);
      expect(back.value.subarray(3).every((v) => v === 0)).toBe(true);
    });
  });
});
