import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

function run(args: string[], opts: { killAfterFirstOutput?: NodeJS.Signals } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let signalled = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`troupe ${args.join(' ')} did not finish within 30 s; output so far:\n${out}${err}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (opts.killAfterFirstOutput !== undefined && !signalled && out.includes('Ctrl-C to stop')) {
        signalled = true;
        child.kill(opts.killAfterFirstOutput);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, out, err });
    });
  });
}

describe('troupe up (npm start)', () => {
  it('starts the runtime, says what runs, and shuts down cleanly on Ctrl-C (SIGINT)', async () => {
    const r = await run(['up'], { killAfterFirstOutput: 'SIGINT' });
    expect(r.out).toContain("runtime up on node 'local'");
    expect(r.out).toContain('Ctrl-C to stop');
    expect(r.out).toMatch(/stopped cleanly after \d+ messages/);
    expect(r.code).toBe(0);
  });

  it('rejects a bad option with a usage error (exit code 2) that names the option', async () => {
    const r = await run(['up', '--workers', 'many']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--workers takes a positive integer, got 'many'");
  });
});
