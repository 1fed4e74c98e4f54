import type { Defer } from '../../../runtime/env.js';
import { MessageDecoder, MessageEncoder } from '../../../runtime/transport/codec.js';
import { openLogWithCheckpoints, takeCheckpoint, type CheckpointStore } from '../../../storage/checkpoint.js';
import type { Disk } from '../../../storage/disk.js';
import type { OpLog } from '../../../storage/op-log.js';
import type { MonCheckpoint, MonRecord } from './paxos.js';

/**
 * A monitor's durable state on the storage layer (invariants P2–P4): every promise, accepted value,
 * committed version and vote is a record in the group-committed operation log (`src/storage/op-log.ts`:
 * one fsync per batch, a torn tail cut at recovery); checkpoints hold the whole durable state (the
 * base snapshot, the kept incrementals, the promise) so older log segments can go (`checkpoint.ts`).
 * Recovery = newest complete checkpoint + the records after it.
 */
export interface MonitorStore {
  load(): Promise<{ readonly checkpoint: MonCheckpoint | undefined; readonly records: readonly MonRecord[] }>;
  /** Resolves once the record is durable; records become durable in call order. */
  append(record: MonRecord): Promise<void>;
  /** Writes a checkpoint of `state` (captured synchronously, at the log's current end). */
  checkpoint(capture: () => MonCheckpoint): Promise<void>;
  close(): Promise<void>;
}

export class DiskMonitorStore implements MonitorStore {
  private log: OpLog | undefined;
  private checkpoints: CheckpointStore | undefined;
  private readonly encoder = new MessageEncoder({ attachmentMinBytes: Infinity });
  private readonly decoder = new MessageDecoder();

  constructor(
    private readonly disk: Disk,
    private readonly dir: string,
    private readonly defer?: Defer,
  ) {}

  async load(): Promise<{ checkpoint: MonCheckpoint | undefined; records: MonRecord[] }> {
    let checkpoint: MonCheckpoint | undefined;
    const records: MonRecord[] = [];
    const recovered = await openLogWithCheckpoints(this.disk, {
      dir: this.dir,
      onCheckpoint: (data) => {
        checkpoint = this.decoder.decode(data) as MonCheckpoint;
      },
      onRecord: (r) => void records.push(this.decoder.decode(r.payload) as MonRecord),
      ...(this.defer === undefined ? {} : { defer: this.defer }),
    });
    this.log = recovered.log;
    this.checkpoints = recovered.checkpoints;
    return { checkpoint, records };
  }

  append(record: MonRecord): Promise<void> {
    return this.opened()
      .append(this.encode(record))
      .then(() => undefined);
  }

  async checkpoint(capture: () => MonCheckpoint): Promise<void> {
    const log = this.opened();
    await takeCheckpoint(log, this.checkpoints as CheckpointStore, () => {
      const data = this.encode(capture());
      return { serialize: () => data };
    });
  }

  async close(): Promise<void> {
    await this.log?.close();
  }

  private encode(value: unknown): Uint8Array {
    return this.encoder.encode(value).header.slice();
  }

  private opened(): OpLog {
    if (this.log === undefined) throw new Error('monitor store used before load()');
    return this.log;
  }
}
