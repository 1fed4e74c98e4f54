/**
 * The state a monitor cluster keeps, as a plug-in: the monitors replicate a `MonitorService`'s
 * state with Paxos without knowing what it is (thesis §6.2.4, footnote 1: "the integration of Paxos
 * with a leasing mechanism is implemented as a generic service" — Ceph runs its OSD map, MDS map and
 * others over it). The OSD map is one such service; `kv-service.ts` is a small one for tests and
 * benchmarks.
 *
 * Versions are consecutive integers from 0 (`initial()`). Each committed version holds exactly one
 * incremental; the state at version v is `initial()` with the incrementals of versions 1..v applied
 * in order (README invariant P5). State, commands and incrementals are plain msgpack-encodable data:
 * they are logged on disk and cross the network.
 */
export interface MonitorService<State, Cmd, Inc> {
  /** Names the service in logs and status (e.g. `osdmap`). */
  readonly name: string;
  /** The state at version 0. */
  initial(): State;
  /**
   * Leader only, pure: turns a command into the incremental to propose (and a reply for the caller,
   * sent once the version holding it is committed), or a typed error sent back at once. `state`
   * already includes the incrementals of earlier commands of the same batch. `now` is the leader's
   * clock (ms).
   */
  prepare(state: State, cmd: Cmd, now: number): { ok: true; inc: Inc; reply?: unknown } | { ok: false; error: { code: string; message: string } };
  /** Pure: the state after `inc`. Must not change `state` (it may be shared with snapshots). */
  apply(state: State, inc: Inc): State;
  /**
   * Optional, pure: one incremental equal to applying `first` then `second`
   * (`apply(apply(s, first), second)` equals `apply(s, compose(first, second))`). With it, the
   * leader batches every command that queued while a proposal was in flight into one version (one
   * Paxos round for many commands, as Ceph's monitors do with a pending incremental). Without it,
   * each command is a version of its own.
   */
  compose?(first: Inc, second: Inc): Inc;
  /**
   * Optional, leader only: an accumulator for one proposal (Ceph's pending incremental). When
   * present the leader uses it instead of `prepare`/`apply`/`compose` for each command, so a batch
   * of n commands costs O(n) rather than n state copies and n growing compositions. It must agree
   * with them: `add` answers as `prepare` would against `state` with the incrementals of the
   * commands added so far applied, and `finish` returns their composition (undefined when none
   * was accepted).
   */
  batch?(state: State, now: number): ServiceBatch<Cmd, Inc>;
  /**
   * Optional, leader only, pure: commands the leader submits itself, for decisions driven by time
   * rather than by a request (e.g. marking an OSD `out` after it stayed `down` too long). Called on
   * every monitor tick while this monitor leads an active quorum; the commands join the queue like
   * submitted ones (their replies go nowhere).
   */
  tick?(state: State, now: number): Cmd[];
}

/** One proposal's accumulator (`MonitorService.batch`). */
export interface ServiceBatch<Cmd, Inc> {
  add(cmd: Cmd): { ok: true; reply?: unknown } | { ok: false; error: { code: string; message: string } };
  finish(): Inc | undefined;
}

/** Any service, for code that only moves its values around. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMonitorService = MonitorService<any, any, any>;
