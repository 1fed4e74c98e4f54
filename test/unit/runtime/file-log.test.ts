/**
 * The real environment's log files (runtime/node/file-log.ts): levels, the RPC stream kept apart,
 * the bounded buffer (entries past it are dropped and counted, never queued without limit), and
 * the flush on close that the clean shutdown relies on.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLog, logFileName } from '../../../src/runtime/node/file-log.js';
import { makeLog, type LogEntry } from '../../../src/runtime/log.js';

const root = mkdtempSync(join(tmpdir(), 'troupe-file-log-'));
let n = 0;
const freshDir = (): string => join(root, `d${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lines = (path: string): Array<Record<string, unknown>> =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const clock = { now: () => 1_700_000_000_000 };

describe('file log', () => {
  it('writes entries at or above its level as JSON lines, with node, actor, time and fields', async () => {
    const dir = freshDir();
    const f = new FileLog('n1', { dir, level: 'info', stderrLevel: false });
    const log = makeLog(f.logger, clock, 'n1', 'a1');
    log.debug('not written');
    log.info('hello', { rid: 'r-1', size: 3, handle: 10n });
    log.warn('careful');
    log.error('broken', { time: 'a field named like the line time' });
    await f.close();
    const got = lines(join(dir, 'n1.log'));
    expect(got.map((l) => l['msg'])).toEqual(['hello', 'careful', 'broken']);
    expect(got[0]).toMatchObject({ level: 'info', time: 1_700_000_000_000, node: 'n1', actor: 'a1', rid: 'r-1', size: 3, handle: '10' });
    expect(got.map((l) => l['level'])).toEqual(['info', 'warn', 'error']);
    // A field may not overwrite the line's own keys.
    expect(got[2]).toMatchObject({ time: 1_700_000_000_000, 'field.time': 'a field named like the line time' });
  });

  it('keeps RPC entries in their own file, whatever the level, stamped with the time the request arrived', async () => {
    const dir = freshDir();
    const f = new FileLog('host/w0', { dir, level: 'error', stderrLevel: false });
    const log = makeLog(f.logger, clock, 'host/w0', 'cs0');
    log.rpc('gfs.chunkserver.write', { rid: 'r-2', outcome: 'ok' }, 1_600_000_000_000);
    log.info('below the level');
    await f.close();
    expect(logFileName('host/w0')).toBe('host-w0.log');
    expect(lines(join(dir, 'rpc-host-w0.log'))).toEqual([{ level: 'info', time: 1_600_000_000_000, node: 'host/w0', actor: 'cs0', stream: 'rpc', rid: 'r-2', outcome: 'ok', msg: 'gfs.chunkserver.write' }]);
    expect(readFileSync(join(dir, 'host-w0.log'), 'utf8')).toBe('');
  });

  it('flushes every buffered entry on close', async () => {
    const dir = freshDir();
    const f = new FileLog('n', { dir, stderrLevel: false });
    const log = makeLog(f.logger, clock, 'n');
    for (let i = 0; i < 2_000; i++) log.info('entry', { i });
    await f.close();
    const got = lines(join(dir, 'n.log'));
    expect(got).toHaveLength(2_000);
    expect(got.map((l) => l['i'])).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
  });

  it('drops entries past its bounded buffer when the disk does not keep up, and reports how many', async () => {
    const dir = freshDir();
    const f = new FileLog('n', { dir, stderrLevel: false, bufferBytesMax: 2_048 });
    const log = makeLog(f.logger, clock, 'n');
    // All in one turn: no write can complete meanwhile, so the buffer fills and overflows.
    const total = 1_000;
    for (let i = 0; i < total; i++) log.info('entry', { i, pad: 'x'.repeat(40) });
    await f.close();
    const got = lines(join(dir, 'n.log'));
    const kept = got.filter((l) => l['msg'] === 'entry');
    const report = got.filter((l) => l['droppedEntries'] !== undefined);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(total);
    expect(report).toHaveLength(1);
    expect(report[0]?.['level']).toBe('warn');
    expect(kept.length + Number(report[0]?.['droppedEntries'])).toBe(total);
    // What was kept is the oldest entries, in order.
    expect(kept.map((l) => l['i'])).toEqual(Array.from({ length: kept.length }, (_, i) => i));
    expect(f.main.droppedTotal).toBe(total - kept.length);
  });

  it('reports dropped entries in the log itself once the buffer has room again', async () => {
    const dir = freshDir();
    const f = new FileLog('n', { dir, stderrLevel: false, bufferBytesMax: 1_024 });
    const log = makeLog(f.logger, clock, 'n');
    for (let i = 0; i < 200; i++) log.info('burst', { i });
    // Let the disk catch up, then log again: the count comes first.
    await new Promise((r) => setImmediate(r));
    await new Promise<void>((r) => {
      const poll = (): void => void (existsSync(join(dir, 'n.log')) && readFileSync(join(dir, 'n.log'), 'utf8').length > 0 ? r() : setImmediate(poll));
      poll();
    });
    await new Promise((r) => setTimeout(r, 50));
    log.info('after');
    await f.close();
    const got = lines(join(dir, 'n.log'));
    const after = got.findIndex((l) => l['msg'] === 'after');
    expect(after).toBeGreaterThan(0);
    const report = got.filter((l) => l['droppedEntries'] !== undefined);
    expect(report).toHaveLength(1);
    expect(got.filter((l) => l['msg'] === 'burst').length + Number(report[0]?.['droppedEntries'])).toBe(200);
  });

  it('rotates a file past its size cap to <file>.1', async () => {
    const dir = freshDir();
    const f = new FileLog('n', { dir, stderrLevel: false, fileBytesMax: 4_096 });
    const log = makeLog(f.logger, clock, 'n');
    // One entry per turn until the rename has happened (the file opens asynchronously, so the
    // first attempts may find nothing to rename yet; each later write tries again).
    for (let i = 0; i < 10_000 && !existsSync(join(dir, 'n.log.1')); i++) {
      log.info('first', { i, pad: 'y'.repeat(60) });
      await new Promise((r) => setTimeout(r, 1));
    }
    log.info('second');
    await f.close();
    expect(lines(join(dir, 'n.log.1')).every((l) => l['msg'] === 'first')).toBe(true);
    expect(lines(join(dir, 'n.log')).some((l) => l['msg'] === 'second')).toBe(true);
  });

  it('passes warnings and errors to stderr too, never RPC entries', async () => {
    const written: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stderr.write;
    const dir = freshDir();
    const f = new FileLog('n', { dir });
    try {
      const entries: LogEntry[] = [
        { level: 'info', time: 1, node: 'n', msg: 'quiet' },
        { level: 'warn', time: 2, node: 'n', msg: 'loud' },
        { level: 'info', time: 3, node: 'n', msg: 'rpc', stream: 'rpc' },
      ];
      for (const e of entries) f.logger(e);
    } finally {
      process.stderr.write = orig;
    }
    await f.close();
    expect(written.join('')).toContain('"loud"');
    expect(written.join('')).not.toContain('quiet');
    expect(written.join('')).not.toContain('"rpc"');
  });
});
