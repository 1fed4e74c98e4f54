/**
 * Bench suite `transport` (issue 3): Troupe's thread and TCP transports beside the raw mechanism
 * they are built on, in one run (machine-limits.md: this machine is noisy; compare ratios).
 *
 * - thread-tell vs thread-tell:raw-postmessage — tells from the main thread to an actor on a
 *   worker (batched envelopes) vs one small object per `postMessage` to a bare worker.
 * - thread-ask-serial vs thread-ask-serial:raw-postmessage — 200 asks to an echo actor on a
 *   worker, one round trip at a time, vs 200 sequential ping-pongs with a bare worker.
 * - thread-ask-pipelined vs thread-ask-pipelined:raw-postmessage — 1,000 asks in flight vs a bare
 *   worker sent 1,000 requests (correlation id and message, each with its own promise) in one
 *   `postMessage`, answering them all in one: the best batching a hand-written RPC can do.
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
const PIPELINED_ASKS = 1_000;
const SERIAL_ASKS = 200;
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

/**
 * A bare worker: counts messages, answers 'count'; echoes 'ping'; answers a batch of requests
 * (`{ batch: [corr, msg, corr, msg, ...] }`) with one batch of replies, each request handed to
 * an echo handler on its own as an actor would get it.
 */
const RAW_WORKER = `
const { parentPort } = require('node:worker_threads');
let n = 0;
const echo = (m) => m;
parentPort.on('message', (m) => {
  if (m === 'count') parentPort.postMessage(n);
  else if (m === 'ping') parentPort.postMessage('pong');
  else if (m !== null && typeof m === 'object' && Array.isArray(m.batch)) {
    const req = m.batch;
    const out = new Array(req.length);
    for (let i = 0; i < req.length; i += 2) {
      out[i] = req[i];
      out[i + 1] = echo(req[i + 1]);
    }
    parentPort.postMessage(out);
  } else n++;
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
      sent = 0;
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

function threadAskSerial(): BenchCase {
  let node: TroupeNode;
  let ref: ActorRef<unknown>;
  return {
    name: 'thread-ask-serial',
    unit: 'ops',
    perIteration: SERIAL_ASKS,
    shape: `${SERIAL_ASKS} asks of a number to an echo actor on a worker, each awaited before the next`,
    setup: async () => {
      node = await threadNode();
      ref = await node.spawn(spec('echo'), { placement: { worker: 0 } });
    },
    run: async () => {
      for (let i = 0; i < SERIAL_ASKS; i++) await node.system.ask(ref, i);
    },
    teardown: () => node.close(),
  };
}

function threadAskSerialRaw(): BenchCase {
  let worker: Worker;
  let answered: (m: unknown) => void = () => undefined;
  return {
    name: 'thread-ask-serial:raw-postmessage',
    unit: 'ops',
    perIteration: SERIAL_ASKS,
    shape: `${SERIAL_ASKS} ping-pongs with a bare worker, one postMessage each way, each awaited before the next`,
    setup: () => {
      worker = new Worker(RAW_WORKER, { eval: true });
      // One listener for the case's life: the cheapest way to wait for the next reply.
      worker.on('message', (m: unknown) => answered(m));
    },
    run: async () => {
      for (let i = 0; i < SERIAL_ASKS; i++) {
        const reply = new Promise((resolve) => (answered = resolve));
        worker.postMessage('ping');
        await reply;
      }
    },
    teardown: async () => {
      await worker.terminate();
    },
  };
}

function threadAskPipelined(): BenchCase {
  let node: TroupeNode;
  let ref: ActorRef<unknown>;
  return {
    name: 'thread-ask-pipelined',
    unit: 'ops',
    perIteration: PIPELINED_ASKS,
    shape: `${PIPELINED_ASKS} asks of a number to an echo actor on a worker, all in flight, then all awaited`,
    setup: async () => {
      node = await threadNode();
      ref = await node.spawn(spec('echo'), { placement: { worker: 0 } });
    },
    run: async () => {
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < PIPELINED_ASKS; i++) replies.push(node.system.ask(ref, i));
      await Promise.all(replies);
    },
    teardown: () => node.close(),
  };
}

/**
 * The same 1,000 requests by hand, batched as well as a hand-written RPC can: each request gets
 * a correlation id and its own promise (what an ask gives its caller), all go in one
 * `postMessage` as a flat array, the worker hands each to its handler and posts all replies in
 * one array, and each reply resolves its request's promise.
 */
function threadAskPipelinedRaw(): BenchCase {
  let worker: Worker;
  const pending = new Map<number, (m: unknown) => void>();
  let corr = 0;
  return {
    name: 'thread-ask-pipelined:raw-postmessage',
    unit: 'ops',
    perIteration: PIPELINED_ASKS,
    shape: `${PIPELINED_ASKS} requests (correlation id, number) to a bare worker in one postMessage, answered in one`,
    setup: () => {
      worker = new Worker(RAW_WORKER, { eval: true });
      worker.on('message', (m: unknown) => {
        const replies = m as unknown[];
        for (let i = 0; i < replies.length; i += 2) {
          const id = replies[i] as number;
          const resolve = pending.get(id);
          pending.delete(id);
          resolve?.(replies[i + 1]);
        }
      });
    },
    run: async () => {
      const batch: unknown[] = [];
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < PIPELINED_ASKS; i++) {
        const id = ++corr;
        replies.push(new Promise((resolve) => pending.set(id, resolve)));
        batch.push(id, i);
      }
      worker.postMessage({ batch });
      await Promise.all(replies);
    },
    teardown: async () => {
      await worker.terminate();
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
  cases: [threadTell(), threadTellRaw(), threadAskSerial(), threadAskSerialRaw(), threadAskPipelined(), threadAskPipelinedRaw(), thread1MiB(), memcpy1MiB(), tcp1MiB(), tcp1MiBRaw(), tcpAsk()],
  targets: [
    { name: 'thread-tell', baseline: 'thread-tell:raw-postmessage', atLeast: 3 },
    { name: 'thread-ask-serial', baseline: 'thread-ask-serial:raw-postmessage', atLeast: 0.8 },
    { name: 'thread-ask-pipelined', baseline: 'thread-ask-pipelined:raw-postmessage', atLeast: 1 },
    { name: 'thread-1mib', baseline: 'thread-1mib:memcpy', atLeast: 0.5 },
    { name: 'tcp-1mib', baseline: 'tcp-1mib:raw-socket', atLeast: 0.7 },
  ],
  timeMs: 1000,
};

export default suite;
