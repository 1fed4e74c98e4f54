/**
 * `troupe trace` (src/cluster/trace.ts): one request's entries from many log files, in time order,
 * and nothing else.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatTraceEntry, logFilesIn, parseLogLine, readMatchingLines, traceOf } from '../../../src/cluster/trace.js';
import { newRequestId } from '../../../src/cluster/connect.js';

const line = (o: Record<string, unknown>): string => JSON.stringify(o);

const client = {
  file: 'clients.log',
  lines: [
    line({ level: 'info', time: 100, node: 'cli-1', actor: 'client', rid: 'R1', op: 'write', msg: 'client write' }),
    line({ level: 'info', time: 150, node: 'cli-1', actor: 'client', rid: 'R2', op: 'stat', msg: 'client stat' }),
    line({ level: 'info', time: 190, node: 'cli-1', actor: 'client', rid: 'R1', op: 'write', durationMs: 90, msg: 'client write done' }),
  ],
};
const master = {
  file: 'rpc-troupe.log',
  lines: [
    line({ level: 'info', time: 110, node: 'troupe', actor: 'master', stream: 'rpc', rid: 'R1', outcome: 'ok', msg: 'gfs.master.findLeaseHolder' }),
    'not json at all',
    line({ level: 'info', time: 120, node: 'troupe', actor: 'master', stream: 'rpc', msg: 'gfs.master.stat', args: 'mentions R1 but is not its request' }),
  ],
};
const chunkserver = {
  file: 'rpc-troupe-w0.log',
  lines: [
    line({ level: 30, time: 130, node: 'troupe/w0', actor: 'cs0', rid: 'R1', msg: 'gfs.chunkserver.pushData' }),
    line({ level: 'warn', time: 110, node: 'troupe/w0', actor: 'cs1', rid: 'R1', msg: 'same time as the master entry' }),
    line({ level: 'info', time: 140, node: 'troupe/w0', actor: 'cs0', rid: 'R10', msg: 'another request whose id starts alike' }),
  ],
};

describe('trace reconstruction', () => {
  it('merges the entries of one request from every file in time order', () => {
    const got = traceOf('R1', [client, master, chunkserver]);
    expect(got.map((e) => [e.time, e.actor, e.msg])).toEqual([
      [100, 'client', 'client write'],
      [110, 'master', 'gfs.master.findLeaseHolder'],
      [110, 'cs1', 'same time as the master entry'],
      [130, 'cs0', 'gfs.chunkserver.pushData'],
      [190, 'client', 'client write done'],
    ]);
  });

  it('leaves out other requests, lines that only mention the id, and lines that are not log entries', () => {
    const got = traceOf('R1', [client, master, chunkserver]);
    expect(got.some((e) => e.msg === 'gfs.master.stat')).toBe(false);
    expect(got.some((e) => e.msg.startsWith('another request'))).toBe(false);
    expect(traceOf('R2', [client, master, chunkserver]).map((e) => e.msg)).toEqual(['client stat']);
    expect(traceOf('nobody', [client, master, chunkserver])).toEqual([]);
    expect(parseLogLine('not json at all', 'f')).toBeUndefined();
    expect(parseLogLine('[1,2]', 'f')).toBeUndefined();
  });

  it('keeps each entry\'s source, level (pino numbers too) and fields', () => {
    const got = traceOf('R1', [client, master, chunkserver]);
    const cs0 = got.find((e) => e.actor === 'cs0');
    expect(cs0).toMatchObject({ node: 'troupe/w0', level: 'info', file: 'rpc-troupe-w0.log' });
    const m = got.find((e) => e.actor === 'master');
    expect(m?.stream).toBe('rpc');
    expect(m?.fields).toEqual({ outcome: 'ok' });
    const text = formatTraceEntry(got[4] as (typeof got)[number]);
    expect(text).toContain(new Date(190).toISOString());
    expect(text).toMatch(/cli-1\s+client\s+info\s+client write done {2}op=write durationMs=90/);
  });

  it('orders entries of one millisecond by their fraction (log times have microseconds) and prints it', () => {
    const got = traceOf('R3', [
      { file: 'clients.log', lines: [line({ level: 'info', time: 200.01, node: 'cli-1', actor: 'client', rid: 'R3', msg: 'client write' }), line({ level: 'info', time: 200.9, node: 'cli-1', actor: 'client', rid: 'R3', msg: 'client write done' })] },
      { file: 'rpc-troupe.log', lines: [line({ level: 'info', time: 200.456, node: 'troupe', actor: 'master', stream: 'rpc', rid: 'R3', msg: 'gfs.master.reportLength' })] },
    ]);
    expect(got.map((e) => e.msg)).toEqual(['client write', 'gfs.master.reportLength', 'client write done']);
    expect(formatTraceEntry(got[1] as (typeof got)[number])).toContain('1970-01-01T00:00:00.200456Z');
  });

  const root = mkdtempSync(join(tmpdir(), 'troupe-trace-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the log files of a data directory, of a directory of collected logs, and rotated ones', async () => {
    const data = join(root, 'data');
    mkdirSync(join(data, 'logs'), { recursive: true });
    writeFileSync(join(data, 'logs', 'troupe.log'), `${chunkserver.lines.join('\n')}\n`);
    writeFileSync(join(data, 'logs', 'troupe.log.1'), '');
    writeFileSync(join(data, 'logs', 'notes.txt'), 'R1');
    const collected = join(root, 'host-b');
    mkdirSync(collected);
    writeFileSync(join(collected, 'clients.log'), `${client.lines.join('\n')}\n`);
    expect(logFilesIn(data).map((f) => f.slice(root.length))).toEqual(['/data/logs/troupe.log', '/data/logs/troupe.log.1']);
    expect(logFilesIn(collected).map((f) => f.slice(root.length))).toEqual(['/host-b/clients.log']);
    expect(logFilesIn(join(root, 'missing'))).toEqual([]);
    const files = [...logFilesIn(data), ...logFilesIn(collected)];
    const sources = await Promise.all(files.map(async (file) => ({ file, lines: await readMatchingLines(file, 'R1') })));
    expect(traceOf('R1', sources).map((e) => e.time)).toEqual([100, 110, 130, 190]);
  });
});

describe('request ids', () => {
  it('are letters and digits only, so `troupe trace <id>` never reads one as an option', () => {
    for (let i = 0; i < 2_000; i++) expect(newRequestId()).toMatch(/^[0-9A-Za-z]{21}$/);
  });
});
