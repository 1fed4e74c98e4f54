/**
 * A sequential file-system model for the MDS tests: what a POSIX namespace holds after a sequence
 * of operations, and the error each operation gets, checked in the same order as the MDS checks
 * them. Symbolic links in the workloads point at `/tNN`, which only a write through the link
 * creates (as a file): an intermediate link is then ENOTDIR, a dangling one ENOENT; open, write and
 * setattr follow a final link (POSIX: O_CREAT through a dangling link creates its target).
 */
import type { MdsOp } from '../../../src/actors/mds/protocol.js';
import type { CephFsClient } from '../../../src/actors/mds/client.js';
import type { Inode } from '../../../src/actors/mds/dir-object.js';

interface Node {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  sizeBytes: number;
  nlink: number;
  target?: string;
  entries?: Map<string, number>;
}

export type ModelOp = MdsOp | { readonly op: 'write'; readonly path: string; readonly offset: number; readonly length: number };

export class FsModel {
  private readonly nodes = new Map<number, Node>([[0, { type: 'dir', mode: 0o755, sizeBytes: 0, nlink: 2, entries: new Map() }]]);
  private next = 1;

  private walk(path: string): { parent: number | string; name: string; ino: number | undefined } {
    const parts = path.split('/').filter((p) => p !== '');
    let cur = 0;
    for (let i = 0; i < parts.length - 1; i++) {
      const n = this.nodes.get(cur)!;
      const child = n.entries!.get(parts[i]!);
      if (child === undefined) return { parent: 'ENOENT', name: '', ino: undefined };
      const cn = this.nodes.get(child)!;
      if (cn.type === 'symlink') return { parent: this.walk(cn.target!).ino === undefined ? 'ENOENT' : 'ENOTDIR', name: '', ino: undefined };
      if (cn.type !== 'dir') return { parent: 'ENOTDIR', name: '', ino: undefined };
      cur = child;
    }
    const name = parts[parts.length - 1]!;
    return { parent: cur, name, ino: this.nodes.get(cur)!.entries!.get(name) };
  }

  private chain(path: string): number[] {
    const parts = path.split('/').filter((p) => p !== '');
    const out = [0];
    let cur = 0;
    for (const p of parts.slice(0, -1)) {
      cur = this.nodes.get(cur)!.entries!.get(p)!;
      out.push(cur);
    }
    return out;
  }

  private add(parent: number, name: string, n: Node): number {
    const ino = this.next++;
    this.nodes.set(ino, n);
    this.nodes.get(parent)!.entries!.set(name, ino);
    return ino;
  }

  private drop(parent: number, name: string): void {
    const ino = this.nodes.get(parent)!.entries!.get(name)!;
    this.nodes.get(parent)!.entries!.delete(name);
    const n = this.nodes.get(ino)!;
    n.nlink--;
    if (n.type === 'dir' || n.nlink === 0) this.nodes.delete(ino);
  }

  /** Applies `op` and returns 'ok' or the error code it must get. */
  apply(op: ModelOp): string {
    switch (op.op) {
      case 'mkdir':
      case 'create':
      case 'symlink': {
        const w = this.walk(op.path);
        if (typeof w.parent === 'string') return w.parent;
        if (w.ino !== undefined) return op.op === 'create' && op.exclusive !== true && this.nodes.get(w.ino)!.type !== 'dir' ? 'ok' : op.op === 'create' && op.exclusive !== true ? 'EISDIR' : 'EEXIST';
        if (op.op === 'mkdir') this.add(w.parent, w.name, { type: 'dir', mode: op.mode ?? 0o755, sizeBytes: 0, nlink: 2, entries: new Map() });
        else if (op.op === 'create') this.add(w.parent, w.name, { type: 'file', mode: op.mode ?? 0o644, sizeBytes: 0, nlink: 1 });
        else this.add(w.parent, w.name, { type: 'symlink', mode: 0o777, sizeBytes: new TextEncoder().encode(op.target).length, nlink: 1, target: op.target });
        return 'ok';
      }
      case 'write': {
        const w = this.walk(op.path);
        if (typeof w.parent === 'string') return w.parent;
        if (w.ino !== undefined && this.nodes.get(w.ino)!.type === 'symlink') return this.apply({ ...op, path: this.nodes.get(w.ino)!.target! });
        const ino = w.ino ?? this.add(w.parent, w.name, { type: 'file', mode: 0o644, sizeBytes: 0, nlink: 1 });
        const n = this.nodes.get(ino)!;
        if (n.type !== 'file') return 'EISDIR';
        n.sizeBytes = Math.max(n.sizeBytes, op.offset + op.length);
        return 'ok';
      }
      case 'unlink':
      case 'rmdir': {
        const w = this.walk(op.path);
        if (typeof w.parent === 'string') return w.parent;
        if (w.ino === undefined) return 'ENOENT';
        const n = this.nodes.get(w.ino)!;
        if (op.op === 'unlink' && n.type === 'dir') return 'EISDIR';
        if (op.op === 'rmdir' && n.type !== 'dir') return 'ENOTDIR';
        if (op.op === 'rmdir' && n.entries!.size > 0) return 'ENOTEMPTY';
        this.drop(w.parent, w.name);
        return 'ok';
      }
      case 'rename': {
        const s = this.walk(op.from);
        if (typeof s.parent === 'string') return s.parent;
        if (s.ino === undefined) return 'ENOENT';
        const d = this.walk(op.to);
        if (typeof d.parent === 'string') return d.parent;
        const sn = this.nodes.get(s.ino)!;
        if (sn.type === 'dir' && [...this.chain(op.to), d.parent].includes(s.ino)) return 'EINVAL';
        if (d.ino !== undefined) {
          if (d.ino === s.ino) return 'ok';
          const dn = this.nodes.get(d.ino)!;
          if (sn.type === 'dir' && dn.type !== 'dir') return 'ENOTDIR';
          if (sn.type !== 'dir' && dn.type === 'dir') return 'EISDIR';
          if (dn.type === 'dir' && dn.entries!.size > 0) return 'ENOTEMPTY';
          this.drop(d.parent, d.name);
        }
        this.nodes.get(s.parent)!.entries!.delete(s.name);
        this.nodes.get(d.parent)!.entries!.set(d.name, s.ino);
        return 'ok';
      }
      case 'link': {
        const s = this.walk(op.existing);
        if (typeof s.parent === 'string') return s.parent;
        if (s.ino === undefined) return 'ENOENT';
        if (this.nodes.get(s.ino)!.type === 'dir') return 'EPERM';
        const d = this.walk(op.path);
        if (typeof d.parent === 'string') return d.parent;
        if (d.ino !== undefined) return 'EEXIST';
        this.nodes.get(d.parent)!.entries!.set(d.name, s.ino);
        this.nodes.get(s.ino)!.nlink++;
        return 'ok';
      }
      case 'setattr': {
        const w = this.walk(op.path);
        if (typeof w.parent === 'string') return w.parent;
        if (w.ino === undefined) return 'ENOENT';
        const n = this.nodes.get(w.ino)!;
        if (n.type === 'symlink') return this.apply({ ...op, path: n.target! });
        if (op.sizeBytes !== undefined && n.type === 'dir') return 'EISDIR';
        if (op.mode !== undefined) n.mode = op.mode;
        if (op.sizeBytes !== undefined) n.sizeBytes = op.sizeBytes;
        return 'ok';
      }
      default:
        throw new Error(`the model does not do ${op.op}`);
    }
  }

  /** The tree as sorted lines: path, type, mode, size, link count, target, and a hard-link group id. */
  describe(): string[] {
    const out: string[] = [];
    const group = new Map<number, number>();
    const visit = (ino: number, path: string): void => {
      const n = this.nodes.get(ino)!;
      for (const [name, child] of [...n.entries!].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const c = this.nodes.get(child)!;
        const p = `${path}/${name}`;
        if (!group.has(child)) group.set(child, group.size);
        out.push(line(p, c.type, c.mode, c.type === 'dir' ? 0 : c.sizeBytes, c.type === 'dir' ? 2 : c.nlink, c.target, group.get(child)!));
        if (c.type === 'dir') visit(child, p);
      }
    };
    visit(0, '');
    return out;
  }

  /** Every path in the tree, directories flagged. */
  paths(): { path: string; dir: boolean }[] {
    const out: { path: string; dir: boolean }[] = [];
    const visit = (ino: number, path: string): void => {
      for (const [name, child] of [...this.nodes.get(ino)!.entries!].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const dir = this.nodes.get(child)!.type === 'dir';
        out.push({ path: `${path}/${name}`, dir });
        if (dir) visit(child, `${path}/${name}`);
      }
    };
    visit(0, '');
    return out;
  }

  /**
   * A path that names something half the time, a new name in an existing directory most of the
   * rest, and otherwise a random path over a small name set (so operations collide and fail too).
   */
  samplePath(pick: (n: number) => number, fresh = false): string {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const all = this.paths();
    const roll = fresh ? 3 + pick(7) : pick(10);
    if (roll < 5 && all.length > 0) return all[pick(all.length)]!.path;
    const dirs = ['', ...all.filter((x) => x.dir && x.path.split('/').length < 5).map((x) => x.path)];
    if (roll < 9) return `${dirs[pick(dirs.length)]}/${names[pick(names.length)]}`;
    return '/' + Array.from({ length: 1 + pick(3) }, () => names[pick(names.length)]).join('/');
  }

  randomOp(pick: (n: number) => number): ModelOp {
    const p = (): string => this.samplePath(pick);
    const n = (): string => this.samplePath(pick, true);
    switch (pick(10)) {
      case 0:
      case 1:
        return { op: 'mkdir', path: n() };
      case 2:
        return { op: 'create', path: n(), exclusive: pick(2) === 0 };
      case 3:
        return { op: 'unlink', path: p() };
      case 4:
        return { op: 'rmdir', path: p() };
      case 5:
      case 6:
        return { op: 'rename', from: p(), to: pick(3) === 0 ? p() : n() };
      case 7:
        return { op: 'link', existing: p(), path: n() };
      case 8:
        return pick(2) === 0 ? { op: 'symlink', target: `/t${pick(100)}`, path: n() } : { op: 'setattr', path: p(), mode: 0o600 + pick(64) };
      default:
        return pick(4) === 0 ? { op: 'setattr', path: p(), sizeBytes: pick(6000) } : { op: 'write', path: p(), offset: pick(3) * 3000, length: 1 + pick(5000) };
    }
  }
}

function line(path: string, type: string, mode: number, size: number, nlink: number, target: string | undefined, group: number): string {
  return `${path} ${type} ${mode.toString(8)} ${size} ${nlink} ${target ?? '-'} #${group}`;
}

/** Runs a model operation through the client; returns 'ok' or the error code. */
export async function runOp(c: CephFsClient, op: ModelOp, data: (n: number) => Uint8Array): Promise<string> {
  const r = op.op === 'write' ? await c.write(op.path, op.offset, data(op.length)) : await c.request(op);
  return r.ok ? 'ok' : r.error.code;
}

/** The tree the MDS serves, in the model's format (hard-link groups by inode number). */
export async function describeFs(c: CephFsClient, run: <T>(p: Promise<T>) => Promise<T>): Promise<string[]> {
  const out: string[] = [];
  const group = new Map<number, number>();
  const visit = async (path: string): Promise<void> => {
    const r = await run(c.readdir(path === '' ? '/' : path));
    if (!r.ok) throw new Error(`readdir ${path}: ${r.error.code} ${r.error.message}`);
    for (const { name, inode } of r.value as { name: string; inode: Inode }[]) {
      const p = `${path}/${name}`;
      if (!group.has(inode.ino)) group.set(inode.ino, group.size);
      out.push(line(p, inode.type, inode.mode, inode.type === 'dir' ? 0 : inode.sizeBytes, inode.type === 'dir' ? 2 : inode.nlink, inode.target, group.get(inode.ino)!));
      if (inode.type === 'dir') await visit(p);
    }
  };
  await visit('');
  return out;
}
