/**
 * MDS error codes (STYLE.md): POSIX-style, one per situation a file-system caller reacts to
 * differently (thesis §3.1: a near-POSIX interface). Replies carry them as values
 * (`{ ok: false, error }`); `throw` is for broken invariants only.
 */
export type MdsErrorCode =
  /** No such file or directory (a component or the final name). */
  | 'ENOENT'
  /** The name exists (mkdir, exclusive create, link, symlink). */
  | 'EEXIST'
  /** rmdir of a directory with entries, or rename over one. */
  | 'ENOTEMPTY'
  /** A malformed argument: relative path, `.`/`..` components, NUL, renaming a directory into its own subtree. */
  | 'EINVAL'
  /** A file operation on a directory (unlink, truncate, open for writing, rename a file over a directory). */
  | 'EISDIR'
  /** A path component that must be a directory is not one. */
  | 'ENOTDIR'
  /** A name longer than `nameBytesMax` or a path longer than `pathBytesMax`. */
  | 'ENAMETOOLONG'
  /** Too many symbolic links while resolving a path. */
  | 'ELOOP'
  /** A hard link to a directory, or a change the root does not allow. */
  | 'EPERM'
  /** rmdir or rename of the root. */
  | 'EBUSY'
  /** close of a file this client has not open (e.g. after an MDS restart): open it again. */
  | 'EBADF'
  /** A size past `fileSizeBytesMax`. */
  | 'EFBIG'
  /** A file with `linksMax` links. */
  | 'EMLINK'
  /** A limit of the MDS is reached (entries per directory, hard-linked files, sessions, open files). */
  | 'ENOSPC'
  /** The MDS is not active yet (replaying its journal): retry. */
  | 'EAGAIN'
  /** The object store failed or returned a damaged object; the change was not acknowledged. */
  | 'EIO'
  /** No answer from the MDS within the client's retries; a change may or may not have been applied. */
  | 'ETIMEDOUT';

export interface MdsError {
  readonly code: MdsErrorCode;
  readonly message: string;
}

export type MdsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: MdsError };

export function ok<T>(value: T): MdsResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: MdsErrorCode, message: string): MdsResult<T> {
  return { ok: false, error: { code, message } };
}

export function mdsError(code: MdsErrorCode, message: string): MdsError {
  return { code, message };
}

/** Codes a client retries with the same request id (the MDS may be restarting). */
export const RETRIED_MDS_ERRORS: ReadonlySet<MdsErrorCode> = new Set(['EAGAIN']);
