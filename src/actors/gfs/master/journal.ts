import type { MasterCheckpoint, MasterRecord } from './master-state.js';

/**
 * Where a master keeps its operation log and checkpoints (patent ¶47–51). `append` resolves
 * once the records are durable on this master (group commit is the implementation's business);
 * recovery is the newest complete checkpoint plus the records after it.
 */
export interface Journal {
  load(): Promise<{ readonly checkpoint: { readonly lsn: number; readonly state: MasterCheckpoint } | undefined; readonly records: readonly MasterRecord[] }>;
  /** Appends records `firstLsn, firstLsn + 1, …`; durable when it resolves. */
  append(firstLsn: number, records: readonly MasterRecord[]): Promise<void>;
  /** Writes a checkpoint of the state after record `lsn`; later loads start from it. */
  checkpoint(lsn: number, state: MasterCheckpoint): Promise<void>;
  /** Flushes and closes the log (when the master stops). */
  close?(): Promise<void>;
}

/**
 * A journal in memory, for tests and simulations: it outlives the actor that writes it (keep it
 * outside the node's boot function, like a disk), and everything appended is durable at once.
 */
export class MemoryJournal implements Journal {
  private base: { lsn: number; state: MasterCheckpoint } | undefined;
  private records: MasterRecord[] = [];
  private baseLsn = 0;
  appends = 0;

  async load(): Promise<{ checkpoint: { lsn: number; state: MasterCheckpoint } | undefined; records: MasterRecord[] }> {
    return { checkpoint: this.base === undefined ? undefined : structuredClone(this.base), records: structuredClone(this.records) };
  }

  async append(firstLsn: number, records: readonly MasterRecord[]): Promise<void> {
    const expected = this.baseLsn + this.records.length + 1;
    if (firstLsn !== expected) throw new Error(`journal append at lsn ${firstLsn}, expected ${expected}`);
    this.appends++;
    this.records.push(...structuredClone(records as MasterRecord[]));
  }

  async checkpoint(lsn: number, state: MasterCheckpoint): Promise<void> {
    const drop = lsn - this.baseLsn;
    if (drop < 0 || drop > this.records.length) throw new Error(`checkpoint at lsn ${lsn} outside the log (${this.baseLsn}..${this.baseLsn + this.records.length})`);
    this.base = { lsn, state: structuredClone(state) };
    this.records = this.records.slice(drop);
    this.baseLsn = lsn;
  }

  get lastLsn(): number {
    return this.baseLsn + this.records.length;
  }
}
