import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('examples/placement (README: an actor system across 2 worker threads and 2 processes)', () => {
  it('runs, and 1,000 messages cross both processes and four threads in order', async () => {
    const script = fileURLToPath(new URL('./main.mjs', import.meta.url));
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    expect(out).toContain('count = 1000, in order = true');
    expect(out).toContain('path of the last message: alpha -> alpha/w1 -> beta/w0 -> beta -> beta/w1 -> alpha/w0');
  });
});
