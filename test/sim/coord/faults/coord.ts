/**
 * The coordination service's side of the fault suite: each server runs, beside its Zab actor, the
 * client-facing core (`CoordServerCore` in ensemble mode, behind the native server actor), and
 * the replicated state machine holds both the key-value register of checkers (a)–(c) and the
 * znode tree with its sessions (`FaultMachine`). Native clients (`CoordClient` with every server
 * in its list) create and delete ephemerals, change watched nodes, set data, child and exists
 * watches, close sessions, and now and then crash (fall silent, so the leader expires their
 * session), while the faults play. Each client session's trace — every reply and event in the
 * order it accepted them — and each server's tree after every apply are what checkers (d) and
 * (e) read.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { ActorRef, ActorSystem } from '../../../../src/index.js';
import type { Simulation } from '../../../../src/testkit.js';
import { CoordClient, type TraceEntry } from '../../../../src/actors/coord/client/client.js';
import { coordConfig, type CoordConfig } from '../../../../src/actors/coord/config.js';
import { EnsembleMachine, type EnsembleBody, type EnsembleMachineOptions } from '../../../../src/actors/coord/ensemble/machine.js';
import { CoordClientError } from '../../../../src/actors/coord/errors.js';
import type { CoordServerMsg } from '../../../../src/actors/coord/protocol.js';
import { CoordServerCore, type EnsembleBackend } from '../../../../src/actors/coord/server/server-core.js';
import { coordServerActor } from '../../../../src/actors/coord/server/server-actor.js';
import { nodeKind } from '../../../../src/actors/coord/tree/node-kind.js';
import type { DataTree } from '../../../../src/actors/coord/tree/data-tree.js';
import type { PrepareView, Prepared, ZabStateMachine } from '../../../../src/actors/coord/zab/state-machine.js';
import type { ServerMsg, SubmitReply, ZabTxn } from '../../../../src/actors/coord/zab/protocol.js';
import type { Random } from '../../../../src/runtime/random.js';
import { KvMachine } from '../zab/kv-machine.js';
import type { ServeHook } from '../zab/ensemble.js';

/** Ticks of 200 ms: sessions of 0.4–4 s, so a partition or a silent client outlives some of them. */
export const COORD_CONFIG: Partial<CoordConfig> = { tickTimeMs: 200 };
export const SESSION_TIMEOUT_MS = 1_600;

export function isCoordBody(body: unknown): body is EnsembleBody {
  return typeof body === 'object' && body !== null && 'txn' in body;
}

/** Both state machines under one Zab: requests with a `kind` are the coordination service's. */
export class FaultMachine implements ZabStateMachine {
  readonly kv = new KvMachine();
  readonly coord: EnsembleMachine;

  constructor(o: EnsembleMachineOptions) {
    this.coord = new EnsembleMachine(o);
  }

  prepare(request: unknown, view: PrepareView): Prepared {
    if (typeof request === 'object' && request !== null && 'kind' in request) return this.coord.prepare(request, view);
    return this.kv.prepare(request, { appliedZxid: view.appliedZxid, pending: view.pending.filter((p) => !isCoordBody(p.body)) });
  }

  apply(body: unknown, zxid: number): unknown {
    return isCoordBody(body) ? this.coord.apply(body, zxid) : this.kv.apply(body, zxid);
  }

  read(request: unknown): unknown {
    return this.kv.read(request);
  }

  snapshot(): Uint8Array {
    return encode([this.kv.snapshot(), this.coord.snapshot()]);
  }

  restore(data: Uint8Array): void {
    const [kv, coord] = decode(data) as [Uint8Array, Uint8Array];
    this.kv.restore(kv);
    this.coord.restore(coord);
  }
}

/** A server's tree after an apply, as checker (d) reads it: its ephemerals with their owners, and its session table (ids in hex). */
export interface TreeProbe {
  readonly eph: ReadonlyArray<readonly [string, string]>;
  readonly sessions: readonly string[];
}

export const hex = (id: bigint): string => BigInt.asUintN(64, id).toString(16);

/** Walks the actual nodes (not the tree's ephemeral index), so an index out of step cannot hide an orphan. */
export function probeTree(tree: DataTree): TreeProbe {
  const eph: Array<readonly [string, string]> = [];
  const walk = (path: string): void => {
    const n = tree.getNode(path);
    if (n === undefined) return;
    if (nodeKind(n.stat.ephemeralOwner) === 'ephemeral') eph.push([path, hex(n.stat.ephemeralOwner)]);
    for (const c of n.children) walk(path === '/' ? `/${c}` : `${path}/${c}`);
  };
  walk('/');
  return { eph, sessions: [...tree.sessions.keys()].map(hex) };
}

/** The serve hook and machine factory that put a core beside each Zab server. */
export function coordServing(): { serve: ServeHook; machine: (sim: Simulation, id: number) => FaultMachine } {
  const cores = new Map<number, CoordServerCore>();
  const machines = new Map<number, FaultMachine>();
  const serve: ServeHook = (sim: Simulation, id: number, system: ActorSystem, zab: ActorRef<ServerMsg>) => {
    const config = coordConfig({ ...COORD_CONFIG, serverId: id });
    const zabSession = `server${id}@${sim.now}`;
    let cxid = 0;
    let leading = false;
    const ask = (msg: ServerMsg): Promise<SubmitReply> => system.ask<SubmitReply>(zab, msg, { timeoutMs: 4_000 });
    const backend: EnsembleBackend = {
      serverId: id,
      get leading() {
        return leading;
      },
      submit(request, onFailed) {
        ask({ type: 'coord.zab.submit', session: zabSession, cxid: ++cxid, kind: 'write', request }).then(
          (r) => {
            if (!r.ok) onFailed(`${r.error.code}: ${r.error.message}`);
          },
          (err: unknown) => onFailed(err instanceof Error ? err.message : String(err)),
        );
      },
      sync: () =>
        ask({ type: 'coord.zab.submit', session: zabSession, cxid: ++cxid, kind: 'sync' }).then(
          (r) => (r.ok ? undefined : `${r.error.code}: ${r.error.message}`),
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
      touch(sessions) {
        system.tell(zab, { type: 'coord.zab.touch', sessions: sessions.map((s) => s.toString(16)) });
      },
    };
    const random = sim.random.fork(`core${id}@${sim.now}`);
    const core = new CoordServerCore(config, sim.now, (n) => random.bytes(n), () => {}, backend);
    cores.set(id, core);
    system.spawn(coordServerActor({ core }), { name: 'coord' });
    return {
      onTouch: (sessions) => core.touched(sessions.map((s) => BigInt.asIntN(64, BigInt(`0x${s}`))), sim.now),
      onRole: (e) => {
        const now = e.role === 'leading' && e.serving;
        if (now !== leading) {
          leading = now;
          core.leadershipChanged(now, sim.now);
        }
      },
      probe: (txn: ZabTxn) => {
        if (!isCoordBody(txn.body)) return undefined;
        const m = machines.get(id);
        return m === undefined ? undefined : probeTree(m.coord.tree.tree);
      },
    };
  };
  const machine = (sim: Simulation, id: number): FaultMachine => {
    const core = cores.get(id) as CoordServerCore;
    const m = new FaultMachine({ config: core.config, now: () => sim.now, onApplied: (a) => core.applied(a, sim.now), onRestored: () => core.resyncSessions(sim.now) });
    core.attachMachine(m.coord.tree, sim.now);
    machines.set(id, m);
    return m;
  };
  return { serve, machine };
}

/** One client session's life as its trace saw it. */
export interface SessionStream {
  readonly client: string;
  /** The client's n-th session. */
  readonly n: number;
  sessionId: string | undefined;
  readonly entries: Array<{ readonly at: number; readonly entry: TraceEntry }>;
}

export interface CoordWorkloadOptions {
  readonly clients: number;
  readonly untilMs: number;
  readonly servers: readonly ActorRef<CoordServerMsg>[];
}

export const SHARED = ['/w/a', '/w/b'] as const;

/** Creates the persistent nodes the clients share (before the faults). */
export async function setupTree(system: ActorSystem, servers: readonly ActorRef<CoordServerMsg>[]): Promise<void> {
  const c = await CoordClient.connect(system, servers, { sessionTimeoutMs: SESSION_TIMEOUT_MS, requestTimeoutMs: 3_000 });
  for (const p of ['/eph', '/w', '/w/a', '/w/b', '/w/kids']) await c.create(p, null);
  await c.close();
}

export function startCoordWorkload(sim: Simulation, addNode: (name: string) => { system: ActorSystem }, random: Random, o: CoordWorkloadOptions): { streams: SessionStream[]; done: Promise<void> } {
  const streams: SessionStream[] = [];
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => sim.after(ms, resolve));
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const runs: Promise<void>[] = [];

  async function client(name: string, index: number): Promise<void> {
    const node = addNode(name);
    const r = random.fork(name);
    const rotated = [...o.servers.slice(index % o.servers.length), ...o.servers.slice(0, index % o.servers.length)];
    let n = 0;
    while (sim.now < o.untilMs) {
      const stream: SessionStream = { client: name, n: ++n, sessionId: undefined, entries: [] };
      let c: CoordClient;
      try {
        c = await CoordClient.connect(node.system, rotated, {
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
          requestTimeoutMs: 3_000,
          name: `${name}.${n}`,
          trace: (entry) => {
            if (entry.kind === 'state' && stream.sessionId === undefined && entry.sessionId !== 0n) stream.sessionId = hex(entry.sessionId);
            stream.entries.push({ at: sim.now, entry });
          },
        });
      } catch {
        await sleep(100 + r.int(200));
        continue;
      }
      streams.push(stream);
      const mine: string[] = [];
      let k = 0;
      let ended = false;
      const watcher = (): void => {};
      while (!ended && sim.now < o.untilMs) {
        const batch = 1 + r.int(3);
        const ops: Promise<unknown>[] = [];
        for (let b = 0; b < batch; b++) {
          const x = r.int(100);
          let p: Promise<unknown>;
          if (x < 20) {
            const path = `/eph/${name}.${n}-${++k}`;
            mine.push(path);
            p = c.create(path, null, { mode: 'ephemeral' });
          } else if (x < 28 && mine.length > 0) p = c.delete(mine.splice(r.int(mine.length), 1)[0] as string);
          else if (x < 42) p = c.setData(r.pick([...SHARED]), enc(`${name}.${n}.${k++}`));
          else if (x < 50) p = r.int(2) === 0 ? c.create(`/w/kids/${name}-${r.int(4)}`, null) : c.delete(`/w/kids/${name}-${r.int(4)}`);
          else if (x < 62) p = c.getData(r.pick([...SHARED]), watcher);
          else if (x < 74) p = c.exists(r.int(2) === 0 ? `/w/kids/k${r.int(o.clients)}-${r.int(4)}` : `/eph/k${r.int(o.clients)}.${1 + r.int(2)}-${1 + r.int(4)}`, watcher);
          else if (x < 86) p = c.getChildren(r.pick(['/eph', '/w/kids']), watcher);
          else if (x < 92) p = c.getData(r.pick(mine.length > 0 ? mine : ['/w/a']), watcher);
          else if (x < 96) p = c.sync('/');
          else p = Promise.resolve();
          ops.push(p.catch((err: unknown) => (err instanceof CoordClientError ? err.code : Promise.reject(err))));
        }
        await Promise.all(ops);
        if (c.closed !== undefined) break;
        const y = r.int(100);
        if (y < 2) {
          await c.close().catch(() => undefined);
          ended = true;
        } else if (y < 4) {
          // The client crashes: its connection actor stops, the session lives until the leader expires it.
          node.system.stop(c.actor);
          ended = true;
        } else await sleep(20 + r.int(80));
      }
      if (!ended) await c.close().catch(() => undefined);
    }
  }

  for (let i = 0; i < o.clients; i++) runs.push(client(`k${i}`, i));
  return { streams, done: Promise.all(runs).then(() => undefined) };
}
