/**
 * The object client, after librados (thesis §6.1, §6.3.2, §6.3.5.3; README.md "Object client").
 * A client keeps the OSD map (fetched from the monitors, then pushed by the one it subscribes to,
 * and refreshed from OSD replies), computes each object's PG and OSDs itself, and sends mutations
 * to the PG's first OSD and reads to its read-serving OSD.
 *
 * Each mutation returns `{ ack, commit }`: ack when every replica applied it (visible to every
 * later read), commit when it is durable on every replica. The client buffers a mutation until its
 * commit and resends it with the same reqid to whichever OSD the map then names (after a map change,
 * a retriable refusal, or silence for `resendAfterMs`), so an OSD failure costs a delay, not the
 * update; the OSDs recognize the reqid in the PG log and do not apply it twice.
 *
 * Who may call: any code holding the client, in any order; operations on one object are not
 * ordered unless the caller waits for one before the next. What can be lost: a mutation whose
 * promise ended with `timeout` may or may not have been applied.
 */
import type { ActorContext } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import type { ActorSystem } from '../../../runtime/system.js';
import { MonitorClient } from '../monitor/client.js';
import type { MonitorMsg, MonitorPush, Share } from '../monitor/protocol.js';
import { objectError, RETRIED_OBJECT_ERRORS, type ObjectError } from '../errors.js';
import { applyBundle } from '../osdmap/map-history.js';
import { objectPg, pgMapping } from '../osdmap/mapping.js';
import { applyIncremental, emptyOsdMap, validateOsdMap, type OsdMap, type OsdMapIncremental } from '../osdmap/osd-map.js';
import type { ClientReply, MapBundle, OsdDataMsg } from '../protocol.js';
import { isMutation, type ObjectOp, type ObjectOpResult } from '../osd/object-ops.js';
import { formatVersion, type Eversion } from '../osd/pg-log.js';
import { replicationRoles } from '../osd/replication.js';

export interface RadosClientConfig {
  /** An operation not finished by then ends with `timeout` (Ceph `rados_osd_op_timeout`; 0 there = forever). */
  readonly opTimeoutMs: number;
  /** Resend an operation (same reqid) when its OSD has said nothing for this long. */
  readonly resendAfterMs: number;
  /** Wait before resending after a retriable refusal. */
  readonly retryDelayMs: number;
  /** Operations in flight at most (Ceph `objecter_inflight_ops`, 1,024); more are refused with `busy`. */
  readonly inflightMax: number;
  /** Renew the monitor subscription (and fetch missed maps) this often. */
  readonly subscribeRenewMs: number;
  readonly monitorTimeoutMs: number;
  readonly tickMs: number;
  /** Names listed per PG request. */
  readonly listPageMax: number;
  /**
   * A mutation's data of at least this many bytes is copied once, at submit, into a
   * `SharedArrayBuffer`: the OSDs on other threads then see it without a copy per hop (a structured
   * clone of 4 MiB costs ~4.5 ms of CPU here), and the client's resends do not see later changes
   * to the caller's buffer. 0 turns it off.
   */
  readonly shareDataAboveBytes: number;
}

export const DEFAULT_RADOS_CLIENT_CONFIG: RadosClientConfig = {
  opTimeoutMs: 60_000,
  resendAfterMs: 5_000,
  retryDelayMs: 50,
  inflightMax: 1_024,
  subscribeRenewMs: 5_000,
  monitorTimeoutMs: 3_000,
  tickMs: 100,
  listPageMax: 1_000,
  shareDataAboveBytes: 64 * 1024,
};

export type ObjResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ObjectError };

/** A mutation's two promises (thesis §6.3.2). Neither rejects: failures are typed values. */
export interface MutationHandle {
  /** Every replica applied it: later reads see it. */
  readonly ack: Promise<ObjResult<MutationDone>>;
  /** Every replica has it on disk. */
  readonly commit: Promise<ObjResult<MutationDone>>;
}

export interface MutationDone {
  readonly version: Eversion;
  readonly results: readonly ObjectOpResult[];
}

export interface ObjectStat {
  readonly sizeBytes: number;
  readonly version: string;
}

export interface ListCursor {
  readonly ps: number;
  readonly after: string;
}

export interface RadosClientOptions {
  readonly system: ActorSystem;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  /** The client's name in reqids (unique per client instance). */
  readonly name: string;
  readonly config?: Partial<RadosClientConfig>;
}

type ClientInboxMsg = ClientReply | MonitorPush<OsdMap, OsdMapIncremental> | { readonly type: 'rados.client.tick' } | { readonly type: 'rados.client.map'; readonly share?: Share<OsdMap, OsdMapIncremental> };

interface Pending {
  readonly reqid: string;
  readonly pool: number;
  readonly oid: string;
  readonly ops: readonly ObjectOp[];
  readonly mutation: boolean;
  /** For list requests: the PG and cursor. */
  readonly list?: { readonly ps: number; readonly after: string; readonly max: number };
  tid: number;
  target: number;
  targetEpoch: number;
  sentAtMs: number;
  retryAtMs: number;
  readonly deadlineMs: number;
  acked: boolean;
  sends: number;
  readonly onAck: (r: ObjResult<MutationDone>) => void;
  readonly onDone: (r: ObjResult<MutationDone & { oids?: readonly string[]; more?: boolean }>) => void;
}

export class RadosClient {
  private readonly cfg: RadosClientConfig;
  private map: OsdMap = emptyOsdMap();
  private readonly pending = new Map<number, Pending>();
  private readonly byReqid = new Map<string, number>();
  private nextTid = 1;
  private nextSerial = 1;
  private ctx: ActorContext<ClientInboxMsg> | undefined;
  private inbox: ActorRef<ClientInboxMsg> | undefined;
  private readonly mon: MonitorClient;
  private fetching = false;
  private nextRenewMs = 0;
  private closed = false;
  private mapWaiters: (() => void)[] = [];

  private constructor(private readonly o: RadosClientOptions) {
    this.cfg = { ...DEFAULT_RADOS_CLIENT_CONFIG, ...o.config };
    this.mon = new MonitorClient({ ask: (to, msg, opts) => o.system.ask(to, msg, opts), monitors: o.monitors, timeoutMs: this.cfg.monitorTimeoutMs, attemptsMax: o.monitors.length * 2 });
  }

  /** Starts a client on `system` and fetches the map; `no_pool`-style errors come later, per operation. */
  static async connect(o: RadosClientOptions): Promise<ObjResult<RadosClient>> {
    const c = new RadosClient(o);
    c.inbox = o.system.spawn<ClientInboxMsg>((ctx) => {
      c.ctx = ctx;
      return {
        preStart: () => ctx.timers.repeat('tick', c.cfg.tickMs, { type: 'rados.client.tick' }),
        receive: (m) => c.receive(m),
      };
    });
    const r = await c.mon.read<OsdMap, OsdMapIncremental>(0);
    if (!r.ok || r.value.share === undefined) {
      c.close();
      if (!r.ok && r.error.runtimeCode === 'auth_failed') return { ok: false, error: objectError('auth_failed', `the cluster refused our credentials: the secret given is not this cluster's (${r.error.message})`) };
      return { ok: false, error: objectError('timeout', `no monitor answered: ${r.ok ? 'empty map' : r.error.message}`) };
    }
    c.onShare(r.value.share);
    c.subscribe();
    return { ok: true, value: c };
  }

  get epoch(): number {
    return this.map.epoch;
  }

  get osdMap(): OsdMap {
    return this.map;
  }

  /** Stops the client: operations still pending end with `interrupted`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) this.finish(p, { ok: false, error: objectError('interrupted', 'the client closed') });
    if (this.inbox !== undefined) this.o.system.stop(this.inbox);
  }

  /** An I/O context on a pool (librados `ioctx`). */
  pool(name: string): IoCtx {
    return new IoCtx(this, name);
  }

  poolId(name: string): number | undefined {
    return this.map.pools.find((p) => p.name === name)?.id;
  }

  /** Waits (up to `timeoutMs`) until the client's map reaches `epoch`. */
  async waitForEpoch(epoch: number, timeoutMs: number): Promise<boolean> {
    const until = this.now() + timeoutMs;
    while (this.map.epoch < epoch && this.now() < until) {
      this.fetch();
      await new Promise<void>((resolve) => {
        this.mapWaiters.push(resolve);
        this.o.system.env.timers.after(200, resolve);
      });
    }
    return this.map.epoch >= epoch;
  }

  private now(): number {
    return this.o.system.env.clock.now();
  }

  // ----- operations -----

  /** Submits one (compound) operation on one object; mutations resolve `ack` and then `done` (commit). */
  submit(poolName: string, oid: string, ops: readonly ObjectOp[], list?: { ps: number; after: string; max: number }): { ack: Promise<ObjResult<MutationDone>>; done: Promise<ObjResult<MutationDone & { oids?: readonly string[]; more?: boolean }>> } {
    let onAck!: (r: ObjResult<MutationDone>) => void;
    let onDone!: (r: ObjResult<MutationDone & { oids?: readonly string[]; more?: boolean }>) => void;
    const ack = new Promise<ObjResult<MutationDone>>((resolve) => (onAck = resolve));
    const done = new Promise<ObjResult<MutationDone & { oids?: readonly string[]; more?: boolean }>>((resolve) => (onDone = resolve));
    const fail = (e: ObjectError): void => {
      onAck({ ok: false, error: e });
      onDone({ ok: false, error: e });
    };
    if (this.closed) {
      fail(objectError('interrupted', 'the client is closed'));
      return { ack, done };
    }
    const pool = this.poolId(poolName);
    if (pool === undefined) {
      fail(objectError('no_pool', `no pool '${poolName}' at epoch ${this.map.epoch}`));
      return { ack, done };
    }
    if (this.pending.size >= this.cfg.inflightMax) {
      fail(objectError('busy', `${this.pending.size} operations in flight; wait for some`));
      return { ack, done };
    }
    const tid = this.nextTid++;
    const p: Pending = {
      reqid: `${this.o.name}:${this.nextSerial++}`,
      pool,
      oid,
      ops: this.cfg.shareDataAboveBytes > 0 ? shareLargeData(ops, this.cfg.shareDataAboveBytes) : ops,
      mutation: list === undefined && isMutation(ops),
      ...(list === undefined ? {} : { list }),
      tid,
      target: -1,
      targetEpoch: 0,
      sentAtMs: 0,
      retryAtMs: 0,
      deadlineMs: this.now() + this.cfg.opTimeoutMs,
      acked: false,
      sends: 0,
      onAck,
      onDone,
    };
    this.pending.set(tid, p);
    this.byReqid.set(p.reqid, tid);
    this.send(p);
    return { ack, done };
  }

  /** The OSD an operation must go to now: the PG's first OSD for mutations, its read-serving OSD otherwise. */
  private targetOf(p: Pending): number {
    const pool = this.map.pools.find((x) => x.id === p.pool);
    if (pool === undefined) return -2;
    const ps = p.list?.ps ?? objectPg(this.map, p.pool, p.oid)?.ps;
    if (ps === undefined) return -1;
    const m = pgMapping(this.map, p.pool, ps);
    if (m === undefined || m.acting.length === 0) return -1;
    const roles = replicationRoles(pool.replication, m.acting);
    return p.mutation ? roles.head : roles.reader;
  }

  private send(p: Pending): void {
    const ctx = this.ctx;
    if (ctx === undefined) return;
    const now = this.now();
    const target = this.targetOf(p);
    if (target === -2) return this.finish(p, { ok: false, error: objectError('no_pool', `pool ${p.pool} no longer exists`) });
    p.retryAtMs = 0;
    if (target < 0) {
      // No OSD serves the PG in this map: wait for a newer one (the tick retries).
      p.target = -1;
      p.retryAtMs = now + this.cfg.retryDelayMs * 20;
      return;
    }
    const addr = this.map.osds[target]?.addr;
    const hash = addr === undefined ? -1 : addr.lastIndexOf('#');
    const base = addr === undefined ? '' : hash < 0 ? addr : addr.slice(0, hash);
    const at = base.lastIndexOf('@');
    if (at <= 0) {
      p.retryAtMs = now + this.cfg.retryDelayMs * 20;
      return;
    }
    const to: ActorRef<OsdDataMsg> = { id: base.slice(0, at), node: base.slice(at + 1) };
    // A resend gets a new tid (replies to the old attempt are ignored) and keeps the reqid.
    this.pending.delete(p.tid);
    p.tid = this.nextTid++;
    this.pending.set(p.tid, p);
    this.byReqid.set(p.reqid, p.tid);
    p.target = target;
    p.targetEpoch = this.map.epoch;
    p.sentAtMs = now;
    p.sends++;
    const client = this.inbox as ActorRef<ClientReply>;
    if (p.list !== undefined) {
      ctx.tell(to, { type: 'rados.osd.pgList', epoch: this.map.epoch, client, tid: p.tid, pool: p.pool, ps: p.list.ps, after: p.list.after, max: p.list.max });
    } else {
      ctx.tell(to, { type: 'rados.osd.op', epoch: this.map.epoch, client, tid: p.tid, reqid: p.reqid, pool: p.pool, oid: p.oid, ops: p.ops });
    }
  }

  private finish(p: Pending, r: ObjResult<MutationDone & { oids?: readonly string[]; more?: boolean }>): void {
    this.pending.delete(p.tid);
    this.byReqid.delete(p.reqid);
    if (!p.acked) {
      p.acked = true;
      p.onAck(r.ok ? { ok: true, value: { version: r.value.version, results: r.value.results } } : r);
    }
    p.onDone(r);
  }

  // ----- inbox -----

  private receive(m: ClientInboxMsg): void {
    switch (m.type) {
      case 'rados.client.reply': {
        const p = this.pending.get(m.tid);
        if (p === undefined) return;
        const value = { version: m.version, results: m.results, ...(m.oids === undefined ? {} : { oids: m.oids }), ...(m.more === undefined ? {} : { more: m.more }) };
        if (m.stage === 'ack') {
          if (!p.acked) {
            p.acked = true;
            p.onAck({ ok: true, value });
          }
          return;
        }
        this.finish(p, { ok: true, value });
        return;
      }
      case 'rados.client.error': {
        if (m.bundle !== undefined) this.onBundle(m.bundle);
        const p = this.pending.get(m.tid);
        if (p === undefined) return;
        if (RETRIED_OBJECT_ERRORS.has(m.error.code)) {
          if (m.error.code === 'misdirected' && m.bundle === undefined) this.fetch();
          if (m.error.code === 'osd_behind') this.fetch();
          p.retryAtMs = this.now() + this.cfg.retryDelayMs * Math.min(20, p.sends);
          return;
        }
        this.finish(p, { ok: false, error: m.error });
        return;
      }
      case 'rados.mon.update':
        this.onShare(m.share);
        return;
      case 'rados.client.map':
        this.fetching = false;
        if (m.share !== undefined) this.onShare(m.share);
        return;
      case 'rados.client.tick':
        this.onTick();
        return;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  private onTick(): void {
    const now = this.now();
    if (now >= this.nextRenewMs) {
      this.nextRenewMs = now + this.cfg.subscribeRenewMs;
      this.subscribe();
      this.fetch();
    }
    for (const p of [...this.pending.values()]) {
      if (now >= p.deadlineMs) {
        this.finish(p, { ok: false, error: objectError('timeout', `no ${p.mutation && p.acked ? 'commit' : 'answer'} within ${this.cfg.opTimeoutMs} ms (${p.sends} sends, last to osd.${p.target})`) });
        continue;
      }
      if ((p.retryAtMs > 0 && now >= p.retryAtMs) || (p.target >= 0 && now - p.sentAtMs >= this.cfg.resendAfterMs)) this.send(p);
    }
  }

  private subscribe(): void {
    const ctx = this.ctx;
    const rank = this.mon.lastMonitor ?? 0;
    const to = this.o.monitors[rank];
    if (ctx === undefined || to === undefined) return;
    ctx.tell(to, { type: 'rados.mon.subscribe', subscriber: this.inbox as ActorRef<MonitorPush>, since: this.map.epoch });
  }

  private fetch(): void {
    if (this.fetching || this.closed) return;
    this.fetching = true;
    void this.mon.read<OsdMap, OsdMapIncremental>(this.map.epoch).then((r) => {
      const msg: ClientInboxMsg = { type: 'rados.client.map', ...(r.ok && r.value.share !== undefined ? { share: r.value.share } : {}) };
      if (this.inbox !== undefined && !this.closed) this.o.system.tell(this.inbox, msg);
      else this.fetching = false;
    });
  }

  private onShare(share: Share<OsdMap, OsdMapIncremental>): void {
    let map = this.map;
    if (share.snapshot !== undefined && share.snapshot.version > map.epoch) {
      const v = validateOsdMap(share.snapshot.state);
      if (v.ok) map = v.value;
    }
    for (const [, inc] of share.incs) {
      if (inc.epoch <= map.epoch) continue;
      const r = applyIncremental(map, inc);
      if (!r.ok) break;
      map = r.value;
    }
    this.setMap(map);
  }

  private onBundle(b: MapBundle): void {
    if (b.kind === 'none') return;
    const r = applyBundle(this.map, b);
    if (r.ok) this.setMap(r.value);
    else this.fetch();
  }

  /** A newer map: resend every unfinished operation whose target changed (thesis §6.3.5.3). */
  private setMap(map: OsdMap): void {
    if (map.epoch <= this.map.epoch) return;
    this.map = map;
    for (const w of this.mapWaiters.splice(0)) w();
    for (const p of [...this.pending.values()]) {
      const t = this.targetOf(p);
      if (t !== p.target) this.send(p);
    }
  }

  /** For tests and the CLI: a one-line description of the pending operations. */
  describePending(): string {
    return [...this.pending.values()].map((p) => `${p.reqid} ${p.oid} → osd.${p.target} (${p.sends} sends${p.acked ? ', acked' : ''})`).join('; ');
  }
}

/**
 * `ops` with every data payload of at least `minBytes` copied into its own `SharedArrayBuffer`.
 * Why shared and not transferred (`transferOwnership`): every holder of an update's bytes keeps
 * them after sending — the client until the commit (for resends, thesis §6.3.5.3), a primary-copy
 * primary until it applies last, each OSD in its recent updates for activation — so a transfer
 * would empty a copy still needed. Shared memory is read by all and written by none: the object
 * store copies what it applies into its own pages.
 */
function shareLargeData(ops: readonly ObjectOp[], minBytes: number): readonly ObjectOp[] {
  if (!ops.some((o) => 'data' in o && o.data.byteLength >= minBytes)) return ops;
  return ops.map((o) => {
    if (!('data' in o) || o.data.byteLength < minBytes) return o;
    const shared = new Uint8Array(new SharedArrayBuffer(o.data.byteLength));
    shared.set(o.data);
    return { ...o, data: shared };
  });
}

/** Operations on one pool (librados `IoCtx`). Mutations return `{ ack, commit }`; reads return a result. */
export class IoCtx {
  constructor(
    private readonly c: RadosClient,
    readonly poolName: string,
  ) {}

  /** A compound mutation: all of `ops` on one object, or none of them (`cmpxattr` guards first). */
  operate(oid: string, ops: readonly ObjectOp[]): MutationHandle {
    const r = this.c.submit(this.poolName, oid, ops);
    return { ack: r.ack, commit: r.done.then((d) => (d.ok ? { ok: true, value: { version: d.value.version, results: d.value.results } } : d)) };
  }

  write(oid: string, data: Uint8Array, offset = 0): MutationHandle {
    return this.operate(oid, [{ op: 'write', offset, data }]);
  }

  writeFull(oid: string, data: Uint8Array): MutationHandle {
    return this.operate(oid, [{ op: 'writeFull', data }]);
  }

  append(oid: string, data: Uint8Array): MutationHandle {
    return this.operate(oid, [{ op: 'append', data }]);
  }

  truncate(oid: string, size: number): MutationHandle {
    return this.operate(oid, [{ op: 'truncate', size }]);
  }

  remove(oid: string): MutationHandle {
    return this.operate(oid, [{ op: 'remove' }]);
  }

  create(oid: string, exclusive: boolean): MutationHandle {
    return this.operate(oid, [{ op: 'create', exclusive }]);
  }

  setxattr(oid: string, name: string, value: Uint8Array): MutationHandle {
    return this.operate(oid, [{ op: 'setxattr', name, value }]);
  }

  rmxattr(oid: string, name: string): MutationHandle {
    return this.operate(oid, [{ op: 'rmxattr', name }]);
  }

  private async readOps<T>(oid: string, ops: readonly ObjectOp[], pick: (r: readonly ObjectOpResult[]) => T): Promise<ObjResult<T>> {
    const r = await this.c.submit(this.poolName, oid, ops).done;
    return r.ok ? { ok: true, value: pick(r.value.results) } : r;
  }

  /** Up to `length` bytes from `offset` (0 = to the end). */
  read(oid: string, offset = 0, length = 0): Promise<ObjResult<Uint8Array>> {
    return this.readOps(oid, [{ op: 'read', offset, length }], (r) => (r[0]?.op === 'read' ? r[0].data : new Uint8Array(0)));
  }

  stat(oid: string): Promise<ObjResult<ObjectStat>> {
    return this.readOps(oid, [{ op: 'stat' }], (r) => (r[0]?.op === 'stat' ? { sizeBytes: r[0].sizeBytes, version: r[0].version } : { sizeBytes: 0, version: formatVersion({ epoch: 0, v: 0 }) }));
  }

  getxattr(oid: string, name: string): Promise<ObjResult<Uint8Array>> {
    return this.readOps(oid, [{ op: 'getxattr', name }], (r) => (r[0]?.op === 'getxattr' ? r[0].value : new Uint8Array(0)));
  }

  getxattrs(oid: string): Promise<ObjResult<Map<string, Uint8Array>>> {
    return this.readOps(oid, [{ op: 'getxattrs' }], (r) => new Map(r[0]?.op === 'getxattrs' ? r[0].attrs : []));
  }

  /** One page of object names, PG by PG; pass `next` back for the following page (undefined at the end). */
  async list(cursor: ListCursor = { ps: 0, after: '' }, max = 1_000): Promise<ObjResult<{ oids: string[]; next: ListCursor | undefined }>> {
    const pool = this.c.osdMap.pools.find((p) => p.name === this.poolName);
    if (pool === undefined) return { ok: false, error: objectError('no_pool', `no pool '${this.poolName}'`) };
    const oids: string[] = [];
    let cur = cursor;
    while (cur.ps < pool.pgNum && oids.length < max) {
      const r = await this.c.submit(this.poolName, '', [{ op: 'stat' }], { ps: cur.ps, after: cur.after, max: max - oids.length }).done;
      if (!r.ok) return r;
      const got = r.value.oids ?? [];
      oids.push(...got);
      cur = r.value.more === true && got.length > 0 ? { ps: cur.ps, after: got[got.length - 1]! } : { ps: cur.ps + 1, after: '' };
    }
    return { ok: true, value: { oids, next: cur.ps < pool.pgNum ? cur : undefined } };
  }
}
