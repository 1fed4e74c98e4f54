/**
 * A history of operations for a linearizability check (Herlihy & Wing 1990): each operation is
 * invoked by one process at a (virtual) time and later completes with an outcome. A test records
 * what its clients asked and what they were told, then `checkLinearizable` looks for a sequential
 * order that explains every answer.
 *
 * Outcomes:
 * - `ok` and `fail`: the system answered (`fail` = with an error code); the answer must be
 *   explained by the model.
 * - `info`: the outcome is unknown (a timeout, a crash, a lost reply): the operation may have
 *   taken effect at any time after its invocation, or never.
 * - `pending`: never completed; the checker treats it as `info`.
 *
 * A process has at most one operation outstanding (it is one client thread).
 */
export type OpStatus = 'ok' | 'fail' | 'info';

export interface HistoryOp<I, O> {
  readonly id: number;
  readonly process: string;
  readonly input: I;
  readonly invokedAt: number;
  completedAt: number | undefined;
  status: OpStatus | 'pending';
  output: O | undefined;
  /** Why an `info` operation's outcome is unknown (for failure messages). */
  reason?: string;
}

export interface HistoryOptions<I, O> {
  /** Operations the history may hold; `invoke` throws past it. Default 100 000. */
  readonly opsMax?: number;
  /** Renders an operation for `format`; default JSON of input and output. */
  readonly describe?: (input: I, output: O | undefined) => string;
}

export const HISTORY_OPS_MAX_DEFAULT = 100_000;

export class History<I, O> {
  private readonly list: HistoryOp<I, O>[] = [];
  private readonly outstanding = new Map<string, number>();
  private readonly opsMax: number;
  private readonly describe: (input: I, output: O | undefined) => string;

  constructor(options: HistoryOptions<I, O> = {}) {
    this.opsMax = options.opsMax ?? HISTORY_OPS_MAX_DEFAULT;
    if (!(Number.isSafeInteger(this.opsMax) && this.opsMax > 0)) throw new RangeError(`History opsMax must be a positive integer, got ${this.opsMax}`);
    this.describe = options.describe ?? ((input, output) => `${JSON.stringify(input)}${output === undefined ? '' : ` → ${JSON.stringify(output)}`}`);
  }

  /** Records that `process` invoked an operation at `at`; returns its id. The process must have none outstanding. */
  invoke(process: string, input: I, at: number): number {
    if (this.list.length >= this.opsMax) throw new RangeError(`History is full: ${this.opsMax} operations (raise opsMax, or check a shorter run)`);
    if (!Number.isFinite(at)) throw new RangeError(`invoke at ${at}: time must be finite`);
    const open = this.outstanding.get(process);
    if (open !== undefined) throw new Error(`process ${process} invoked an operation while op #${open} is outstanding (one at a time per process)`);
    const id = this.list.length;
    this.list.push({ id, process, input, invokedAt: at, completedAt: undefined, status: 'pending', output: undefined });
    this.outstanding.set(process, id);
    return id;
  }

  /** The operation completed and the system answered `output`. */
  ok(id: number, output: O, at: number): void {
    const op = this.complete(id, at);
    op.status = 'ok';
    op.output = output;
  }

  /** The system answered with a definite error; `output` is compared by the model like an ok answer. */
  fail(id: number, output: O, at: number): void {
    const op = this.complete(id, at);
    op.status = 'fail';
    op.output = output;
  }

  /** The outcome is unknown (timeout, crash): the operation may or may not have taken effect. */
  info(id: number, at: number, reason?: string): void {
    const op = this.complete(id, at);
    op.status = 'info';
    if (reason !== undefined) op.reason = reason;
  }

  /** All operations by id (= invocation order). Operations still `pending` count as `info`. */
  ops(): readonly HistoryOp<I, O>[] {
    return this.list;
  }

  get length(): number {
    return this.list.length;
  }

  /** Readable lines for failure messages: all operations, or the ones named. */
  format(ids?: readonly number[]): string {
    const chosen = ids === undefined ? this.list : ids.map((id) => this.list[id]).filter((op): op is HistoryOp<I, O> => op !== undefined);
    return formatOps(chosen, this.describe);
  }

  private complete(id: number, at: number): HistoryOp<I, O> {
    const op = this.list[id];
    if (op === undefined) throw new RangeError(`no operation #${id} in the history`);
    if (op.status !== 'pending') throw new Error(`operation #${id} already completed (${op.status})`);
    if (!(at >= op.invokedAt)) throw new RangeError(`operation #${id} completed at ${at}, before its invocation at ${op.invokedAt}`);
    op.completedAt = at;
    this.outstanding.delete(op.process);
    return op;
  }
}

/** One line per operation: `#id process [invoked–completed] status description`. */
export function formatOps<I, O>(ops: readonly HistoryOp<I, O>[], describe: (input: I, output: O | undefined) => string): string {
  return ops
    .map((op) => {
      const end = op.completedAt === undefined ? '…' : fmtTime(op.completedAt);
      const why = op.status === 'info' && op.reason !== undefined ? ` (${op.reason})` : '';
      return `#${op.id} ${op.process} [${fmtTime(op.invokedAt)}–${end} ms] ${op.status}${why}: ${describe(op.input, op.output)}`;
    })
    .join('\n');
}

function fmtTime(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(3);
}
