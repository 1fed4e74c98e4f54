/**
 * Running the built `troupe` command in tests: one-shot commands, and a `troupe up` cluster in a
 * child process (every wait bounded; the cluster is stopped with Ctrl-C, SIGKILL as a last resort).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const cliPath = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs a program to its end and collects its output; killed and rejected after `timeoutMs`. */
export function runProcess(command: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, out, err });
    });
  });
}

export function runNode(args: string[], timeoutMs = 60_000): Promise<Run> {
  return runProcess(process.execPath, args, timeoutMs);
}

export function runCli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return runNode([cliPath, ...args], timeoutMs);
}

export interface ClusterProcess {
  readonly port: number;
  readonly banner: string;
  /** Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `troupe up` on `dataDir` (a free port) and resolves once it printed its banner. */
export function startClusterProcess(dataDir: string, extra: string[] = []): Promise<ClusterProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [cliPath, 'up', '--data-dir', dataDir, '--port', '0', '--web-port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`troupe up did not start within 30 s:\n${out}`));
    }, 30_000);
    const onExit = (code: number | null): void => reject(new Error(`troupe up exited with ${code}:\n${out}`));
    child.on('exit', onExit);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /clients: [\d.]+:(\d+)/.exec(out);
      if (m === null || !out.includes('Ctrl-C to stop')) return;
      clearTimeout(guard);
      child.off('exit', onExit);
      resolve({
        port: Number(m[1]),
        banner: out,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
            child.once('exit', (code) => {
              clearTimeout(kill);
              done(code);
            });
            child.kill('SIGINT');
          }),
      });
    });
  });
}
