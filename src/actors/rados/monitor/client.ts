import type { AskOptions } from '../../../runtime/behavior.js';
import { TroupeError } from '../../../runtime/errors.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { fail, tryAnotherMonitor, type MonResult } from './errors.js';
import type { MonitorMsg, MonitorStatus, ReadReply, SubmitReply } from './protocol.js';

/**
 * A client of the monitor cluster (thesis §6.2.4: "if it does not get a response after a few
 * seconds, it simply tries contacting a different monitor"). Each request goes to the monitor that
 * last answered; when it does not answer in time, or answers that it is outside the quorum or holds
 * no lease, the next monitor gets it. A full round of monitors without an answer waits a backoff
 * before the next; the attempts are bounded.
 *
 * Submissions are at least once: a command whose monitor did not answer may have been committed,
 * and the retry can commit it again — submit idempotent commands (as failure reports are), or read
 * the state to find out.
 */
export interface MonitorClientOptions {
  /** How to ask (an ActorSystem's or an actor context's `ask`). */
  readonly ask: <R>(to: ActorRef<MonitorMsg>, msg: MonitorMsg, options: AskOptions) => Promise<R>;
  readonly monitors: readonly ActorRef<MonitorMsg>[];
  /** How long one monitor has to answer (thesis: "a few seconds"). Default 3 s. */
  readonly timeoutMs?: number;
  /** Requests sent in all, over every monitor. Default 3 rounds of the monitors. */
  readonly attemptsMax?: number;
  /** Waits between rounds (from the runtime's timers; default: no wait). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly backoffMs?: number;
  /** Which monitor to try first. Default 0. */
  readonly preferred?: number;
  /**
   * The commands are idempotent: a submission that ended `outcome_unknown` (the leader lost its
   * quorum mid-commit) is sent again, like one that got no answer. Default false: the caller gets
   * `outcome_unknown` and decides.
   */
  readonly idempotent?: boolean;
}

export class MonitorClient {
  private next: number;
  /** Rank of the monitor that answered the last request. */
  lastMonitor: number | undefined;

  constructor(private readonly o: MonitorClientOptions) {
    if (o.monitors.length === 0) throw new RangeError('a monitor client needs at least one monitor');
    this.next = (o.preferred ?? 0) % o.monitors.length;
  }

  /**
   * Submits a command; resolves once it is committed (with its version) or with the error that
   * ended the attempts. With a `requestId` (unique per command) every attempt carries it, so a
   * retry after a lost answer, a timeout or `outcome_unknown` is answered from the committed
   * history rather than committed twice (README P10).
   */
  submit(cmd: unknown, options: { readonly requestId?: string } = {}): Promise<MonResult<SubmitReply>> {
    if (options.requestId === undefined) return this.request<SubmitReply>({ type: 'rados.mon.submit', cmd });
    return this.request<SubmitReply>({ type: 'rados.mon.submit', cmd, requestId: options.requestId }, true);
  }

  /** The latest committed state (or the versions after `since`), served under a lease. */
  read<S = unknown, I = unknown>(since?: number): Promise<MonResult<ReadReply<S, I>>> {
    return this.request<ReadReply<S, I>>(since === undefined ? { type: 'rados.mon.read' } : { type: 'rados.mon.read', since });
  }

  /** One monitor's status (no retry: the caller asked that monitor). */
  async status(rank: number): Promise<MonResult<MonitorStatus>> {
    const to = this.o.monitors[rank];
    if (to === undefined) return fail('invalid_request', `no monitor of rank ${rank}`);
    try {
      return await this.o.ask<MonResult<MonitorStatus>>(to, { type: 'rados.mon.status' }, { timeoutMs: this.o.timeoutMs ?? 3_000 });
    } catch (err) {
      return runtimeFailure(err, rank);
    }
  }

  private async request<T>(msg: MonitorMsg, idempotent = this.o.idempotent === true): Promise<MonResult<T>> {
    const n = this.o.monitors.length;
    const attempts = this.o.attemptsMax ?? 3 * n;
    let last: MonResult<T> = fail('unavailable', 'no monitor was asked');
    for (let i = 0; i < attempts; i++) {
      if (i > 0 && i % n === 0 && this.o.sleep !== undefined) await this.o.sleep(this.o.backoffMs ?? 500);
      const rank = this.next;
      const to = this.o.monitors[rank] as ActorRef<MonitorMsg>;
      try {
        const r = await this.o.ask<MonResult<T>>(to, msg, { timeoutMs: this.o.timeoutMs ?? 3_000 });
        if (r.ok || !(tryAnotherMonitor(r.error.code) || (idempotent && r.error.code === 'outcome_unknown'))) {
          this.lastMonitor = rank;
          return r;
        }
        last = r;
      } catch (err) {
        last = runtimeFailure(err, rank);
        // Every monitor shares the one cluster secret: another will refuse it too, and so will a retry.
        if (!last.ok && last.error.runtimeCode === 'auth_failed') return last;
      }
      this.next = (rank + 1) % n;
    }
    return last;
  }
}

function runtimeFailure<T>(err: unknown, rank: number): MonResult<T> {
  if (err instanceof TroupeError) return fail('unavailable', `monitor ${rank} did not answer: ${err.message}`, { runtimeCode: err.code, delivery: err.delivery });
  return fail('unavailable', `monitor ${rank} did not answer: ${String(err)}`);
}
