/**
 * MDS configuration with the thesis's values where it gives them (digest §4.1, §4.8, §6.3: the
 * journal segment and object sizes are left open; the evaluation used 1 MB segments, thesis
 * §4.5.3.2). Every value carries its unit.
 */
import type { StripeLayout } from '../rados/client/striping.js';

export interface MdsConfig {
  /** RADOS pool holding directory objects and the journal (thesis §4.2: all metadata lives in objects). */
  readonly metadataPool: string;
  /** Size of each journal object: the journal is striped over fixed-size objects with sequential ids (thesis §4.2.3). */
  readonly journalObjectBytes: number;
  /**
   * A new segment (starting with a subtree map) begins at the first event written after the
   * current segment reaches this size (thesis §4.5.3.2 used 1 MB segments). Segments start at
   * object boundaries when `journalObjectBytes` is a multiple of it, so trimming frees whole objects.
   */
  readonly segmentBytes: number;
  /** Live segments kept before the oldest is trimmed (its dirty directories committed first, thesis §4.2.3). */
  readonly segmentsMax: number;
  /** An update's journal entry larger than this is refused with EINVAL (names and symlink targets are bounded, so only a bug gets there). */
  readonly entryBytesMax: number;
  /**
   * A subtree map carries the MDS tables (inode allocator, anchor table, completed request ids,
   * pending truncations), so it grows with them; past this the MDS cannot start a segment.
   */
  readonly subtreeMapBytesMax: number;
  /** A name component (POSIX NAME_MAX). */
  readonly nameBytesMax: number;
  /** A whole path or symlink target (POSIX PATH_MAX). */
  readonly pathBytesMax: number;
  /** Symbolic links followed while resolving one path (Linux MAXSYMLINKS 40; fewer here). */
  readonly symlinkHopsMax: number;
  readonly fileSizeBytesMax: number;
  readonly dirEntriesMax: number;
  readonly linksMax: number;
  /** Multiply-linked inodes tracked in the anchor table (thesis §4.2.2). */
  readonly anchorsMax: number;
  /** Directories cached; clean leaf directories beyond it are expired least recently used first (thesis §4.2.1). */
  readonly cacheDirsMax: number;
  /** Completed request ids remembered per client, so a retried request is not applied twice (thesis §4.4.1, B.2.2). */
  readonly completedRequestsPerClientMax: number;
  /** Clients with remembered request ids or open files. */
  readonly sessionsMax: number;
  readonly openFilesPerClientMax: number;
  /** Requests queued in the MDS's mailbox. */
  readonly requestQueueMax: number;
  /** Entries returned by one readdir at most (the client pages with `after`). */
  readonly readdirEntriesMax: number;
  /** Layout of new files (issue 19: 4 MiB objects, stripe count 1). */
  readonly defaultLayout: StripeLayout;
  /** One RADOS operation of the MDS (fetch, journal write, commit); a failure makes the MDS replay. */
  readonly objectOpTimeoutMs: number;
  /** Path resolutions that load directories, per request, before giving up with EIO. */
  readonly fetchRoundsMax: number;
}

export const DEFAULT_MDS_CONFIG: MdsConfig = {
  metadataPool: 'metadata',
  journalObjectBytes: 4 * 1024 * 1024,
  segmentBytes: 1024 * 1024,
  segmentsMax: 32,
  entryBytesMax: 256 * 1024,
  subtreeMapBytesMax: 64 * 1024 * 1024,
  nameBytesMax: 255,
  pathBytesMax: 4096,
  symlinkHopsMax: 8,
  fileSizeBytesMax: 1024 ** 4,
  dirEntriesMax: 100_000,
  linksMax: 1_000,
  anchorsMax: 100_000,
  cacheDirsMax: 10_000,
  completedRequestsPerClientMax: 64,
  sessionsMax: 1_024,
  openFilesPerClientMax: 1_024,
  requestQueueMax: 4_096,
  readdirEntriesMax: 1_024,
  defaultLayout: { su: 4 * 1024 * 1024, sc: 1, os: 4 * 1024 * 1024 },
  objectOpTimeoutMs: 30_000,
  fetchRoundsMax: 64,
};

/** Refuses settings that cannot work, naming them. */
export function validateMdsConfig(c: MdsConfig): string | undefined {
  if (!(c.journalObjectBytes > 0 && c.segmentBytes > 0)) return 'journalObjectBytes and segmentBytes must be positive';
  if (c.segmentsMax < 1) return 'segmentsMax must be at least 1';
  if (!(c.entryBytesMax > 0 && c.subtreeMapBytesMax >= c.entryBytesMax)) return 'entryBytesMax must be positive and subtreeMapBytesMax at least as large';
  if (c.completedRequestsPerClientMax < 1) return 'completedRequestsPerClientMax must be at least 1';
  return undefined;
}
