import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { progress } from '../progress.js';
import type { Command } from 'commander';
import { GfsClientError } from '../../actors/gfs/client/client.js';
import type { FileInfo } from '../../actors/gfs/protocol.js';
import type { Register } from '../program.js';
import { addClientFlags, withCluster, type ClientFlags } from './client-options.js';

/**
 * `troupe fs …`: file commands in the manner of `hdfs dfs` — `-` means stdin for put and append,
 * stdout for get and cat. Data goes between this process and the chunkservers; the master only
 * answers where (patent ¶82).
 */
const PIECE_BYTES = 4 * 1024 * 1024;
/** Writes `put` keeps in flight (4 MiB each). */
const PUT_WRITES_IN_FLIGHT = 4;

export const registerFs: Register = (program: Command) => {
  const fs = program.command('fs').description('file commands (ls, mkdir, put, get, cat, rm, undelete, mv, snapshot, append, stat)');
  const cmd = (spec: string, description: string): Command => addClientFlags(fs.command(spec).description(description));
  const print = (flags: ClientFlags, value: unknown, text: () => string): void => {
    process.stdout.write(flags.json === true ? `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n` : text());
  };

  cmd('ls [path]', 'list a directory (or describe a file)').option('-d, --deleted', 'include deleted (hidden) entries').action(async (path: string | undefined, o: ClientFlags & { deleted?: boolean }) => {
    await withCluster(o, async ({ client }) => {
      const entries = await client.list(path ?? '/', { includeDeleted: o.deleted === true });
      print(o, entries, () => entries.map(formatEntry).join(''));
    });
  });
  cmd('mkdir <path>', 'make a directory').option('-p, --parents', 'make missing parent directories too').action(async (path: string, o: ClientFlags & { parents?: boolean }) => {
    await withCluster(o, async ({ client }) => {
      await (o.parents === true ? client.mkdirs(path) : client.mkdir(path));
      print(o, { ok: true, path }, () => '');
    });
  });
  cmd('put <local> <remote>', 'copy a local file (or - for stdin) into a new file').action(async (local: string, remote: string, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      await client.create(remote);
      let offset = 0;
      const bar = progress(`put ${remote}`, local === '-' ? undefined : statSync(local).size, o.json !== true);
      // Pipelined: up to PUT_WRITES_IN_FLIGHT writes at once, so the chunkservers write and sync
      // one piece while the next ones are read and pushed (the pieces do not overlap, so the file
      // is the same as with one write at a time). The first failure stops the copy.
      const inFlight = new Set<Promise<void>>();
      let failure: { error: unknown } | undefined;
      for await (const piece of pieces(local === '-' ? process.stdin : createReadStream(local, { highWaterMark: PIECE_BYTES }))) {
        if (failure !== undefined) break;
        const at = offset;
        const w: Promise<void> = client.write(remote, at, piece).then(
          () => {
            inFlight.delete(w);
            bar.add(piece.length);
          },
          (error: unknown) => {
            inFlight.delete(w);
            failure ??= { error };
          },
        );
        inFlight.add(w);
        offset += piece.length;
        if (inFlight.size >= PUT_WRITES_IN_FLIGHT) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure.error;
      bar.stop();
      print(o, { ok: true, path: remote, bytes: offset }, () => `${remote}: ${offset} bytes\n`);
    });
  });
  const download = async (remote: string, local: string | undefined, o: ClientFlags, showProgress: boolean): Promise<void> => {
    await withCluster(o, async ({ client }) => {
      const toStdout = local === undefined || local === '-';
      const bar = progress(`get ${remote}`, (await client.stat(remote)).sizeBytes, showProgress && !toStdout && o.json !== true);
      const out = toStdout ? process.stdout : createWriteStream(local);
      for await (const piece of client.chunks(remote, PIECE_BYTES)) {
        await write(out, piece);
        bar.add(piece.length);
      }
      bar.stop();
      if (out !== process.stdout) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? reject(e) : resolve())));
    });
  };
  cmd('get <remote> [local]', 'copy a file to a local file (or - / nothing for stdout)').action((remote: string, local: string | undefined, o: ClientFlags) => download(remote, local, o, true));
  cmd('cat <remote>', 'print a file').action((remote: string, o: ClientFlags) => download(remote, undefined, o, false));
  cmd('tail <remote>', 'print the end of a file; with -f, keep printing what is appended (Ctrl-C stops)')
    .option('-f, --follow', 'follow the file as it grows')
    .option('-c, --bytes <n>', 'start this many bytes before the end', (v) => Number(v), 1024)
    .action(async (remote: string, o: ClientFlags & { follow?: boolean; bytes: number }) => {
      await withCluster(o, async ({ client }) => {
        // The end as the replicas say now (stat's size may lag a heartbeat report).
        const end = await client.size(remote);
        const from = Math.max(0, end - (Number.isFinite(o.bytes) && o.bytes >= 0 ? o.bytes : 1024));
        await write(process.stdout, await client.read(remote, from, end - from));
        if (o.follow !== true) return;
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        for await (const piece of client.follow(remote, { fromOffset: end, signal: stop.signal })) await write(process.stdout, piece);
      });
    });
  cmd('rm <path>', 'delete (hidden until reclaimed; undelete brings it back)').option('-r, --recursive', 'delete a directory and everything in it').action(async (path: string, o: ClientFlags & { recursive?: boolean }) => {
    await withCluster(o, async ({ client }) => {
      await client.delete(path, { recursive: o.recursive === true });
      print(o, { ok: true, path }, () => '');
    });
  });
  cmd('undelete <path>', 'restore a deleted file or directory').action(async (path: string, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      await client.undelete(path);
      print(o, { ok: true, path }, () => '');
    });
  });
  cmd('mv <from> <to>', 'rename').action(async (from: string, to: string, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      await client.rename(from, to);
      print(o, { ok: true, from, to }, () => '');
    });
  });
  cmd('snapshot <source> <target>', 'copy a file or directory tree instantly (copy-on-write)').action(async (source: string, target: string, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      await client.snapshot(source, target);
      print(o, { ok: true, source, target }, () => '');
    });
  });
  cmd('append <remote> <local>', 'record-append the contents of a local file (or - for stdin) as one record; prints its offset').action(async (remote: string, local: string, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      const chunks: Uint8Array[] = [];
      for await (const piece of pieces(local === '-' ? process.stdin : createReadStream(local))) chunks.push(piece);
      const record = Buffer.concat(chunks);
      // Like `hdfs dfs -appendToFile`: the file is created if it does not exist.
      await client.create(remote).catch((e: unknown) => {
        if (!(e instanceof GfsClientError && e.code === 'already_exists')) throw e;
      });
      const { offset } = await client.append(remote, record);
      print(o, { ok: true, path: remote, offset, bytes: record.length }, () => `${offset}\n`);
    });
  });
  cmd('stat <path>', 'describe a file or directory').action(async (path: string, o: ClientFlags) => {
    await withCluster(o, async ({ client }) => {
      const info = await client.stat(path);
      print(o, info, () => formatEntry(info));
    });
  });
};

function formatEntry(f: FileInfo): string {
  const kind = f.kind === 'dir' ? 'd' : '-';
  const size = f.kind === 'dir' ? '' : String(f.sizeBytes ?? 0);
  const deleted = f.deletedAt === undefined ? '' : `  (deleted ${new Date(f.deletedAt).toISOString()})`;
  return `${kind} ${size.padStart(12)}  ${f.path}${deleted}\n`;
}

/** Re-chunks a byte stream into pieces of about PIECE_BYTES (each a bounded write to GFS). */
async function* pieces(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Uint8Array> {
  let buf: Buffer[] = [];
  let n = 0;
  for await (const part of stream) {
    const b = typeof part === 'string' ? Buffer.from(part) : part;
    buf.push(b);
    n += b.length;
    while (n >= PIECE_BYTES) {
      const all = Buffer.concat(buf);
      yield all.subarray(0, PIECE_BYTES);
      buf = [all.subarray(PIECE_BYTES)];
      n = all.length - PIECE_BYTES;
    }
  }
  if (n > 0) yield Buffer.concat(buf);
}

function write(out: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(data, (e) => (e ? reject(e) : undefined))) resolve();
    else out.once('drain', resolve);
  });
}

