/**
 * MDS messages (STYLE.md: one protocol file per system; types namespaced by system and role).
 * Clients send metadata requests to the MDS; file data never goes through it (thesis §3.2.1):
 * clients read and write objects on the OSDs themselves. Plain data only.
 */
import type { Inode } from './dir-object.js';
import type { MdsResult } from './errors.js';

/** One metadata operation (thesis §3.2; digest §1.2, §1.4). Paths are absolute. */
export type MdsOp =
  /** The inode at `path`, not following a final symbolic link (lstat). */
  | { readonly op: 'lookup'; readonly path: string }
  /** The inode at `path`, following symbolic links. */
  | { readonly op: 'stat'; readonly path: string }
  /** A directory's entries with their inodes, in name order, after `after` (thesis §3.2.3: readdir returns inodes). */
  | { readonly op: 'readdir'; readonly path: string; readonly after?: string; readonly max?: number }
  /** Opens (and with `create`, creates) a file; the reply carries its inode, size and layout (thesis §3.2.1). */
  | { readonly op: 'open'; readonly path: string; readonly write?: boolean; readonly create?: boolean; readonly exclusive?: boolean; readonly truncate?: boolean; readonly mode?: number }
  /** Closes an open file, reporting the largest offset written and the modification time (thesis §3.2.1). */
  | { readonly op: 'close'; readonly ino: number; readonly sizeBytes?: number; readonly mtimeMs?: number }
  | { readonly op: 'create'; readonly path: string; readonly mode?: number; readonly exclusive?: boolean }
  | { readonly op: 'mkdir'; readonly path: string; readonly mode?: number }
  | { readonly op: 'symlink'; readonly target: string; readonly path: string }
  | { readonly op: 'link'; readonly existing: string; readonly path: string }
  | { readonly op: 'unlink'; readonly path: string }
  | { readonly op: 'rmdir'; readonly path: string }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  /** Changes mode, times, or size (truncate or extend; the MDS removes the data past a smaller size). */
  | { readonly op: 'setattr'; readonly path: string; readonly mode?: number; readonly mtimeMs?: number; readonly atimeMs?: number; readonly sizeBytes?: number };

export interface ReaddirReply {
  readonly entries: readonly { readonly name: string; readonly inode: Inode }[];
  /** More entries follow the last one returned. */
  readonly more: boolean;
}

export interface MdsStatus {
  readonly rank: number;
  readonly state: 'booting' | 'replaying' | 'active';
  readonly journal: { readonly trimPos: number; readonly writePos: number; readonly generation: number; readonly segments: number };
  readonly cachedDirs: number;
  readonly dirtyDirs: number;
  /** Entries replayed at the last start. */
  readonly replayedEvents: number;
  /** Directory commits done by trimming, and updates journaled, since the start. */
  readonly commits: number;
  readonly updates: number;
}

export type MdsMsg =
  /**
   * A client request. `client` + `tid` identify it: a retry carries the same pair and is answered
   * from the journaled result, never applied twice (thesis B.2.2).
   */
  | { readonly type: 'mds.request'; readonly client: string; readonly tid: number; readonly req: MdsOp }
  | { readonly type: 'mds.status' }
  /** Trims every segment but the current one, committing all dirty directories (for tests and `flush journal`). */
  | { readonly type: 'mds.flushJournal' }
  | { readonly type: 'mds.boot' };

export type MdsReply<T = unknown> = MdsResult<T>;
