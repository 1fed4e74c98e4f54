import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NodeProcessConfig {
  readonly node: string;
  readonly host?: string;
  readonly port?: number;
  readonly workers?: number;
  readonly peers?: Record<string, { host: string; port: number }>;
  readonly cluster: string;
  readonly secret: string;
  readonly linkDownAfterMs?: number;
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly node: string;
  readonly host: string;
  readonly port: number;
}

const script = fileURLToPath(new URL('../fixtures/node-process.mjs', import.meta.url));

/**
 * Starts a Troupe node in a child process (optionally inside a network namespace) and waits for
 * its ready line. Register the result for cleanup: `kill(p)` in afterAll.
 */
export function startNodeProcess(cfg: NodeProcessConfig, opts: { netns?: string; timeoutMs?: number } = {}): Promise<NodeProcess> {
  const args = [script, JSON.stringify(cfg)];
  const child = opts.netns !== undefined ? spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node process ${cfg.node} not ready within ${opts.timeoutMs ?? 15_000} ms: ${stderr}`));
    }, opts.timeoutMs ?? 15_000);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line === undefined) return;
      clearTimeout(timer);
      const r = JSON.parse(line) as { node: string; host: string; port: number };
      resolve({ child, node: r.node, host: r.host, port: r.port });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node process ${cfg.node} exited with ${code} before ready: ${stderr}`));
    });
  });
}

/** Kills a node process (SIGKILL: a crash, no goodbye) and waits for it to be gone. */
export function kill(p: NodeProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    p.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    p.child.kill(signal);
  });
}
