/**
 * libuv's thread pool runs every file-system call of the process — of all its worker threads
 * together — and has 4 threads by default. A one-node cluster's chunkservers keep many writes and
 * fdatasyncs in flight at once (each fdatasync holds a pool thread for the whole device flush), so
 * with 4 threads they queue behind each other instead of reaching the disk together (measured with
 * `dist/bench/gfs-stages.js`: 16 clients writing 4 MiB each, a secondary's apply-and-sync p50 went
 * from 1.2 s to 0.64 s on a loaded machine with 64 threads). libuv reads the size once, when the
 * pool first starts: import this module before anything else in a process's entry point. An
 * explicit `UV_THREADPOOL_SIZE` in the environment wins.
 */
export const THREADPOOL_SIZE_DEFAULT = 32;

if (process.env['UV_THREADPOOL_SIZE'] === undefined || process.env['UV_THREADPOOL_SIZE'] === '') process.env['UV_THREADPOOL_SIZE'] = String(THREADPOOL_SIZE_DEFAULT);
