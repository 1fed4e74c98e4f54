import type { ActorRef } from '../../runtime/ref.js';

/**
 * The coordination service's data types and operations. The same request and response objects
 * are decoded from ZooKeeper's jute wire protocol (wire/codec.ts) and carried in the native
 * client's actor messages (`coord.*` below), so both kinds of client reach the same server core
 * (server/server-core.ts). Field names follow ZooKeeper's jute records (zookeeper.jute).
 */

/** ZooKeeper's operation codes (ZooDefs.OpCode) as sent in the request header's `type`. */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

/** Special xids (ClientCnxn): replies to these are not matched to a pending request. */
export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const;

/** ZooDefs.Perms. */
export const Perm = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

/** CreateMode flags as the create request carries them. */
export const CreateFlag = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
  persistentWithTtl: 5,
  persistentSequentialWithTtl: 6,
} as const;

/** Watcher.Event.EventType. */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

/** Watcher.Event.KeeperState values a server sends. */
export const KeeperState = { Disconnected: 0, SyncConnected: 3, AuthFailed: 4, ConnectedReadOnly: 5, Expired: -112, Closed: 7 } as const;

/** AddWatchMode. */
export const AddWatchMode = { persistent: 0, persistentRecursive: 1 } as const;

/** Watcher.WatcherType for removeWatches/checkWatches. */
export const WatcherType = { children: 1, data: 2, any: 3 } as const;

export interface Id {
  readonly scheme: string;
  readonly id: string;
}

export interface Acl {
  readonly perms: number;
  readonly id: Id;
}

export interface Stat {
  readonly czxid: number;
  readonly mzxid: number;
  readonly ctime: number;
  readonly mtime: number;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: bigint;
  readonly dataLength: number;
  readonly numChildren: number;
  readonly pzxid: number;
}

export interface WatchEvent {
  readonly type: number;
  readonly state: number;
  readonly path: string;
}

/** Create: `opCode` says which of ZooKeeper's four create requests it was (the reply differs). */
export interface CreateRequest {
  readonly op: 'create';
  readonly opCode: 1 | 15 | 19 | 21;
  readonly path: string;
  /** null when the client sent a null buffer (ZooKeeper stores and returns it as null). */
  readonly data: Uint8Array | null;
  readonly acl: readonly Acl[];
  readonly flags: number;
  /** For createTTL (and TTL flags): milliseconds. */
  readonly ttl?: number;
}

export type WriteOp =
  | CreateRequest
  | { readonly op: 'delete'; readonly path: string; readonly version: number }
  | { readonly op: 'setData'; readonly path: string; readonly data: Uint8Array | null; readonly version: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

export type ReadOp =
  | { readonly op: 'getData'; readonly path: string; readonly watch: boolean }
  | { readonly op: 'getChildren'; readonly path: string; readonly watch: boolean; readonly withStat: boolean };

export type Request =
  | WriteOp
  | ReadOp
  | { readonly op: 'exists'; readonly path: string; readonly watch: boolean }
  | { readonly op: 'getACL'; readonly path: string }
  | { readonly op: 'setACL'; readonly path: string; readonly acl: readonly Acl[]; readonly version: number }
  | { readonly op: 'getAllChildrenNumber'; readonly path: string }
  | { readonly op: 'getEphemerals'; readonly prefixPath: string }
  | { readonly op: 'sync'; readonly path: string }
  | { readonly op: 'multi'; readonly ops: readonly WriteOp[] }
  | { readonly op: 'multiRead'; readonly ops: readonly ReadOp[] }
  | { readonly op: 'addWatch'; readonly path: string; readonly mode: number }
  | { readonly op: 'removeWatches'; readonly path: string; readonly type: number }
  | { readonly op: 'checkWatches'; readonly path: string; readonly type: number }
  | {
      readonly op: 'setWatches';
      /** setWatches (101) or setWatches2 (105, which adds the persistent lists). */
      readonly opCode: 101 | 105;
      readonly relativeZxid: number;
      readonly dataWatches: readonly string[];
      readonly existWatches: readonly string[];
      readonly childWatches: readonly string[];
      readonly persistentWatches: readonly string[];
      readonly persistentRecursiveWatches: readonly string[];
    }
  | { readonly op: 'auth'; readonly type: number; readonly scheme: string; readonly auth: Uint8Array }
  | { readonly op: 'whoAmI' }
  | { readonly op: 'closeSession' }
  | { readonly op: 'ping' };

export type Response =
  | { readonly op: 'create'; readonly path: string; readonly stat?: Stat }
  | { readonly op: 'delete' }
  | { readonly op: 'check' }
  | { readonly op: 'exists'; readonly stat: Stat }
  | { readonly op: 'getData'; readonly data: Uint8Array | null; readonly stat: Stat }
  | { readonly op: 'setData'; readonly stat: Stat }
  | { readonly op: 'getACL'; readonly acl: readonly Acl[]; readonly stat: Stat }
  | { readonly op: 'setACL'; readonly stat: Stat }
  | { readonly op: 'getChildren'; readonly children: readonly string[]; readonly stat?: Stat }
  | { readonly op: 'getAllChildrenNumber'; readonly totalNumber: number }
  | { readonly op: 'getEphemerals'; readonly ephemerals: readonly string[] }
  | { readonly op: 'sync'; readonly path: string }
  | { readonly op: 'multi'; readonly results: readonly MultiResult[] }
  | { readonly op: 'multiRead'; readonly results: readonly MultiResult[] }
  | { readonly op: 'whoAmI'; readonly clientInfo: readonly { authScheme: string; user: string }[] }
  /** addWatch's reply carries an ErrorResponse with err 0 (as ZooKeeper 3.8 sends). */
  | { readonly op: 'addWatch' }
  | { readonly op: 'empty' };

/** One operation's outcome in a multi: its response, or ZooKeeper's ErrorResult. */
export type MultiResult = Response | { readonly op: 'error'; readonly err: number };

/** A reply as the server sends it: `err` is a code of errors.ts; `body` only when `err` is 0. */
export interface Reply {
  readonly xid: number;
  readonly zxid: number;
  readonly err: number;
  readonly body?: Response;
}

export interface ConnectRequest {
  readonly protocolVersion: number;
  readonly lastZxidSeen: number;
  readonly timeOut: number;
  readonly sessionId: bigint;
  readonly passwd: Uint8Array;
  /** Absent in frames from old clients (node-zookeeper-client sends none). */
  readonly readOnly?: boolean;
}

export interface ConnectResponse {
  readonly protocolVersion: number;
  /** 0 when the session is unknown, expired or the password is wrong: the client treats it as expired. */
  readonly timeOut: number;
  readonly sessionId: bigint;
  readonly passwd: Uint8Array;
  /** Written only when the client's request carried the flag (as ZooKeeper does). */
  readonly readOnly?: boolean;
}

// ---- Native client messages (actor protocol) --------------------------------------------------

/** To the server actor (server/server-actor.ts). */
export type CoordServerMsg =
  | {
      readonly type: 'coord.server.connect';
      /** Where replies and watch events go, in order (invariant W3). */
      readonly client: ActorRef<CoordClientMsg>;
      readonly connectionId: string;
      readonly request: ConnectRequest;
    }
  /**
   * `seq` numbers a connection's requests from 1 (and the server's messages on it likewise): the
   * actor transport drops messages while a link is cut and delivers later ones after it heals, so a
   * gap means one was lost and the connection is broken — the receiver closes it, as a TCP
   * connection would break, and the client reconnects (setWatches re-fires what it missed).
   */
  | { readonly type: 'coord.server.request'; readonly connectionId: string; readonly xid: number; readonly request: Request; readonly seq?: number }
  | { readonly type: 'coord.server.disconnect'; readonly connectionId: string }
  | { readonly type: 'coord.server.tick' };

/** To a native client's connection actor (client/). */
export type CoordClientMsg =
  | { readonly type: 'coord.client.connected'; readonly connectionId: string; readonly response: ConnectResponse; readonly seq?: number }
  | { readonly type: 'coord.client.reply'; readonly connectionId: string; readonly reply: Reply; readonly seq?: number }
  | { readonly type: 'coord.client.event'; readonly connectionId: string; readonly event: WatchEvent; readonly seq?: number }
  | { readonly type: 'coord.client.closed'; readonly connectionId: string; readonly reason: string; readonly seq?: number };
