import type { ActorFactory } from '../runtime/behavior.js';
import type { ActorRef } from '../runtime/ref.js';
import type { TroupeNode } from '../runtime/node/troupe-node.js';
import type { BehaviorSpec } from '../runtime/node/worker-protocol.js';
import { fail, ok, type GfsResult } from '../actors/gfs/errors.js';
import { ridField, type Traced } from '../actors/gfs/protocol.js';

/**
 * Operator commands for the processes a launcher started (`troupe admin kill|restart <server>`):
 * stop a chunkserver actor as if its machine failed, or start it again on its data directory.
 * Decommissioning goes to the master (`gfs.master.decommission`).
 */
export type AdminMsg = Traced &
  (
    | { readonly type: 'troupe.admin.kill'; readonly server: string }
    | { readonly type: 'troupe.admin.restart'; readonly server: string }
    | { readonly type: 'troupe.admin.servers' }
  );

export interface ManagedServer {
  readonly id: string;
  readonly spec: BehaviorSpec;
  readonly worker: number;
  ref: ActorRef<unknown> | undefined;
}

export const ADMIN_ACTOR = 'troupe.admin';

export function adminActor(node: TroupeNode, servers: Map<string, ManagedServer>): ActorFactory<AdminMsg> {
  return (ctx) => ({
    async receive(m): Promise<GfsResult<unknown>> {
      switch (m.type) {
        case 'troupe.admin.servers':
          return ok([...servers.values()].map((s) => ({ id: s.id, worker: s.worker, running: s.ref !== undefined })));
        case 'troupe.admin.kill': {
          const s = servers.get(m.server);
          if (s === undefined) return fail('not_found', `no server ${m.server} here (known: ${[...servers.keys()].join(', ')})`);
          if (s.ref === undefined) return fail('not_found', `${m.server} is not running`);
          const reason = node.system.terminated(s.ref);
          node.system.stop(s.ref);
          s.ref = undefined;
          await Promise.race([reason, new Promise((r) => void ctx.env.timers.after(10_000, () => r(undefined)))]);
          ctx.log.warn('chunkserver killed by operator', { server: m.server, ...ridField(m.rid) });
          return ok({ server: m.server, running: false });
        }
        case 'troupe.admin.restart': {
          const s = servers.get(m.server);
          if (s === undefined) return fail('not_found', `no server ${m.server} here (known: ${[...servers.keys()].join(', ')})`);
          if (s.ref !== undefined) return ok({ server: m.server, running: true });
          s.ref = await node.spawn(s.spec, { placement: { worker: s.worker }, name: s.id, reentrant: true });
          ctx.log.info('chunkserver restarted by operator', { server: m.server, ...ridField(m.rid) });
          return ok({ server: m.server, running: true });
        }
        default: {
          const never: never = m;
          return fail('not_found', `unknown admin command ${JSON.stringify(never)}`);
        }
      }
    },
  });
}
