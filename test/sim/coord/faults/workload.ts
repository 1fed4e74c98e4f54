/**
 * The clients of the fault suite. Each client is one session on a node of its own, attached to a
 * server; it sends a few requests at a time without waiting (pipelined, as ZooKeeper clients do)
 * — puts, version-conditional writes, reads, syncs — and records what it asked and what it was
 * told. When its server answers `not_ready` or `connection_loss`, or does not answer, it moves to
 * the next server, carrying the highest zxid it has seen (a read there waits until that server
 * caught up).
 */
import type { Random } from '../../../../src/runtime/random.js';
import type { SubmitMsg, SubmitReply } from '../../../../src/actors/coord/zab/protocol.js';
import type { Zxid } from '../../../../src/actors/coord/zab/zxid.js';
import type { KvRequest } from '../zab/kv-machine.js';
import type { Ensemble } from '../zab/ensemble.js';

export const KEYS = ['a', 'b', 'c', 'd'] as const;

/** One client request and its outcome. */
export interface ClientOp {
  readonly client: string;
  readonly cxid: number;
  readonly kind: SubmitMsg['kind'];
  readonly request: KvRequest | undefined;
  readonly server: number;
  readonly invokedAt: number;
  completedAt: number | undefined;
  /**
   * ok: answered with a result; fail: a definite error carried by the transaction (bad_version);
   * refused: definitely not applied (not_ready, queue_full, stale_request, bad_request, server_behind);
   * info: unknown outcome (connection_loss, no answer).
   */
  status: 'ok' | 'fail' | 'refused' | 'info' | 'pending';
  result?: unknown;
  zxid?: Zxid;
  error?: string;
}

export interface WorkloadOptions {
  readonly clients: number;
  readonly untilMs: number;
}

export function startWorkload(e: Ensemble, random: Random, o: WorkloadOptions): { ops: ClientOp[]; done: Promise<void> } {
  const ops: ClientOp[] = [];
  const runs: Promise<void>[] = [];
  for (let i = 0; i < o.clients; i++) runs.push(client(`c${i}`, i));

  async function client(name: string, index: number): Promise<void> {
    const node = e.clientNode(name);
    const r = random.fork(name);
    let server = e.ids[index % e.ids.length] as number;
    let cxid = 0;
    let seen: Zxid = 0;
    const versions = new Map<string, number>();
    while (e.sim.now < o.untilMs) {
      const batch = 1 + r.int(3);
      const sends: Promise<void>[] = [];
      let moved = false;
      for (let k = 0; k < batch; k++) {
        const op = draw(r, ++cxid, name, server, versions, e.sim.now);
        ops.push(op);
        const msg: SubmitMsg = { type: 'coord.zab.submit', session: name, cxid: op.cxid, kind: op.kind, seenZxid: seen, ...(op.request === undefined ? {} : { request: op.request }) };
        sends.push(
          e.submit(node, server, msg, 4_000).then(
            (reply) => {
              record(op, reply);
              if (op.zxid !== undefined && op.zxid > seen) seen = op.zxid;
              if (op.status === 'ok' && op.request !== undefined && op.request.op !== 'get') versions.set(op.request.key, (op.result as { version: number }).version);
              if (op.status === 'ok' && op.request?.op === 'get') {
                const v = op.result as { version: number } | null;
                versions.set(op.request.key, v?.version ?? 0);
              }
              if (op.status === 'info' || op.error === 'not_ready' || op.error === 'server_behind') moved = true;
            },
            (err: unknown) => {
              op.completedAt = e.sim.now;
              op.status = 'info';
              op.error = `no answer: ${err instanceof Error ? err.message : String(err)}`;
              moved = true;
            },
          ),
        );
      }
      await Promise.all(sends);
      if (moved) {
        server = e.ids[(e.ids.indexOf(server) + 1) % e.ids.length] as number;
        await e.sleep(50 + r.int(100));
      } else {
        await e.sleep(10 + r.int(90));
      }
    }
  }

  function record(op: ClientOp, reply: SubmitReply): void {
    op.completedAt = e.sim.now;
    if (reply.ok) {
      op.status = 'ok';
      op.result = reply.value.result;
      op.zxid = reply.value.zxid;
      return;
    }
    op.error = reply.error.code;
    if (reply.error.code === 'bad_version') op.status = 'fail';
    else if (reply.error.code === 'connection_loss') op.status = 'info';
    else op.status = 'refused';
  }

  return { ops, done: Promise.all(runs).then(() => undefined) };
}

function draw(r: Random, cxid: number, client: string, server: number, versions: Map<string, number>, now: number): ClientOp {
  const key = r.pick([...KEYS]);
  const x = r.int(100);
  const base = { client, cxid, server, invokedAt: now, completedAt: undefined, status: 'pending' as const };
  const value = `${client}.${cxid}`;
  let op: ClientOp;
  if (x < 35) op = { ...base, kind: 'write', request: { op: 'put', key, value } };
  else if (x < 70) op = { ...base, kind: 'write', request: { op: 'cas', key, version: versions.get(key) ?? r.int(3), value } };
  else if (x < 92) op = { ...base, kind: 'read', request: { op: 'get', key } };
  else op = { ...base, kind: 'sync', request: undefined };
  return op;
}
