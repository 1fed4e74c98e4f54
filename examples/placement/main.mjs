// Placement across 2 worker threads and 2 processes.
//
//   npm run build && node examples/placement/main.mjs
//
// Process "alpha" (this one) starts 2 worker threads and a TCP listener, then starts process
// "beta" (this script with --beta), which has 2 worker threads too. Alpha places a chain of
// actors on both processes and their threads, sends 1,000 numbered messages through it and
// checks they all arrived, in order. Refs are plain data: nothing below cares where an actor runs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TroupeNode } from '../../dist/runtime/node/troupe-node.js';

const cluster = { cluster: 'example', secret: process.env.TROUPE_SECRET ?? 'change-me' };
const quiet = { logger: () => undefined };

if (process.argv[2] === '--beta') {
  // The second process: a node with 2 workers that dials alpha and serves until stdin closes.
  const alpha = JSON.parse(process.argv[3]);
  const beta = await TroupeNode.start({ node: 'beta', workers: 2, system: quiet, tcp: { ...cluster, listen: { port: 0 }, peers: { alpha } } });
  process.stdout.write(`${JSON.stringify(beta.address)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void beta.close().then(() => process.exit(0)));
} else {
  const alpha = await TroupeNode.start({ node: 'alpha', workers: 2, system: quiet, tcp: { ...cluster, listen: { port: 0 } } });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--beta', JSON.stringify(alpha.address)], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const betaAddress = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('beta did not start within 15 s')), 15_000);
      child.stdout.once('data', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line.toString()));
      });
    });
    alpha.tcp.addPeer('beta', betaAddress);

    const actors = new URL('./actors.mjs', import.meta.url).href;
    const at = (name, args) => ({ module: actors, export: name, args });
    // Built back to front, each relay knowing the next hop's ref.
    const tally = await alpha.spawn(at('tally'), { placement: { worker: 0 }, mailboxCapacity: 2000 });
    const r4 = await alpha.spawn(at('relay', { next: tally }), { placement: { host: 'beta', placement: { worker: 1 } } });
    const r3 = await alpha.spawn(at('relay', { next: r4 }), { placement: { host: 'beta' } });
    const r2 = await alpha.spawn(at('relay', { next: r3 }), { placement: { host: 'beta', placement: { worker: 0 } } });
    const r1 = await alpha.spawn(at('relay', { next: r2 }), { placement: { worker: 1 } });
    for (const ref of [r1, r2, r3, r4, tally]) console.log(`actor ${ref.id} runs on ${await alpha.system.ask(ref, { type: 'where' })}`);

    const n = 1000;
    for (let i = 0; i < n; i++) alpha.system.tell(r1, { i, path: [alpha.node] });
    let report;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      report = await alpha.system.ask(tally, { type: 'report' });
      if (report.count === n) break;
    }
    console.log(`count = ${report.count}, in order = ${report.inOrder}`);
    console.log(`path of the last message: ${report.lastPath.join(' -> ')}`);
    if (report.count !== n || !report.inOrder) process.exitCode = 1;
  } finally {
    child.stdin.end();
    await alpha.close();
  }
}
