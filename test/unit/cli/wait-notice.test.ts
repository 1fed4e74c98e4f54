import { PassThrough } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { waitNotice } from '../../../src/cli/progress.js';
import { parsePositiveSeconds } from '../../../src/cli/commands/client-options.js';
import type { RetryWait } from '../../../src/actors/gfs/client/client.js';

function terminal(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(s, { isTTY });
  return { stream: s, text: () => out };
}

const leaseWait: RetryWait = { op: 'write', path: '/f', chunkIndex: 2, code: 'lease_unavailable', message: 'retry in 41000 ms', waitMs: 41_001, elapsedMs: 1_500, timeoutMs: 72_000 };

describe('progress while a write waits out a failed primary\'s lease (issue 14: --timeout, progress on a terminal)', () => {
  it('says on a terminal what it waits for, how long, and how much of the deadline is used', () => {
    const t = terminal(true);
    waitNotice(true, t.stream)(leaseWait);
    expect(t.text()).toContain('write to chunk 2 of /f');
    expect(t.text()).toContain('lease of a failed primary');
    expect(t.text()).toContain('next attempt in 41.0 s (1.5 s of 72.0 s used; --timeout changes it)');
  });

  it('prints nothing for quick backoffs, off a terminal, or with --json', () => {
    const t = terminal(true);
    waitNotice(true, t.stream)({ ...leaseWait, code: 'chunkserver_failed', waitMs: 200 });
    expect(t.text()).toBe('');
    const pipe = terminal(false);
    waitNotice(true, pipe.stream)(leaseWait);
    expect(pipe.text()).toBe('');
    const json = terminal(true);
    waitNotice(false, json.stream)(leaseWait);
    expect(json.text()).toBe('');
  });

  it('--timeout takes a positive number of seconds', () => {
    expect(parsePositiveSeconds('90')).toBe(90);
    expect(parsePositiveSeconds('0.5')).toBe(0.5);
    expect(() => parsePositiveSeconds('0')).toThrow(InvalidArgumentError);
    expect(() => parsePositiveSeconds('soon')).toThrow(/positive number of seconds/);
  });
});
