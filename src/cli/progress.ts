import cliProgress from 'cli-progress';
import type { RetryWait } from '../actors/gfs/client/client.js';

/**
 * A transfer progress bar with MB/s on stderr (cli-progress), shown only on a terminal and
 * never with --json, so scripts and pipes see clean output.
 */
export interface Progress {
  add(bytes: number): void;
  stop(): void;
}

export function progress(label: string, totalBytes: number | undefined, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || stream.isTTY !== true) return { add: () => {}, stop: () => {} };
  const started = process.hrtime.bigint();
  let done = 0;
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {done}/{totalMb} MB | {speed} MB/s`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = totalBytes ?? 0;
  bar.start(Math.max(total, 1), 0, { done: '0.0', totalMb: totalBytes === undefined ? '?' : mb(total), speed: '0.0' });
  return {
    add(bytes) {
      done += bytes;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (total < done) bar.setTotal(done);
      bar.update(done, { done: mb(done), totalMb: totalBytes === undefined ? '?' : mb(Math.max(total, done)), speed: seconds > 0 ? mb(done / seconds) : '0.0' });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * Progress while a write or record append waits before retrying (`GfsClientOptions.onWait`): one
 * line on stderr per wait, on a terminal only — what failed, how long until the next attempt, and
 * how much of the deadline (`--timeout`) is used. Quick backoffs (under a second) print nothing.
 */
export function waitNotice(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): (w: RetryWait) => void {
  if (!enabled || stream.isTTY !== true) return () => {};
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  return (w) => {
    if (w.waitMs < 1_000) return;
    const why = w.code === 'lease_unavailable' ? 'waiting for the lease of a failed primary to end (¶90)' : `${w.code}`;
    stream.write(`troupe: ${w.op} to chunk ${w.chunkIndex} of ${w.path}: ${why}; next attempt in ${s(w.waitMs)} s (${s(w.elapsedMs)} s of ${s(w.timeoutMs)} s used; --timeout changes it)\n`);
  };
}
