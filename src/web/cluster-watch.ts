import type { ClusterStatus, ServerStatus } from '../actors/gfs/protocol.js';

/** One line of the dashboard's "recent events". `time` is ms since the epoch. */
export interface DashboardEvent {
  readonly time: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

/** One point of the replication-backlog chart. */
export interface BacklogSample {
  readonly time: number;
  readonly underReplicated: number;
  readonly missing: number;
  readonly clonesInFlight: number;
}

export const EVENTS_MAX = 200;
export const HISTORY_SAMPLES_MAX = 300;
/** Longer event texts (e.g. an actor's error) are cut. */
export const EVENT_TEXT_CHARS_MAX = 300;

/** A ring of at most `max` items, oldest dropped first. */
export class Ring<T> {
  private readonly items: T[] = [];
  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError(`ring size ${max} must be at least 1`);
  }
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.max) this.items.splice(0, this.items.length - this.max);
  }
  /** Oldest first; at most `limit` of the newest. */
  toArray(limit = this.max): T[] {
    return this.items.slice(Math.max(0, this.items.length - limit));
  }
  get length(): number {
    return this.items.length;
  }
}

/**
 * What the dashboard remembers between status polls: the last status, the events derived from
 * changes between two statuses (a chunkserver joined, went down, came back, started or finished a
 * decommission; re-replication started, progressed, finished; the master became unreachable or
 * restarted), the events the master reports itself (a corrupt replica found, leases revoked or
 * adopted after a restart), runtime events, and the replication backlog over time. Pure: the caller passes the time, so tests drive it without a clock.
 */
export class ClusterWatch {
  readonly events = new Ring<DashboardEvent>(EVENTS_MAX);
  readonly history = new Ring<BacklogSample>(HISTORY_SAMPLES_MAX);
  last: ClusterStatus | undefined;
  lastError: string | undefined;
  /** Backlog when the current re-replication episode started, for progress. */
  private episodeStart = 0;
  /** The last master event taken into the list (its `seq`; they restart from 1 with each master incarnation). */
  private masterSeq = 0;

  note(time: number, level: DashboardEvent['level'], text: string): void {
    this.events.push({ time, level, text: text.length > EVENT_TEXT_CHARS_MAX ? `${text.slice(0, EVENT_TEXT_CHARS_MAX - 1)}…` : text });
  }

  /** Records a successful poll. */
  observe(time: number, s: ClusterStatus): void {
    const prev = this.last;
    if (this.lastError !== undefined) this.note(time, 'info', `master ${s.master} reachable again`);
    this.lastError = undefined;
    if (prev?.incarnation !== undefined && s.incarnation !== undefined && prev.incarnation !== s.incarnation) {
      this.note(time, 'warn', `master ${s.master} restarted`);
      this.masterSeq = 0;
    }
    // What only the master saw happen (corrupt replicas, revoked leases), once each.
    for (const e of s.events ?? []) {
      if (e.seq <= this.masterSeq) continue;
      this.note(time, e.level, e.text);
      this.masterSeq = e.seq;
    }
    this.diffServers(time, prev?.servers ?? [], s.servers, prev === undefined);
    this.diffBacklog(time, prev, s);
    this.history.push({ time, underReplicated: s.underReplicated, missing: s.missing, clonesInFlight: s.clonesInFlight });
    this.last = s;
  }

  /** Records a failed poll; one event per outage, not per poll. */
  observeError(time: number, message: string): void {
    if (this.lastError === undefined) this.note(time, 'error', `master unreachable: ${message}`);
    this.lastError = message;
  }

  /** Re-replication progress of the current episode, 0..1, or undefined when there is no backlog. */
  progress(): number | undefined {
    const s = this.last;
    if (s === undefined || s.underReplicated === 0 || this.episodeStart === 0) return undefined;
    return Math.max(0, Math.min(1, 1 - s.underReplicated / this.episodeStart));
  }

  private diffServers(time: number, before: readonly ServerStatus[], after: readonly ServerStatus[], first: boolean): void {
    const old = new Map(before.map((x) => [x.server, x]));
    for (const x of after) {
      const o = old.get(x.server);
      if (o === undefined) {
        this.note(time, x.alive ? 'info' : 'warn', `chunkserver ${x.server} (${x.rack}) ${first ? 'known to the master' : 'joined'}${x.alive ? '' : ', down'}`);
      } else if (o.alive && !x.alive) {
        this.note(time, 'warn', `chunkserver ${x.server} (${x.rack}) is down: no heartbeat within the timeout`);
      } else if (!o.alive && x.alive) {
        this.note(time, 'info', `chunkserver ${x.server} (${x.rack}) is back up`);
      }
      if (o !== undefined && o.decommission !== x.decommission) this.note(time, 'info', `chunkserver ${x.server} decommission: ${x.decommission}`);
    }
  }

  private diffBacklog(time: number, prev: ClusterStatus | undefined, s: ClusterStatus): void {
    const before = prev?.underReplicated ?? 0;
    if (before === 0 && s.underReplicated > 0) {
      this.episodeStart = s.underReplicated;
      this.note(time, 'warn', `${s.underReplicated} chunk(s) under-replicated; re-replication started`);
    } else if (before > 0 && s.underReplicated === 0) {
      this.note(time, 'info', `re-replication complete (${this.episodeStart} chunk(s) restored)`);
      this.episodeStart = 0;
    } else if (s.underReplicated > this.episodeStart) {
      this.episodeStart = s.underReplicated;
    } else if (before > 0 && s.underReplicated < before) {
      // At most one progress line per 10% step keeps the event list readable.
      const step = (n: number): number => Math.floor((10 * (this.episodeStart - n)) / Math.max(1, this.episodeStart));
      if (step(s.underReplicated) > step(before)) this.note(time, 'info', `re-replication: ${s.underReplicated} of ${this.episodeStart} chunk(s) left`);
    }
    if ((prev?.missing ?? 0) === 0 && s.missing > 0) this.note(time, 'error', `${s.missing} chunk(s) have no live replica`);
    else if ((prev?.missing ?? 0) > 0 && s.missing === 0) this.note(time, 'info', 'every chunk has a live replica again');
  }
}
