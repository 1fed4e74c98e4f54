import cliProgress from 'cli-progress';

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
