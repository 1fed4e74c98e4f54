/**
 * Who applies, who forwards, who acks and who commits one update of a PG, for each replication
 * mode of thesis §6.3.1 and Figs 6.3–6.4 (digest §3.7). Pure: a per-OSD, per-update state machine
 * (`replicaStep`) that takes an event and returns the effects the OSD performs. The OSD actor does
 * the I/O; the unit tests route effects between simulated OSDs and check the figures' message flows.
 *
 * acting = [a0, …, an−1]; a0 is the first OSD ("primary" or "head"): it receives the client's write,
 * assigns the version and the log entry (§6.3.4).
 *
 * - primary-copy: a0 logs the entry (write-ahead) and forwards to a1…an−1 in parallel; each applies
 *   and tells a0 it applied, later that it committed; a0 applies last (the delayed write at the
 *   read-serving OSD), then acks the client; it commits to the client when every copy is durable.
 *   Reads go to a0. A 2× write costs 4 messages.
 * - chain: each OSD applies, then forwards to the next; the tail acks the client (a forwarded update
 *   is an implicit ack). Every OSD sends its commit to the tail, which commits to the client. Reads
 *   go to the tail. A 2× write costs 3 messages.
 * - splay: the head applies and forwards to the middle replicas and the tail in parallel; the tail
 *   only logs (its write is delayed); the head and the middles tell the tail when they applied;
 *   once all did, the tail applies and acks. Commits are aggregated at the tail. Reads go to the tail.
 *
 * Ack = applied in memory on every replica; commit = durable on every replica (§6.3.2).
 */
import type { ReplicationMode } from '../osdmap/osd-map.js';

export interface ReplicationRoles {
  readonly mode: ReplicationMode;
  readonly acting: readonly number[];
  /** Receives writes, assigns versions. */
  readonly head: number;
  /** Serves reads (the primary, or the tail for chain and splay). */
  readonly reader: number;
  /** Acks the client and aggregates commits. */
  readonly acker: number;
  /** The OSD that logs first and applies last, or −1 (chain, or a single replica). */
  readonly delayed: number;
}

export function replicationRoles(mode: ReplicationMode, acting: readonly number[]): ReplicationRoles {
  if (acting.length === 0) throw new Error('replicationRoles: empty acting set');
  const head = acting[0]!;
  const tail = acting[acting.length - 1]!;
  const n = acting.length;
  switch (mode) {
    case 'primary-copy':
      return { mode, acting, head, reader: head, acker: head, delayed: n > 1 ? head : -1 };
    case 'chain':
      return { mode, acting, head, reader: tail, acker: tail, delayed: -1 };
    case 'splay':
      return { mode, acting, head, reader: tail, acker: tail, delayed: n > 1 ? tail : -1 };
    default: {
      const never: never = mode;
      throw new Error(`unknown replication mode ${String(never)}`);
    }
  }
}

/** Per OSD, per update. */
export interface ReplicaState {
  readonly logged: boolean;
  readonly applied: boolean;
  readonly committed: boolean;
  /** OSDs (other than self) known to have applied / committed (kept only by the acker). */
  readonly peersApplied: readonly number[];
  readonly peersCommitted: readonly number[];
  readonly acked: boolean;
  readonly commitSent: boolean;
}

export const INITIAL_REPLICA_STATE: ReplicaState = { logged: false, applied: false, committed: false, peersApplied: [], peersCommitted: [], acked: false, commitSent: false };

export type ReplicaEvent =
  /** The update arrived here (from the client at the head, else from a peer). */
  | { readonly kind: 'received' }
  /** This OSD's store applied (visible to reads) / committed (durable) the update's data. */
  | { readonly kind: 'selfApplied' }
  | { readonly kind: 'selfCommitted' }
  | { readonly kind: 'peerApplied'; readonly osd: number }
  | { readonly kind: 'peerCommitted'; readonly osd: number };

export type ReplicaEffect =
  /** Write the log entry alone now (write-ahead); the data comes with a later `apply`. */
  | { readonly kind: 'log' }
  /** Apply the data (with the log entry, unless already logged) in one transaction. */
  | { readonly kind: 'apply' }
  | { readonly kind: 'forward'; readonly to: readonly number[] }
  | { readonly kind: 'sendApplied'; readonly to: number }
  | { readonly kind: 'sendCommitted'; readonly to: number }
  | { readonly kind: 'ackClient' }
  | { readonly kind: 'commitClient' };

/** One step of OSD `self`'s state machine for one update under `roles`. */
export function replicaStep(roles: ReplicationRoles, self: number, s: ReplicaState, ev: ReplicaEvent): { state: ReplicaState; effects: ReplicaEffect[] } {
  const idx = roles.acting.indexOf(self);
  if (idx < 0) throw new Error(`replicaStep: osd ${self} is not in the acting set ${JSON.stringify(roles.acting)}`);
  const n = roles.acting.length;
  const others = roles.acting.filter((o) => o !== self);
  const effects: ReplicaEffect[] = [];
  let st = s;
  const isAcker = self === roles.acker;
  const allApplied = (x: ReplicaState): boolean => others.every((o) => x.peersApplied.includes(o));
  const allCommitted = (x: ReplicaState): boolean => x.committed && others.every((o) => x.peersCommitted.includes(o));

  switch (ev.kind) {
    case 'received': {
      if (st.logged || st.applied) return { state: st, effects };
      if (self === roles.delayed) {
        // The read-serving OSD logs the entry now and applies last (§6.3.1, §6.3.4).
        st = { ...st, logged: true };
        effects.push({ kind: 'log' });
        if (roles.mode === 'primary-copy') effects.push({ kind: 'forward', to: others });
      } else {
        st = { ...st, logged: true };
        // The splay head forwards first, so the tail has the update before the head's "applied" reaches it.
        if (roles.mode === 'splay' && idx === 0 && n > 1) effects.push({ kind: 'forward', to: others });
        effects.push({ kind: 'apply' });
      }
      break;
    }
    case 'selfApplied': {
      if (st.applied) return { state: st, effects };
      st = { ...st, applied: true };
      if (isAcker) {
        // The acker applies last under primary-copy and splay (its write waited for all others), and
        // under chain every predecessor applied before forwarding: the update is everywhere.
        st = { ...st, acked: true };
        effects.push({ kind: 'ackClient' });
      } else if (roles.mode === 'chain') {
        effects.push({ kind: 'forward', to: [roles.acting[idx + 1]!] });
      } else {
        effects.push({ kind: 'sendApplied', to: roles.acker });
      }
      break;
    }
    case 'selfCommitted': {
      if (st.committed) return { state: st, effects };
      st = { ...st, committed: true };
      if (!isAcker) effects.push({ kind: 'sendCommitted', to: roles.acker });
      break;
    }
    case 'peerApplied': {
      if (!isAcker || st.peersApplied.includes(ev.osd) || !others.includes(ev.osd)) return { state: st, effects };
      st = { ...st, peersApplied: [...st.peersApplied, ev.osd] };
      if (self === roles.delayed && st.logged && !st.applied && allApplied(st)) effects.push({ kind: 'apply' });
      break;
    }
    case 'peerCommitted': {
      if (!isAcker || st.peersCommitted.includes(ev.osd) || !others.includes(ev.osd)) return { state: st, effects };
      st = { ...st, peersCommitted: [...st.peersCommitted, ev.osd] };
      break;
    }
    default: {
      const never: never = ev;
      throw new Error(`unknown replica event ${JSON.stringify(never)}`);
    }
  }
  if (isAcker && st.acked && !st.commitSent && allCommitted(st)) {
    st = { ...st, commitSent: true };
    effects.push({ kind: 'commitClient' });
  }
  return { state: st, effects };
}

/** The OSD that serves reads of a PG under `mode` (primary-copy: the primary; chain and splay: the tail). */
export function readServer(mode: ReplicationMode, acting: readonly number[]): number {
  return acting.length === 0 ? -1 : replicationRoles(mode, acting).reader;
}
