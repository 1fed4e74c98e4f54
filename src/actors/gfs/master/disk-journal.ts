import type { Defer } from '../../../runtime/env.js';
import { MessageDecoder, MessageEncoder } from '../../../runtime/transport/codec.js';
import { openLogWithCheckpoints, takeCheckpoint, type CheckpointStore } from '../../../storage/checkpoint.js';
import type { Disk } from '../../../storage/disk.js';
import type { OpLog } from '../../../storage/op-log.js';
import type { Journal } from './journal.js';
import type { MasterCheckpoint, MasterRecord } from './master-state.js';

/**
 * The master's journal on the storage layer (patent ¶47–51): records msgpack-encoded (64-bit
 * chunk handles as the codec's int64 extension) in the group-committed operation log; checkpoints
 * written beside it without blocking appends (¶50); recovery = newest complete checkpoint + later
 * records, stopping cleanly at a torn tail (¶51).
 */
export class DiskJournal implements Journal {
  private log: OpLog | undefined;
  private checkpoints: CheckpointStore | undefined;
  private readonly encoder = new MessageEncoder({ attachmentMinBytes: Infinity });
  private readonly decoder = new MessageDecoder();

  constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly defer?: Defer,
  ) {}

  async load(): Promise<{ checkpoint: { lsn: number; state: MasterCheckpoint } | undefined; records: MasterRecord[] }> {
    let checkpoint: { lsn: number; state: MasterCheckpoint } | undefined;
    const records: MasterRecord[] = [];
    const recovered = await openLogWithCheckpoints(this.disk, {
      dir: this.dir,
      onCheckpoint: (data, lsn) => {
        checkpoint = { lsn, state: this.decoder.decode(data) as MasterCheckpoint };
      },
      onRecord: (r) => void records.push(this.decoder.decode(r.payload) as MasterRecord),
      ...(this.defer === undefined ? {} : { defer: this.defer }),
    });
    this.log = recovered.log;
    this.checkpoints = recovered.checkpoints;
    return { checkpoint, records };
  }

  async append(firstLsn: number, records: readonly MasterRecord[]): Promise<void> {
    const log = this.opened();
    // The log numbers records itself; appends of one turn share one fsync (group commit).
    const lsns = await Promise.all(records.map((r) => log.append(this.encode(r))));
    if (lsns[0] !== firstLsn) throw new Error(`journal: records ${firstLsn}.. were logged at lsn ${lsns[0]}`);
  }

  async checkpoint(lsn: number, state: MasterCheckpoint): Promise<void> {
    const log = this.opened();
    const data = this.encode(state);
    const at = await takeCheckpoint(log, this.checkpoints as CheckpointStore, () => ({ serialize: () => data }));
    if (at !== lsn) throw new Error(`journal: checkpoint of lsn ${lsn} was cut at lsn ${at}`);
  }

  async close(): Promise<void> {
    await this.log?.close();
  }

  private encode(value: unknown): Uint8Array {
    return this.encoder.encode(value).header.slice();
  }

  private opened(): OpLog {
    if (this.log === undefined) throw new Error('journal used before load()');
    return this.log;
  }
}
