import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { realTimers } from '../../../runtime/node/env.js';
import { TroupeNode } from '../../../runtime/node/troupe-node.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { NodeDisk } from '../../../storage/node/node-disk.js';
import { withIoTimeout } from '../../../storage/timed-disk.js';
import { coordConfig, type CoordConfig } from '../config.js';
import { EnsembleMachine } from '../ensemble/machine.js';
import { CoordServerCore, type EnsembleBackend, type ServerLog } from '../server/server-core.js';
import { zabConfig, type ZabConfig } from '../zab/config.js';
import type { ServerMsg, SubmitReply, ZabStatus } from '../zab/protocol.js';
import { zabServer } from '../zab/server.js';
import type { CoordServerMsg } from '../protocol.js';
import { coordServerActor } from '../server/server-actor.js';
import { startCoordServer, type CoordServerHandle } from './tcp-server.js';

/**
 * `startCoordEnsemble`: the assembled coordination service on one Troupe node (README "Assembled
 * server"). Each server i is a Zab server actor (`zab/server.ts`) with its log and snapshots in
 * `<dataDir>/coord/zk<i>`, an `EnsembleMachine` (the znode tree behind Zab) and a client-facing
 * `CoordServerCore` on its own ZooKeeper client port (basePort + i - 1). Starting again on the same
 * data directory recovers every server from its snapshot and log.
 */
export interface StartCoordEnsembleOptions {
  readonly dataDir: string;
  /** Voting servers (default 3). */
  readonly servers?: number;
  readonly host?: string;
  /** Server i listens on basePort + i - 1 (default 2181). */
  readonly basePort?: number;
  readonly config?: Partial<CoordConfig>;
  readonly zab?: Partial<ZabConfig>;
  /** Run the servers on this node (default: a node of their own, stopped by `close`). */
  readonly node?: TroupeNode;
  readonly log?: ServerLog;
}

export interface CoordEnsembleServer {
  readonly id: number;
  readonly ref: ActorRef<ServerMsg>;
  readonly core: CoordServerCore;
  readonly tcp: CoordServerHandle;
  /** The native server actor (`coord<id>`) over the same core, for `CoordClient` (give it every server's, to fail over). */
  readonly native: ActorRef<CoordServerMsg>;
  readonly dir: string;
  status(): Promise<ZabStatus | undefined>;
  /** Stops this server: its client port and its Zab actor (its disk stays; tests stop a leader with it). */
  stop(): Promise<void>;
}

export interface CoordEnsembleHandle {
  /** `host:port,host:port,…`, as ZooKeeper clients take it. */
  readonly connectString: string;
  readonly servers: readonly CoordEnsembleServer[];
  readonly node: TroupeNode;
  /** Resolves with the leader's id once one server leads an established epoch and every running server serves (bounded wait). */
  ready(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** The ensemble's tick (shorter than ZooKeeper's 2 s: the servers share one machine, so a dead leader is noticed within syncLimit × 500 ms). */
export const coordEnsembleZabDefaults: Partial<ZabConfig> = { tickMs: 500 };

export async function startCoordEnsemble(o: StartCoordEnsembleOptions): Promise<CoordEnsembleHandle> {
  const count = o.servers ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new RangeError(`servers must be 1..9, got ${count}`);
  const host = o.host ?? '127.0.0.1';
  const basePort = o.basePort ?? 2181;
  const zab = zabConfig({ ...coordEnsembleZabDefaults, ...o.zab });
  const ownNode = o.node === undefined;
  const node = o.node ?? (await TroupeNode.start({ node: 'coord', system: { logger: () => {} } }));
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const peers = new Map<number, ActorRef<ServerMsg>>(ids.map((id) => [id, { node: node.system.node, id: `zk${id}` }]));
  const servers: CoordEnsembleServer[] = [];
  try {
    for (const id of ids) {
      servers.push(await startCoordEnsembleServer({ id, peers, node, dir: join(o.dataDir, 'coord', `zk${id}`), host, port: basePort + id - 1, zab, ...(o.config === undefined ? {} : { config: o.config }), ...(o.log === undefined ? {} : { log: o.log }) }));
    }
  } catch (err) {
    for (const s of servers) await s.stop();
    if (ownNode) await node.close();
    throw err;
  }
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => realTimers.after(ms, resolve));
  return {
    connectString: servers.map((s) => `${host}:${s.tcp.port}`).join(','),
    servers,
    node,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const st = await Promise.all(servers.map((s) => s.status()));
        const live = st.filter((x): x is ZabStatus => x !== undefined);
        const leader = live.find((x) => x.role === 'leading' && x.serving);
        if (leader !== undefined && live.every((x) => x.serving)) return leader.id;
        if (Date.now() > deadline) throw new Error(`coord ensemble: no established leader within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async close() {
      for (const s of servers) await s.stop();
      if (ownNode) await node.close();
    },
  };
}

export interface StartCoordEnsembleServerOptions {
  /** This server's id (ZooKeeper's myid), a key of `peers`. */
  readonly id: number;
  /** Every voting server's Zab actor, by id (this one's included); others may live on other hosts. */
  readonly peers: ReadonlyMap<number, ActorRef<ServerMsg>>;
  /** The Troupe node this server's actor runs on; its actor is named `zk<id>`. */
  readonly node: TroupeNode;
  /** This server's own directory (log, snapshots, epochs). */
  readonly dir: string;
  readonly host: string;
  /** ZooKeeper client port (0 picks one). */
  readonly port: number;
  readonly zab: ZabConfig;
  readonly config?: Partial<CoordConfig>;
  readonly log?: ServerLog;
}

/** One server of an ensemble: the Zab actor, the state machine, the client-facing core and its TCP port (the multi-host spec's `coord` role starts one per node). */
export async function startCoordEnsembleServer(o: StartCoordEnsembleServerOptions): Promise<CoordEnsembleServer> {
  const { id, peers, node, zab, host } = o;
  const config = coordConfig({ ...o.config, serverId: id });
  const ref = peers.get(id);
  if (ref === undefined) throw new RangeError(`server ${id} is not among the peers (${[...peers.keys()].join(', ')})`);
  const zabSession = `server${id}@${Date.now()}`;
  let cxid = 0;
  let leading = false;
  let mode: 'leader' | 'follower' = 'follower';
  const ask = (msg: ServerMsg, timeoutMs: number): Promise<SubmitReply> => node.system.ask<SubmitReply>(ref, msg, { timeoutMs });
  const backend: EnsembleBackend = {
    serverId: id,
    get leading() {
      return leading;
    },
    submit(request, onFailed) {
      ask({ type: 'coord.zab.submit', session: zabSession, cxid: ++cxid, kind: 'write', request }, zab.requestTimeoutMs + 5_000).then(
        (r) => {
          if (!r.ok) onFailed(`${r.error.code}: ${r.error.message}`);
        },
        (err: unknown) => onFailed(err instanceof Error ? err.message : String(err)),
      );
    },
    sync: () =>
      ask({ type: 'coord.zab.submit', session: zabSession, cxid: ++cxid, kind: 'sync' }, zab.requestTimeoutMs + 5_000).then(
        (r) => (r.ok ? undefined : `${r.error.code}: ${r.error.message}`),
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
    touch(sessions) {
      node.system.tell(ref, { type: 'coord.zab.touch', sessions: sessions.map((s) => s.toString(16)) });
    },
  };
  const core = new CoordServerCore(config, Date.now(), (n) => new Uint8Array(randomBytes(n)), o.log, backend);
  const disk = withIoTimeout(new NodeDisk(o.dir), realTimers, 30_000);
  node.system.spawn(
    zabServer({
      id,
      peers,
      disk,
      dir: 'zab',
      config: zab,
      stateMachine: () => {
        const m = new EnsembleMachine({ config, now: () => Date.now(), onApplied: (a) => core.applied(a, Date.now()), onRestored: () => core.resyncSessions(Date.now()) });
        core.attachMachine(m.tree, Date.now());
        return m;
      },
      onTouch: (sessions) => core.touched(sessions.map((s) => BigInt.asIntN(64, BigInt(`0x${s}`))), Date.now()),
      onRole: (e) => {
        const now = e.role === 'leading' && e.serving;
        mode = e.role === 'leading' ? 'leader' : 'follower';
        if (now !== leading) {
          leading = now;
          core.leadershipChanged(now, Date.now());
        }
      },
    }),
    { name: ref.id },
  );
  let tcp: CoordServerHandle;
  try {
    tcp = await startCoordServer({ core, host, port: o.port, mode: () => mode, ...(o.log === undefined ? {} : { log: o.log }) });
  } catch (err) {
    node.system.stop(ref);
    throw err;
  }
  // Native clients reach the same core through an actor; the TCP listener already ticks the core.
  const native = node.system.spawn(coordServerActor({ core, tick: false }), { name: `coord${id}` });
  let stopped = false;
  return {
    id,
    ref,
    core,
    tcp,
    native,
    dir: o.dir,
    status: () => node.system.ask<ZabStatus>(ref, { type: 'coord.zab.status' }, { timeoutMs: 2_000 }).catch(() => undefined),
    async stop() {
      if (stopped) return;
      stopped = true;
      await tcp.close();
      node.system.stop(native);
      node.system.stop(ref);
    },
  };
}
