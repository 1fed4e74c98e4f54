import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progress } from '../../../src/cli/progress.js';

function terminal(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(s, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: s, text: () => out };
}

describe('transfer progress bars (issue 7: MB/s for put and get, off when not a TTY)', () => {
  it('shows bytes done of the total in MB and a rate on a terminal', () => {
    const t = terminal(true);
    const bar = progress('put /big', 30_000_000, true, t.stream);
    bar.add(15_000_000);
    bar.add(15_000_000);
    bar.stop();
    expect(t.text()).toContain('put /big');
    expect(t.text()).toContain('30.0/30.0 MB');
    expect(t.text()).toMatch(/\d+\.\d MB\/s/);
  });

  it('prints nothing when the output is not a terminal (pipes and scripts stay clean)', () => {
    const t = terminal(false);
    const bar = progress('get /big', 1_000, true, t.stream);
    bar.add(1_000);
    bar.stop();
    expect(t.text()).toBe('');
  });
});
