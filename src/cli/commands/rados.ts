import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { ActorRef } from '../../runtime/ref.js';
import { CLUSTER_NODE } from '../../cluster/local-cluster.js';
import { monRefs } from '../../cluster/ceph-cluster.js';
import { cephLayoutOf, loadSpec } from '../../cluster/spec.js';
import type { MonitorMsg } from '../../actors/rados/monitor/protocol.js';
import { RadosClient, type IoCtx, type ObjResult } from '../../actors/rados/client/client.js';
import type { ObjectError } from '../../actors/rados/errors.js';
import { ExitCode, type Register } from '../program.js';
import { progress } from '../progress.js';
import { addClientFlags, parseBytes, parsePositiveInt, withCluster, type ClientFlags } from './client-options.js';
import { runRadosBench, formatBenchLine, formatBenchSummary, type BenchMode } from './rados-bench.js';

/**
 * `troupe rados …`: object commands in the manner of Ceph's `rados` tool — `-p POOL put|get|append|
 * rm|stat|ls|setxattr|getxattr|listxattr`, `df`, and `bench`. `-` means stdin for put and append and
 * stdout for get. Data goes between this process and the OSDs; the monitors only give the map.
 * Exit codes: 1 when the cluster refuses (not_found, exists, no_pool, canceled, full,
 * invalid_argument), 3 when it does not answer in time (timeout, interrupted) or refuses our
 * credentials (auth_failed: a wrong cluster secret), 2 for bad arguments.
 */
type RadosFlags = ClientFlags & { pool?: string };

/** The size of each op of `put`/`get` (Ceph `rados` uses 4 MiB ops). */
const OP_BYTES = 4 * 1024 * 1024;
const PUT_WINDOW = 4;

class RadosCommandError extends Error {
  constructor(readonly error: ObjectError) {
    super(`${error.code}: ${error.message}`);
  }
}

function exitCodeOf(e: ObjectError): number {
  return e.code === 'timeout' || e.code === 'interrupted' || e.code === 'auth_failed' ? ExitCode.unavailable : ExitCode.failure;
}

function unwrap<T>(r: ObjResult<T>): T {
  if (r.ok) return r.value;
  throw new RadosCommandError(r.error);
}

function monitorsOf(flags: RadosFlags): ActorRef<MonitorMsg>[] {
  return flags.config === undefined ? monRefs(CLUSTER_NODE) : cephLayoutOf(loadSpec(flags.config)).monitors;
}

function out(flags: RadosFlags, value: unknown, text: () => string): void {
  process.stdout.write(flags.json === true ? `${JSON.stringify(value)}\n` : text());
}

async function run(flags: RadosFlags, needPool: boolean, fn: (client: RadosClient, io: IoCtx | undefined) => Promise<void>): Promise<void> {
  if (needPool && flags.pool === undefined) {
    process.stderr.write('troupe: rados: a pool is needed (-p POOL)\n');
    process.exitCode = ExitCode.usage;
    return;
  }
  await withCluster(flags, async (conn) => {
    const c = await RadosClient.connect({ system: conn.node.system, monitors: monitorsOf(flags), name: `cli.${conn.node.node}.${process.pid}`, config: flags.timeout === undefined ? {} : { opTimeoutMs: Math.round(flags.timeout * 1000) } });
    if (!c.ok) {
      const hint = c.error.code === 'auth_failed' ? '; check --secret-file (default <data-dir>/secret) or TROUPE_SECRET' : '';
      process.stderr.write(`troupe: ${c.error.code}: ${c.error.message}${hint}\n`);
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ ok: false, code: c.error.code, message: c.error.message })}\n`);
      process.exitCode = ExitCode.unavailable;
      return;
    }
    const client = c.value;
    try {
      if (needPool && client.poolId(flags.pool as string) === undefined) throw new RadosCommandError({ code: 'no_pool', message: `pool '${flags.pool}' does not exist (troupe ceph osd pool ls)` });
      await fn(client, flags.pool === undefined ? undefined : client.pool(flags.pool));
    } catch (err) {
      if (!(err instanceof RadosCommandError)) throw err;
      process.stderr.write(`troupe: ${err.message}\n`);
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ ok: false, code: err.error.code, message: err.error.message })}\n`);
      process.exitCode = exitCodeOf(err.error);
    } finally {
      client.close();
    }
  });
}

async function* chunks(src: NodeJS.ReadableStream, size: number): AsyncGenerator<Uint8Array> {
  let buf: Buffer[] = [];
  let n = 0;
  for await (const piece of src as AsyncIterable<Buffer>) {
    buf.push(piece);
    n += piece.length;
    while (n >= size) {
      const all = Buffer.concat(buf);
      yield new Uint8Array(all.subarray(0, size));
      buf = [all.subarray(size)];
      n -= size;
    }
  }
  if (n > 0) yield new Uint8Array(Buffer.concat(buf));
}

function write(o: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (o.write(data, (e) => (e ? reject(e) : undefined))) resolve();
    else o.once('drain', resolve);
  });
}

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function parseBenchMode(v: string): BenchMode {
  if (v !== 'write' && v !== 'seq' && v !== 'rand') throw new InvalidArgumentError(`a bench mode is write, seq or rand, got '${v}'`);
  return v;
}

export const registerRados: Register = (program: Command) => {
  const rados = program
    .command('rados')
    .description('RADOS object commands, as Ceph\'s `rados` tool (put, get, append, rm, stat, ls, xattrs, df, bench)')
    .option('-p, --pool <pool>', 'the pool (before or after the command, as `rados -p POOL put …`)');
  const cmd = (spec: string, description: string): Command => addClientFlags(rados.command(spec).description(description)).option('-p, --pool <pool>', 'the pool');
  const flagsOf = (c: Command): RadosFlags => c.optsWithGlobals<RadosFlags>();

  cmd('put <object> <file>', 'write a local file (or - for stdin) as the whole object').action(async (oid: string, file: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      const bar = progress(`put ${oid}`, file === '-' ? undefined : statSync(file).size, o.json !== true);
      let offset = 0;
      // The first op replaces the object; later ones write at their offsets, PUT_WINDOW in flight (as `rados put` with --op-size).
      const window: Promise<ObjResult<unknown>>[] = [];
      try {
        for await (const piece of chunks(file === '-' ? process.stdin : createReadStream(file, { highWaterMark: OP_BYTES }), OP_BYTES)) {
          if (offset === 0) unwrap(await io!.writeFull(oid, piece).commit);
          else {
            window.push(io!.write(oid, piece, offset).commit);
            if (window.length >= PUT_WINDOW) unwrap(await window.shift()!);
          }
          offset += piece.length;
          bar.add(piece.length);
        }
        for (const w of window.splice(0)) unwrap(await w);
        if (offset === 0) unwrap(await io!.writeFull(oid, new Uint8Array(0)).commit);
      } finally {
        bar.stop();
      }
      if (o.json === true) out(o, { ok: true, object: oid, bytes: offset }, () => '');
    });
  });

  cmd('get <object> <file>', 'read the object into a local file (or - for stdout)').action(async (oid: string, file: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      const st = unwrap(await io!.stat(oid));
      const toStdout = file === '-';
      const dst = toStdout ? process.stdout : createWriteStream(file);
      for (let off = 0; off < st.sizeBytes; off += OP_BYTES) await write(dst, unwrap(await io!.read(oid, off, Math.min(OP_BYTES, st.sizeBytes - off))));
      if (!toStdout) await new Promise<void>((resolve, reject) => (dst as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? reject(e) : resolve())));
    });
  });

  cmd('append <object> <file>', 'append a local file (or - for stdin) to the object').action(async (oid: string, file: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      let bytes = 0;
      for await (const piece of chunks(file === '-' ? process.stdin : createReadStream(file, { highWaterMark: OP_BYTES }), OP_BYTES)) {
        unwrap(await io!.append(oid, piece).commit);
        bytes += piece.length;
      }
      if (o.json === true) out(o, { ok: true, object: oid, bytes }, () => '');
    });
  });

  cmd('rm <object>', 'remove the object').action(async (oid: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      unwrap(await io!.remove(oid).commit);
      if (o.json === true) out(o, { ok: true, object: oid }, () => '');
    });
  });

  cmd('stat <object>', 'size and version of the object').action(async (oid: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      const st = unwrap(await io!.stat(oid));
      out(o, { pool: o.pool, object: oid, size: st.sizeBytes, version: st.version }, () => `${o.pool}/${oid} size ${st.sizeBytes} version ${st.version}\n`);
    });
  });

  cmd('ls', 'list the objects of the pool').action(async (_o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      const all: string[] = [];
      let cursor: { ps: number; after: string } | undefined = { ps: 0, after: '' };
      while (cursor !== undefined) {
        const page: { oids: string[]; next: { ps: number; after: string } | undefined } = unwrap(await io!.list(cursor, 1_000));
        if (o.json !== true) for (const name of page.oids) process.stdout.write(`${name}\n`);
        all.push(...page.oids);
        cursor = page.next;
      }
      if (o.json === true) out(o, all, () => '');
    });
  });

  cmd('setxattr <object> <name> <value>', 'set an extended attribute').action(async (oid: string, name: string, value: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      unwrap(await io!.setxattr(oid, name, new TextEncoder().encode(value)).commit);
      if (o.json === true) out(o, { ok: true }, () => '');
    });
  });

  cmd('getxattr <object> <name>', 'print an extended attribute').action(async (oid: string, name: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      const v = unwrap(await io!.getxattr(oid, name));
      out(o, { object: oid, name, value: dec(v) }, () => `${dec(v)}\n`);
    });
  });

  cmd('listxattr <object>', 'list the extended attributes').action(async (oid: string, _o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, true, async (_client, io) => {
      const m = unwrap(await io!.getxattrs(oid));
      out(o, Object.fromEntries([...m].map(([k, v]) => [k, dec(v)])), () => [...m.keys()].sort().map((k) => `${k}\n`).join(''));
    });
  });

  cmd('df', 'objects and bytes per pool').action(async (_o: RadosFlags, c: Command) => {
    const o = flagsOf(c);
    await run(o, false, async (client) => {
      const rows: { pool: string; id: number; objects: number; bytes: number }[] = [];
      for (const pool of client.osdMap.pools) {
        const io = client.pool(pool.name);
        let objects = 0;
        let bytes = 0;
        let cursor: { ps: number; after: string } | undefined = { ps: 0, after: '' };
        while (cursor !== undefined) {
          const page: { oids: string[]; next: { ps: number; after: string } | undefined } = unwrap(await io.list(cursor, 1_000));
          for (const oid of page.oids) {
            const st = await io.stat(oid);
            if (st.ok) {
              objects++;
              bytes += st.value.sizeBytes;
            }
          }
          cursor = page.next;
        }
        rows.push({ pool: pool.name, id: pool.id, objects, bytes });
      }
      out(o, { pools: rows, total: { objects: rows.reduce((n, r) => n + r.objects, 0), bytes: rows.reduce((n, r) => n + r.bytes, 0) } }, () =>
        ['POOL_NAME  ID  OBJECTS  USED', ...rows.map((r) => `${r.pool.padEnd(10)} ${String(r.id).padStart(3)} ${String(r.objects).padStart(8)}  ${r.bytes}`), `total_objects ${rows.reduce((n, r) => n + r.objects, 0)}`, `total_used ${rows.reduce((n, r) => n + r.bytes, 0)}`, ''].join('\n'),
      );
    });
  });

  cmd('bench <seconds> <mode>', 'benchmark: write, seq or rand (as `rados bench`)')
    .option('-b, --block-size <size>', 'object size for write (bytes, KiB, MiB)', parseBytes, 4 * 1024 * 1024)
    .option('-t, --concurrent-ios <n>', 'operations in flight', parsePositiveInt, 16)
    .option('--no-cleanup', 'keep the benchmark objects after a write run')
    .action(async (seconds: string, mode: string, _o: RadosFlags, c: Command) => {
      const o = flagsOf(c) as RadosFlags & { blockSize: number; concurrentIos: number; cleanup: boolean };
      const secs = Number(seconds);
      if (!Number.isFinite(secs) || secs <= 0) {
        process.stderr.write(`troupe: seconds must be a positive number, got '${seconds}'\n`);
        process.exitCode = ExitCode.usage;
        return;
      }
      let m: BenchMode;
      try {
        m = parseBenchMode(mode);
      } catch (err) {
        process.stderr.write(`troupe: ${(err as Error).message}\n`);
        process.exitCode = ExitCode.usage;
        return;
      }
      await run(o, true, async (_client, io) => {
        const r = await runRadosBench(io!, { seconds: secs, mode: m, blockSizeBytes: o.blockSize, concurrency: o.concurrentIos, cleanup: o.cleanup, now: () => performance.now(), onSecond: (line) => { if (o.json !== true) process.stdout.write(formatBenchLine(line)); } });
        if (r.error !== undefined) throw new RadosCommandError(r.error);
        out(o, r, () => formatBenchSummary(r));
      });
    });
};
