/**
 * Bench suite `transport` (issue 3): Troupe's thread and TCP transports beside the raw mechanism
 * they are built on, in one run (machine-limits.md: this machine is noisy; compare ratios).
 *
 * - thread-tell vs thread-tell:raw-postmessage — tells from the main thread to an actor on a
 *   worker (batched envelopes) vs one small object per `postMessage` to a bare worker.
 * - thread-ask vs thread-ask:raw-postmessage — 1,000 concurrent asks vs sequential ping-pong.
 * - thread-1mib vs thread-1mib:memcpy — 1 MiB payloads to a worker actor and back by transfer
 *   (a pool of 8 buffers) vs copying 1 MiB in memory (`Uint8Array.set`).
 * - tcp-1mib vs tcp-1mib:raw-socket — 1 MiB payloads between two nodes over loopback TCP vs the
 *   same bytes written to a plain socket.
 * - tcp-ask — 256 concurrent asks between two nodes over loopback TCP.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { BenchCase, BenchSuite } from '../harness.js';
import type { ActorRef } from '../../runtime/ref.js';
import { TroupeNode } from '../../runtime/node/troupe-node.js';
import type { BehaviorSpec } from '../../runtime/node/worker-protocol.js';
import { transferOwnership } from '../../runtime/transport/ownership.js';

const TELLS = 20_000;
const ASKS = 1_000;
const PINGPONGS = 200;
const MIB = 1024 * 1024;
const POOL = 8;
const TCP_MIBS = 16;
const TCP_ASKS = 256;

const actors = new URL('./transport-actors.js', import.meta.url).href;
const spec = (name: string): BehaviorSpec => ({ module: actors, export: name });
const quiet = { logger: (): void => undefined };
const cluster = { cluster: 'bench', secret: 'bench-secret' };

async function threadNode(): Promise<TroupeNode> {
  return TroupeNode.start({ node: 'bench', workers: 1, system: { ...quiet, askTimeoutMs: 60_000 } });
}

/** A bare worker: counts messages, answers 'count'; echoes 'ping'. */
const RAW_WORKER = `
const { parentPort } = require('node:worker_threads');
let n = 0;
parentPort.on('message', (m) => {
  if (m === 'count') parentPort.postMessage(n);
  else if (m === 'ping') parentPort.postMessage('pong');
  else n++;
});`;

function rawWorker(): { worker: Worker; next: () => Promise<unknown> } {
  const worker = new Worker(RAW_WORKER, { eval: true });
  return { worker, next: () => new Promise((resolve) => worker.once('message', resolve)) };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) if (Date.now() > deadline) throw new Error('bench: condition not reached within 60 s');
}

function threadTell(): BenchCase {
  let node: TroupeNode;
  let ref: ActorRef<unknown>;
  let sent = 0;
  return {
    name: 'thread-tell',
    unit: 'ops',
    perIteration: TELLS,
    setup: async () => {
      node = await threadNode();
      ref = await node.spawn(spec('counter'), { placement: { worker: 0 }, mailboxCapacity: 10 * TELLS });
    },
    run: async () => {
      for (let i = 0; i < TELLS; i++) node.system.tell(ref, i);
      sent += TELLS;
      // The ask travels behind the tells on the same path (per-pair FIFO): its answer means all arrived.
      await until(async () => (await node.system.ask<number>(ref, 'count')) >= sent);
    },
    teardown: () => node.close(),
  };
}

function threadTellRaw(): BenchCase {
  let raw: ReturnType<typeof rawWorker>;
  return {
    name: 'thread-tell:raw-postmessage',
    unit: 'ops',
    perIteration: TELLS,
    setup: () => {
      raw = rawWorker();
    },
    run: async () => {
      for (let i = 0; i < TELLS; i++) raw.worker.postMessage({ i });
      const reply = raw.next();
      raw.worker.postMessage('count');
      await reply;
    },
    teardown: async () => {
      await raw.worker.terminate();
    },
  };
}

function threadAsk(): BenchCase {
  let node: TroupeNode;
  let ref: ActorRef<unknown>;
  return {
    name: 'thread-ask',
    unit: 'ops',
    perIteration: ASKS,
    setup: async () => {
      node = await threadNode();
      ref = await node.spawn(spec('echo'), { placement: { worker: 0 } });
    },
    run: async () => {
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < ASKS; i++) replies.push(node.system.ask(ref, i));
      await Promise.all(replies);
    },
    teardown: () => node.close(),
  };
}

function threadAskRaw(): BenchCase {
  let raw: ReturnType<typeof rawWorker>;
  return {
    name: 'thread-ask:raw-postmessage',
    unit: 'ops',
    perIteration: PINGPONGS,
    setup: () => {
      raw = rawWorker();
    },
    run: async () => {
      for (let i = 0; i < PINGPONGS; i++) {
        const reply = raw.next();
        raw.worker.postMessage('ping');
        await reply;
      }
    },
    teardown: async () => {
      await raw.worker.terminate();
    },
  };
}

function thread1MiB(): BenchCase {
  let node: TroupeNode;
  let ref: ActorRef<unknown>;
  let buffers: Uint8Array[] = [];
  return {
    name: 'thread-1mib',
    unit: 'bytes',
    perIteration: POOL * MIB,
    setup: async () => {
      node = await threadNode();
      ref = await node.spawn(spec('echo'), { placement: { worker: 0 } });
      buffers = Array.from({ length: POOL }, () => new Uint8Array(MIB).fill(1));
    },
    // Each buffer is transferred to the worker and back in the reply: ownership moves, bytes do not.
    run: async () => {
      buffers = await Promise.all(buffers.map((b) => node.system.ask<Uint8Array>(ref, transferOwnership(b))));
      if (buffers.some((b) => b.byteLength !== MIB)) throw new Error('thread-1mib: a buffer came back with the wrong size');
    },
    teardown: () => node.close(),
  };
}

function memcpy1MiB(): BenchCase {
  const src = new Uint8Array(MIB).fill(1);
  const dst = Array.from({ length: POOL }, () => new Uint8Array(MIB));
  return {
    name: 'thread-1mib:memcpy',
    unit: 'bytes',
    perIteration: POOL * MIB,
    run: () => {
      for (const d of dst) d.set(src);
    },
  };
}

async function tcpPair(): Promise<{ a: TroupeNode; b: TroupeNode }> {
  const b = await TroupeNode.start({ node: 'tcp-b', system: { ...quiet, askTimeoutMs: 60_000 }, tcp: { ...cluster, listen: { port: 0 } } });
  const a = await TroupeNode.start({ node: 'tcp-a', system: { ...quiet, askTimeoutMs: 60_000 }, tcp: { ...cluster, listen: { port: 0 }, peers: { 'tcp-b': b.address! } } });
  return { a, b };
}

function tcp1MiB(): BenchCase {
  let a: TroupeNode;
  let b: TroupeNode;
  let ref: ActorRef<{ data: Uint8Array }>;
  let received = 0;
  let target = 0;
  let done: () => void = () => undefined;
  const payloads = Array.from({ length: TCP_MIBS }, () => new Uint8Array(MIB).fill(2));
  return {
    name: 'tcp-1mib',
    unit: 'bytes',
    perIteration: TCP_MIBS * MIB,
    setup: async () => {
      ({ a, b } = await tcpPair());
      // Both nodes share this process, so the receiving actor signals completion the way the raw
      // socket's reader does (a callback), rather than by a round trip that would add its latency.
      ref = b.system.spawn<{ data: Uint8Array }>(() => ({
        receive(msg) {
          received += msg.data.byteLength;
          if (received >= target) done();
        },
      }), { mailboxCapacity: 4 * TCP_MIBS });
    },
    run: () =>
      new Promise<void>((resolve) => {
        target += TCP_MIBS * MIB;
        done = resolve;
        for (const data of payloads) a.system.tell(ref, { data });
      }),
    teardown: async () => {
      await a.close();
      await b.close();
    },
  };
}

function tcp1MiBRaw(): BenchCase {
  let server: Server;
  let client: Socket;
  let received = 0;
  let target = 0;
  let done: () => void = () => undefined;
  const payloads = Array.from({ length: TCP_MIBS }, () => new Uint8Array(MIB).fill(2));
  return {
    name: 'tcp-1mib:raw-socket',
    unit: 'bytes',
    perIteration: TCP_MIBS * MIB,
    setup: async () => {
      server = createServer({ noDelay: true }, (s) =>
        s.on('data', (chunk: Buffer) => {
          received += chunk.byteLength;
          if (received >= target) done();
        }),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      client = connect({ host: '127.0.0.1', port, noDelay: true });
      await new Promise<void>((r) => client.once('connect', r));
    },
    run: () =>
      new Promise<void>((resolve) => {
        target += TCP_MIBS * MIB;
        done = resolve;
        for (const p of payloads) client.write(p);
      }),
    teardown: async () => {
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function tcpAsk(): BenchCase {
  let a: TroupeNode;
  let b: TroupeNode;
  let ref: ActorRef<unknown>;
  return {
    name: 'tcp-ask',
    unit: 'ops',
    perIteration: TCP_ASKS,
    setup: async () => {
      ({ a, b } = await tcpPair());
      ref = await a.spawn(spec('echo'), { placement: { host: 'tcp-b' } });
    },
    run: async () => {
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < TCP_ASKS; i++) replies.push(a.system.ask(ref, { i }));
      await Promise.all(replies);
    },
    teardown: async () => {
      await a.close();
      await b.close();
    },
  };
}

const suite: BenchSuite = {
  name: 'transport',
  cases: [threadTell(), threadTellRaw(), threadAsk(), threadAskRaw(), thread1MiB(), memcpy1MiB(), tcp1MiB(), tcp1MiBRaw(), tcpAsk()],
  targets: [
    { name: 'thread-tell', baseline: 'thread-tell:raw-postmessage', atLeast: 3 },
    { name: 'thread-ask', baseline: 'thread-ask:raw-postmessage', atLeast: 2 },
    { name: 'thread-1mib', baseline: 'thread-1mib:memcpy', atLeast: 0.5 },
    { name: 'tcp-1mib', baseline: 'tcp-1mib:raw-socket', atLeast: 0.7 },
  ],
  timeMs: 1000,
};

export default suite;
