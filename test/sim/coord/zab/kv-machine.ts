/**
 * The fault suite's replicated state machine: a map of keys to (value, version, mzxid), with
 * unconditional puts and version-conditional writes (ZooKeeper's `setData` with a version) — enough
 * to see order in answers (every write returns the version it made) and to check linearizability.
 * Apply is idempotent at or below a key's mzxid, as Z11 requires of fuzzy snapshots.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { PrepareView, Prepared, ZabStateMachine } from '../../../../src/actors/coord/zab/state-machine.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';

export type KvRequest = { readonly op: 'put'; readonly key: string; readonly value: string } | { readonly op: 'cas'; readonly key: string; readonly version: number; readonly value: string } | { readonly op: 'get'; readonly key: string };
export interface KvBody {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}
export interface KvEntry {
  value: string;
  version: number;
  mzxid: Zxid;
}

export class KvMachine implements ZabStateMachine {
  readonly map = new Map<string, KvEntry>();
  applied = 0;

  prepare(request: unknown, view: PrepareView): Prepared {
    const r = request as KvRequest;
    if (r === null || typeof r !== 'object' || typeof r.key !== 'string' || (r.op !== 'put' && r.op !== 'cas')) return { ok: false, error: { code: 'bad_request', message: 'not a KV write' } };
    let version = this.map.get(r.key)?.version ?? 0;
    for (const p of view.pending) {
      const b = p.body as KvBody;
      if (b.key === r.key) version = b.version;
    }
    if (r.op === 'cas' && r.version !== version) return { ok: false, error: { code: 'bad_version', message: `${r.key} is at version ${version}, not ${r.version}` } };
    return { ok: true, body: { key: r.key, value: r.value, version: version + 1 } satisfies KvBody };
  }

  apply(body: unknown, zxid: Zxid): unknown {
    const b = body as KvBody;
    const cur = this.map.get(b.key);
    if (cur === undefined || cur.mzxid < zxid) this.map.set(b.key, { value: b.value, version: b.version, mzxid: zxid });
    this.applied++;
    return { version: b.version };
  }

  read(request: unknown): unknown {
    const r = request as KvRequest;
    const e = this.map.get(r.key);
    return e === undefined ? null : { value: e.value, version: e.version };
  }

  snapshot(): Uint8Array {
    return encode([...this.map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, e]) => [k, e.value, e.version, e.mzxid]));
  }

  restore(data: Uint8Array): void {
    this.map.clear();
    for (const [k, value, version, mzxid] of decode(data) as Array<[string, string, number, number]>) this.map.set(k, { value, version, mzxid });
  }
}
