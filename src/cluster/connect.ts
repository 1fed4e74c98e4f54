import { customAlphabet, nanoid } from 'nanoid';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { TroupeNode } from '../runtime/node/troupe-node.js';
import type { ActorRef } from '../runtime/ref.js';
import { realClock, realTimers } from '../runtime/node/env.js';
import { isTroupeError } from '../runtime/errors.js';
import { GfsClient, type RequestScope, type RetryWait } from '../actors/gfs/client/client.js';
import { makeLog } from '../runtime/log.js';
import { asyncContext } from '../runtime/node/async-context.js';
import { logLevelFromEnv } from '../runtime/node/file-log.js';
import { logDirOf } from './local-cluster.js';
import type { ClusterStatus, MasterMsg } from '../actors/gfs/protocol.js';
import type { GfsResult } from '../actors/gfs/errors.js';
import { clientSecret, readIdentity, SECRET_FILE } from './data-dir.js';
import { CLUSTER_NODE, MASTER_REF, SHADOW_REF } from './local-cluster.js';
import { layoutOf, loadSpec, secretFileOf } from './spec.js';
import { masterRef, shadowRef } from './start-roles.js';
import { defaultGfsConfig } from '../actors/gfs/config.js';

/** The CLI clients' log file in a cluster's log directory. */

/**
 * A command's request id: 21 letters and digits (nanoid's default alphabet has '-' and '_', and an
 * id that begins with '-' would read as an option in `troupe trace <id>`).
 */
export const newRequestId: () => string = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 21);

export const CLIENT_LOG_FILE = 'clients.log';

/** How a CLI client finds and authenticates to a cluster. */
export interface ConnectOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Default: `<dataDir>/secret` (or `TROUPE_SECRET`). */
  readonly secretFile?: string;
  readonly timeoutMs?: number;
  /** Passed to the client: the deadline of a write or append, and progress while it waits (`GfsClientOptions`). */
  readonly operationTimeoutMs?: number;
  readonly onWait?: (w: RetryWait) => void;
}

/**
 * Where a CLI client logs its operations: `clients.log` in this directory (shared by every CLI
 * run, appended to), at the level of `TROUPE_LOG_LEVEL` (default info); nothing on stderr.
 */
export interface ClientLogOptions {
  readonly logDir?: string;
}

export interface ClusterConnection {
  readonly client: GfsClient;
  readonly node: TroupeNode;
  status(): Promise<ClusterStatus>;
  /** Sends a request to an actor of the cluster (failures to reach it become `ConnectError`s). */
  ask<R>(to: ActorRef<never>, msg: unknown, options?: { timeoutMs?: number }): Promise<R>;
  /**
   * Why the client's last request to a master failed to reach it (no master listening, or our
   * secret refused), if it did; undefined after a master answered. The client itself sees the
   * runtime's error (its code and whether the request may have been delivered), so it retries and
   * falls back to shadow masters as it should; a command uses this to say what to do about it.
   */
  unreachable(): ConnectError | undefined;
  close(): Promise<void>;
}

function retryOptions(o: Pick<ConnectOptions, 'operationTimeoutMs' | 'onWait'>): Pick<ConnectOptions, 'operationTimeoutMs' | 'onWait'> {
  return { ...(o.operationTimeoutMs === undefined ? {} : { operationTimeoutMs: o.operationTimeoutMs }), ...(o.onWait === undefined ? {} : { onWait: o.onWait }) };
}

/** A problem reaching the cluster, with what to do about it. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

export async function connect(o: ConnectOptions): Promise<ClusterConnection> {
  const dataDir = resolve(o.dataDir);
  const identity = await readIdentity(dataDir);
  const secret = await clientSecret(o.secretFile ?? join(dataDir, SECRET_FILE));
  return open({
    logDir: logDirOf(dataDir),
    clusterId: identity.clusterId,
    secret,
    chunkSizeBytes: identity.chunkSizeBytes,
    peers: { [CLUSTER_NODE]: { host: o.host, port: o.port } },
    masters: [MASTER_REF, SHADOW_REF],
    where: `${o.host}:${o.port}`,
    timeoutMs: o.timeoutMs ?? 10_000,
    ...retryOptions(o),
  });
}

/** Connects to a multi-host cluster described by a spec file (`--config`). */
export async function connectToSpec(specFile: string, options: { secretFile?: string; timeoutMs?: number } & Pick<ConnectOptions, 'operationTimeoutMs' | 'onWait'> & ClientLogOptions = {}): Promise<ClusterConnection> {
  const spec = loadSpec(specFile);
  const file = options.secretFile ?? secretFileOf(spec);
  const secret = process.env['TROUPE_SECRET'] ?? (file === undefined ? undefined : await clientSecret(file));
  if (secret === undefined || secret === '') throw new ConnectError(`no secret: set TROUPE_SECRET or "secretFile" in ${specFile}`);
  const layout = layoutOf(spec);
  // The GFS master, or (a Ceph-only spec) the first node: named in messages about where the cluster is.
  const primary = (spec.nodes[layout.primary] ?? Object.values(spec.nodes)[0]) as { host: string; port: number };
  return open({
    ...(options.logDir === undefined ? {} : { logDir: options.logDir }),
    clusterId: spec.cluster,
    secret,
    chunkSizeBytes: spec.chunkSizeBytes ?? defaultGfsConfig.chunkSizeBytes,
    peers: Object.fromEntries(Object.entries(spec.nodes).map(([n, s]) => [n, { host: s.host, port: s.port }])),
    masters: [masterRef(layout.primary), ...layout.shadows.map(shadowRef)],
    where: `${primary.host}:${primary.port}`,
    timeoutMs: options.timeoutMs ?? 10_000,
    ...retryOptions(options),
  });
}

async function open(o: {
  logDir?: string;
  clusterId: string;
  secret: string;
  chunkSizeBytes: number;
  peers: Record<string, { host: string; port: number }>;
  masters: ActorRef<MasterMsg>[];
  where: string;
  timeoutMs: number;
  operationTimeoutMs?: number;
  onWait?: (w: RetryWait) => void;
}): Promise<ClusterConnection> {
  const { timeoutMs, where } = o;
  const node = await TroupeNode.start({
    node: `cli-${nanoid(8)}`,
    // Servers answer by dialing back the port we announce: on loopback only when every peer is local.
    tcp: { cluster: o.clusterId, secret: o.secret, listen: { host: Object.values(o.peers).every((p) => p.host === '127.0.0.1' || p.host === 'localhost') ? '127.0.0.1' : '0.0.0.0', port: 0 }, peers: o.peers, linkDownAfterMs: 2_000 },
    system: { logger: () => {}, askTimeoutMs: timeoutMs },
    ...(o.logDir === undefined ? {} : { log: { dir: o.logDir, fileName: CLIENT_LOG_FILE, noRpcFile: true, stderrLevel: false, level: logLevelFromEnv() } }),
  });
  // The request a command runs as (GfsClient.request): its id goes on every message it sends.
  const requests = asyncContext<RequestScope>();
  let unreachable: ConnectError | undefined;
  const reaching = (err: unknown): ConnectError | undefined => {
    if (isTroupeError(err, 'auth_failed')) return new ConnectError(`the cluster at ${where} refused our credentials — use the secret file of its data directory, or TROUPE_SECRET (${err.message})`);
    if (isTroupeError(err, 'link_down') || isTroupeError(err, 'node_unreachable') || isTroupeError(err, 'ask_timeout')) return new ConnectError(`no master at ${where} — is \`npm start\` running? (${err.message})`);
    return undefined;
  };
  const send = <R>(to: Parameters<typeof node.system.ask>[0], msg: unknown, opts?: { timeoutMs?: number }): Promise<R> => {
    const rid = requests.current()?.rid;
    const traced = rid !== undefined && msg !== null && typeof msg === 'object' && !('rid' in msg) ? { ...msg, rid } : msg;
    const toMaster = o.masters.some((m) => m.id === to.id && m.node === to.node);
    return node.system.ask<R>(to, traced, opts).then(
      (r) => {
        if (toMaster) unreachable = undefined;
        return r;
      },
      (err: unknown) => {
        if (toMaster) unreachable = reaching(err) ?? unreachable;
        throw err;
      },
    );
  };
  // The client gets the runtime's errors as they are; commands asking an actor directly get what to do.
  const ask = <R>(to: Parameters<typeof node.system.ask>[0], msg: unknown, opts?: { timeoutMs?: number }): Promise<R> =>
    send<R>(to, msg, opts).catch((err: unknown) => {
      throw reaching(err) ?? err;
    });
  const client = new GfsClient({
    ask: send,
    clock: realClock,
    timers: realTimers,
    masters: o.masters,
    clientId: node.node,
    host: hostname(),
    config: { chunkSizeBytes: o.chunkSizeBytes, rpcTimeoutMs: timeoutMs },
    requestIds: newRequestId,
    requestContext: requests,
    ...retryOptions(o),
    ...(node.fileLog === undefined ? {} : { log: makeLog(node.fileLog.logger, realClock, node.node, 'client') }),
  });
  return {
    client,
    node,
    ask,
    status: async () => {
      const r = await ask<GfsResult<ClusterStatus>>(o.masters[0] as ActorRef<MasterMsg>, { type: 'gfs.master.status' } satisfies MasterMsg, { timeoutMs });
      if (!r.ok) throw new ConnectError(`${r.error.code}: ${r.error.message}`);
      return r.value;
    },
    unreachable: () => unreachable,
    close: () => node.close(),
  };
}
