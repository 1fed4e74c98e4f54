/**
 * Bench suite `runtime` (issue: runtime core). Compares Troupe's in-process actors with the floor
 * (a plain array queue calling a handler per message) and with nact, side by side in one run.
 */
import nact from 'nact';
import type { BenchCase, BenchSuite } from '../harness.js';
import { ActorSystem } from '../../runtime/system.js';
import type { ActorRef } from '../../runtime/ref.js';

const TELLS = 1_000_000;
const ASKS = 20_000;
const PINGPONGS = 100_000;
const SPAWNS = 10_000;

const quiet = (): void => {};

function troupeTell(): BenchCase {
  let sys: ActorSystem;
  let ref: ActorRef<number>;
  let done: () => void = quiet;
  let count = 0;
  return {
    name: 'tell',
    unit: 'ops',
    perIteration: TELLS,
    setup: () => {
      sys = new ActorSystem({ node: 'bench', logger: quiet });
      ref = sys.spawn<number>(() => ({
        receive() {
          if (++count === TELLS) done();
        },
      }), { mailboxCapacity: TELLS + 1, throughput: 1024 });
    },
    run: () =>
      new Promise<void>((resolve) => {
        count = 0;
        done = resolve;
        for (let i = 0; i < TELLS; i++) sys.tell(ref, i);
      }),
    teardown: () => sys.shutdown(),
  };
}

function rawQueue(): BenchCase {
  let count = 0;
  const handler = (m: number): void => {
    count += m & 1;
  };
  return {
    name: 'tell:raw-queue',
    unit: 'ops',
    perIteration: TELLS,
    // The floor: a plain array filled, then drained by index in a microtask, one handler call per
    // message. (Array.shift would be quadratic at a million entries; indexing is the true floor.)
    run: () =>
      new Promise<void>((resolve) => {
        const queue: number[] = [];
        for (let i = 0; i < TELLS; i++) queue.push(i);
        queueMicrotask(() => {
          for (let i = 0; i < queue.length; i++) handler(queue[i] as number);
          if (count < 0) throw new Error('unreachable: keeps the handler\'s work observable');
          resolve();
        });
      }),
    teardown: () => void (count = 0),
  };
}

function nactTell(): BenchCase {
  let system: ReturnType<typeof nact.start>;
  let actor: ReturnType<typeof nact.spawnStateless>;
  let done: () => void = quiet;
  let count = 0;
  return {
    name: 'tell:nact',
    unit: 'ops',
    perIteration: TELLS,
    setup: () => {
      system = nact.start();
      actor = nact.spawnStateless(system, () => {
        if (++count === TELLS) done();
      });
    },
    run: () =>
      new Promise<void>((resolve) => {
        count = 0;
        done = resolve;
        for (let i = 0; i < TELLS; i++) nact.dispatch(actor, i);
      }),
    teardown: () => nact.stop(system),
  };
}

function troupeAsk(): BenchCase {
  let sys: ActorSystem;
  let ref: ActorRef<number>;
  return {
    name: 'ask',
    unit: 'ops',
    perIteration: ASKS,
    setup: () => {
      sys = new ActorSystem({ node: 'bench', logger: quiet });
      ref = sys.spawn<number>(() => ({ receive: (m) => m + 1 }));
    },
    run: async () => {
      for (let i = 0; i < ASKS; i++) await sys.ask(ref, i);
    },
    teardown: () => sys.shutdown(),
  };
}

function nactAsk(): BenchCase {
  let system: ReturnType<typeof nact.start>;
  let actor: ReturnType<typeof nact.spawnStateless>;
  return {
    name: 'ask:nact',
    unit: 'ops',
    perIteration: ASKS,
    setup: () => {
      system = nact.start();
      actor = nact.spawnStateless(system, (msg: { sender: ReturnType<typeof nact.spawnStateless>; n: number }) => nact.dispatch(msg.sender, msg.n + 1));
    },
    run: async () => {
      for (let i = 0; i < ASKS; i++) await nact.query(actor, (tempRef) => ({ sender: tempRef, n: i }), 5_000);
    },
    teardown: () => nact.stop(system),
  };
}

type Ping = { readonly n: number; readonly peer: ActorRef<Ping> };

function troupePingPong(): BenchCase {
  let sys: ActorSystem;
  let a: ActorRef<Ping>;
  let b: ActorRef<Ping>;
  let done: () => void = quiet;
  return {
    name: 'pingpong',
    unit: 'ops',
    perIteration: PINGPONGS,
    setup: () => {
      sys = new ActorSystem({ node: 'bench', logger: quiet });
      const player = () => ({
        receive(m: Ping, ctx: { self: ActorRef<Ping>; tell: <T>(to: ActorRef<T>, msg: T) => boolean }) {
          if (m.n >= PINGPONGS) done();
          else ctx.tell(m.peer, { n: m.n + 1, peer: ctx.self });
        },
      });
      a = sys.spawn<Ping>(player);
      b = sys.spawn<Ping>(player);
    },
    run: () =>
      new Promise<void>((resolve) => {
        done = resolve;
        sys.tell(a, { n: 1, peer: b });
      }),
    teardown: () => sys.shutdown(),
  };
}

function nactPingPong(): BenchCase {
  type NPing = { n: number; peer: unknown };
  let system: ReturnType<typeof nact.start>;
  let a: ReturnType<typeof nact.spawnStateless>;
  let b: ReturnType<typeof nact.spawnStateless>;
  let done: () => void = quiet;
  return {
    name: 'pingpong:nact',
    unit: 'ops',
    perIteration: PINGPONGS,
    setup: () => {
      system = nact.start();
      const player = (m: NPing, ctx: { self: unknown }) => {
        if (m.n >= PINGPONGS) done();
        else nact.dispatch(m.peer as typeof a, { n: m.n + 1, peer: ctx.self });
      };
      a = nact.spawnStateless(system, player);
      b = nact.spawnStateless(system, player);
    },
    run: () =>
      new Promise<void>((resolve) => {
        done = resolve;
        nact.dispatch(a, { n: 1, peer: b });
      }),
    teardown: () => nact.stop(system),
  };
}

function spawnStop(): BenchCase {
  let sys: ActorSystem;
  return {
    name: 'spawn-stop',
    unit: 'ops',
    perIteration: SPAWNS,
    setup: () => {
      sys = new ActorSystem({ node: 'bench', logger: quiet });
    },
    run: () => {
      for (let i = 0; i < SPAWNS; i++) sys.stop(sys.spawn(() => ({ receive: quiet })));
    },
    teardown: () => sys.shutdown(),
  };
}

const suite: BenchSuite = {
  name: 'runtime',
  cases: [troupeTell(), rawQueue(), nactTell(), troupeAsk(), nactAsk(), troupePingPong(), nactPingPong(), spawnStop()],
  targets: [
    { name: 'tell', baseline: 'tell:raw-queue', atLeast: 0.5 },
    { name: 'tell', baseline: 'tell:nact', atLeast: 10 },
    { name: 'ask', baseline: 'ask:nact', atLeast: 5 },
    { name: 'pingpong', baseline: 'pingpong:nact', atLeast: 5 },
  ],
};

export default suite;
