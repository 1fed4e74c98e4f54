/**
 * `rados bench` over the object client: `write` keeps `concurrency` writes of `blockSizeBytes`
 * objects in flight for `seconds` (each waits for its commit, as `rados bench` does), `seq` reads
 * those objects back in order and `rand` at random, for at most `seconds`. Prints what Ceph's tool
 * prints: a line per second, then totals, bandwidth, IOPS and latencies. The bench suite `rados`
 * calls it too.
 */
import type { IoCtx } from '../../actors/rados/client/client.js';
import type { ObjectError } from '../../actors/rados/errors.js';

export type BenchMode = 'write' | 'seq' | 'rand';

export interface BenchOptions {
  readonly seconds: number;
  readonly mode: BenchMode;
  readonly blockSizeBytes: number;
  readonly concurrency: number;
  readonly cleanup: boolean;
  /** Milliseconds, monotonic. */
  readonly now: () => number;
  readonly onSecond?: (line: BenchSecond) => void;
  /** Object name prefix (default: benchmark_data_<pid>). */
  readonly prefix?: string;
}

export interface BenchSecond {
  readonly sec: number;
  readonly curOps: number;
  readonly started: number;
  readonly finished: number;
  readonly avgMBps: number;
  readonly curMBps: number;
  readonly lastLatS: number;
  readonly avgLatS: number;
}

export interface BenchResult {
  readonly mode: BenchMode;
  readonly totalTimeS: number;
  readonly ops: number;
  readonly opSizeBytes: number;
  readonly bandwidthMBps: number;
  readonly bytesPerSec: number;
  readonly stddevBandwidthMBps: number;
  readonly maxBandwidthMBps: number;
  readonly minBandwidthMBps: number;
  readonly iops: number;
  readonly stddevIops: number;
  readonly maxIops: number;
  readonly minIops: number;
  readonly avgLatencyS: number;
  readonly stddevLatencyS: number;
  readonly maxLatencyS: number;
  readonly minLatencyS: number;
  readonly p50LatencyS: number;
  readonly p99LatencyS: number;
  readonly error?: ObjectError;
}

const METADATA_OBJECT = 'benchmark_last_metadata';
const MB = 1024 * 1024;

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const stddev = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const pct = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);

export async function runRadosBench(io: IoCtx, o: BenchOptions): Promise<BenchResult> {
  let prefix = o.prefix ?? `benchmark_data_${process.pid}`;
  let objects = 0;
  let size = o.blockSizeBytes;
  if (o.mode !== 'write') {
    const meta = await io.read(METADATA_OBJECT);
    if (!meta.ok) return failed(o, size, { code: 'not_found', message: 'no benchmark objects: run `rados bench SECONDS write --no-cleanup` first' });
    const m = JSON.parse(new TextDecoder().decode(meta.value)) as { prefix: string; objects: number; objectSize: number };
    prefix = m.prefix;
    objects = m.objects;
    size = m.objectSize;
    if (objects === 0) return failed(o, size, { code: 'not_found', message: 'the last write bench left no objects' });
  }
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
  const start = o.now();
  const deadline = start + o.seconds * 1000;
  const lat: number[] = [];
  const perSecond: number[] = [];
  let started = 0;
  let finished = 0;
  let inFlight = 0;
  let lastLat = 0;
  let error: ObjectError | undefined;
  let nextSec = 1;
  let finishedAtLastSec = 0;
  const tickSecond = (): void => {
    while (o.now() - start >= nextSec * 1000) {
      const cur = finished - finishedAtLastSec;
      finishedAtLastSec = finished;
      perSecond.push(cur);
      o.onSecond?.({ sec: nextSec, curOps: inFlight, started, finished, avgMBps: (finished * size) / MB / nextSec, curMBps: (cur * size) / MB, lastLatS: lastLat / 1000, avgLatS: mean(lat) / 1000 });
      nextSec++;
    }
  };
  let seq = 0;
  const worker = async (w: number): Promise<void> => {
    let r = w * 7919 + 17;
    while (error === undefined && o.now() < deadline) {
      if (o.mode === 'seq' && seq >= objects) return;
      const n = o.mode === 'write' ? started : o.mode === 'seq' ? seq++ : (r = (r * 1103515245 + 12345) & 0x7fffffff) % objects;
      started++;
      inFlight++;
      const t0 = o.now();
      const name = `${prefix}_object${n}`;
      const res = o.mode === 'write' ? await io.writeFull(name, data).commit : await io.read(name);
      inFlight--;
      if (!res.ok) {
        error = res.error;
        return;
      }
      lastLat = o.now() - t0;
      lat.push(lastLat);
      finished++;
      if (o.mode === 'write') objects = Math.max(objects, n + 1);
      tickSecond();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, i) => worker(i)));
  tickSecond();
  const totalS = (o.now() - start) / 1000;
  if (o.mode === 'write') {
    if (o.cleanup) {
      for (let i = 0; i < objects; i += o.concurrency) await Promise.all(Array.from({ length: Math.min(o.concurrency, objects - i) }, (_, k) => io.remove(`${prefix}_object${i + k}`).commit));
      await io.remove(METADATA_OBJECT).commit;
    } else {
      await io.writeFull(METADATA_OBJECT, new TextEncoder().encode(JSON.stringify({ prefix, objects, objectSize: size }))).commit;
    }
  }
  const sorted = [...lat].sort((a, b) => a - b);
  const bw = perSecond.map((n) => (n * size) / MB);
  return {
    mode: o.mode,
    totalTimeS: totalS,
    ops: finished,
    opSizeBytes: size,
    bandwidthMBps: totalS > 0 ? (finished * size) / MB / totalS : 0,
    bytesPerSec: totalS > 0 ? (finished * size) / totalS : 0,
    stddevBandwidthMBps: stddev(bw),
    maxBandwidthMBps: bw.length === 0 ? 0 : Math.max(...bw),
    minBandwidthMBps: bw.length === 0 ? 0 : Math.min(...bw),
    iops: totalS > 0 ? finished / totalS : 0,
    stddevIops: stddev(perSecond),
    maxIops: perSecond.length === 0 ? 0 : Math.max(...perSecond),
    minIops: perSecond.length === 0 ? 0 : Math.min(...perSecond),
    avgLatencyS: mean(lat) / 1000,
    stddevLatencyS: stddev(lat) / 1000,
    maxLatencyS: (sorted.at(-1) ?? 0) / 1000,
    minLatencyS: (sorted[0] ?? 0) / 1000,
    p50LatencyS: pct(sorted, 0.5) / 1000,
    p99LatencyS: pct(sorted, 0.99) / 1000,
    ...(error === undefined ? {} : { error }),
  };
}

function failed(o: BenchOptions, size: number, error: ObjectError): BenchResult {
  return { mode: o.mode, totalTimeS: 0, ops: 0, opSizeBytes: size, bandwidthMBps: 0, bytesPerSec: 0, stddevBandwidthMBps: 0, maxBandwidthMBps: 0, minBandwidthMBps: 0, iops: 0, stddevIops: 0, maxIops: 0, minIops: 0, avgLatencyS: 0, stddevLatencyS: 0, maxLatencyS: 0, minLatencyS: 0, p50LatencyS: 0, p99LatencyS: 0, error };
}

export function formatBenchLine(l: BenchSecond): string {
  const head = l.sec === 1 ? '  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)\n' : '';
  return `${head}${String(l.sec).padStart(5)} ${String(l.curOps).padStart(7)} ${String(l.started).padStart(9)} ${String(l.finished).padStart(9)} ${l.avgMBps.toFixed(3).padStart(9)} ${l.curMBps.toFixed(0).padStart(9)} ${l.lastLatS.toFixed(6).padStart(11)} ${l.avgLatS.toFixed(6).padStart(11)}\n`;
}

export function formatBenchSummary(r: BenchResult): string {
  const w = r.mode === 'write';
  const rows: [string, string][] = [
    ['Total time run:', r.totalTimeS.toFixed(4)],
    [w ? 'Total writes made:' : 'Total reads made:', String(r.ops)],
    [w ? 'Write size:' : 'Read size:', String(r.opSizeBytes)],
    ['Object size:', String(r.opSizeBytes)],
    ['Bandwidth (MB/sec):', r.bandwidthMBps.toFixed(3)],
    ...(w
      ? ([
          ['Stddev Bandwidth:', r.stddevBandwidthMBps.toFixed(3)],
          ['Max bandwidth (MB/sec):', r.maxBandwidthMBps.toFixed(0)],
          ['Min bandwidth (MB/sec):', r.minBandwidthMBps.toFixed(0)],
        ] as [string, string][])
      : []),
    ['Average IOPS:', r.iops.toFixed(0)],
    ['Stddev IOPS:', r.stddevIops.toFixed(5)],
    ['Max IOPS:', String(r.maxIops)],
    ['Min IOPS:', String(r.minIops)],
    ['Average Latency(s):', r.avgLatencyS.toFixed(6)],
    ...(w ? ([['Stddev Latency(s):', r.stddevLatencyS.toFixed(6)]] as [string, string][]) : []),
    ['Max latency(s):', r.maxLatencyS.toFixed(6)],
    ['Min latency(s):', r.minLatencyS.toFixed(6)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(24)}${v}\n`).join('');
}
