/**
 * One host of a multi-host cluster spec, as a process: `troupe node --config FILE --name NAME`, in
 * a network namespace when one is given (else on this host's loopback), for the multi-host tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './cli.js';

/** Starts the host and resolves once it says it is up ("Ctrl-C to stop"); rejects after 30 s or if it exits. */
export function startSpecHost(specFile: string, name: string, netns: string | undefined): Promise<ChildProcess> {
  const args = [cliPath, 'node', '--config', specFile, '--name', name];
  const child = netns !== undefined ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`host ${name} did not start within 30 s:\n${out}`));
    }, 30_000);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C to stop')) {
        clearTimeout(guard);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(guard);
      reject(new Error(`host ${name} exited with ${code}:\n${out}`));
    });
  });
}

/** Stops the host as Ctrl-C does (SIGKILL after 20 s) and resolves with its exit code. */
export function stopSpecHost(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.removeAllListeners('exit');
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill('SIGINT');
  });
}
