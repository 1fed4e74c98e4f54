import type { ActorFactory } from '../../../runtime/behavior.js';
import type { ActorRef } from '../../../runtime/ref.js';
import { coordConfig, type CoordConfig } from '../config.js';
import type { CoordClientMsg, CoordServerMsg } from '../protocol.js';
import { CoordServerCore, type ConnectionSink } from './server-core.js';

export interface CoordServerActorOptions {
  readonly config?: Partial<CoordConfig>;
  /**
   * Serve an existing core (for example the one behind a TCP listener in the same thread, so
   * that native and ZooKeeper clients share one tree). Default: a core of its own.
   */
  readonly core?: CoordServerCore;
  /** Drive the core's tick from this actor (default true; false when something else ticks the core, as the TCP listener does). */
  readonly tick?: boolean;
}

/**
 * The coordination server as an actor, for native clients (client/client.ts): the same core as
 * the TCP front end, with connections made of actor messages instead of sockets. Replies and
 * watch events go to the client's connection actor with `tell`, in the order the core produces
 * them; per-link FIFO delivery (DESIGN.md §3) keeps that order (W3). Time, timers and randomness
 * come from the actor context, so it runs in the simulator. Turns are not reentrant: the core is
 * synchronous.
 */
export function coordServerActor(options: CoordServerActorOptions = {}): ActorFactory<CoordServerMsg> {
  return (ctx) => {
    const config = options.core?.config ?? coordConfig(options.config);
    const core = options.core ?? new CoordServerCore(config, ctx.clock.now(), (n) => ctx.random.bytes(n), (level, message, fields) => ctx.log[level](message, fields));
    const connections = new Map<string, { readonly id: number; readonly sink: ConnectionSink; expect: number }>();
    if (options.tick !== false) ctx.timers.repeat('tick', Math.max(10, Math.floor(config.tickTimeMs / 4)), { type: 'coord.server.tick' });
    return {
      receive(m) {
        const now = ctx.clock.now();
        switch (m.type) {
          case 'coord.server.connect': {
            const old = connections.get(m.connectionId);
            if (old !== undefined) core.closed(old.id);
            const client: ActorRef<CoordClientMsg> = m.client;
            const connectionId = m.connectionId;
            let open = true;
            let seq = 0;
            const sink: ConnectionSink = {
              address: `actor:${client.node}/${client.id}`,
              deliver(out) {
                if (!open) return;
                if (out.kind === 'connected') ctx.tell(client, { type: 'coord.client.connected', connectionId, response: out.response, seq: ++seq });
                else if (out.kind === 'reply') ctx.tell(client, { type: 'coord.client.reply', connectionId, reply: out.reply, seq: ++seq });
                else ctx.tell(client, { type: 'coord.client.event', connectionId, event: out.event, seq: ++seq });
              },
              close(reason) {
                if (!open) return;
                open = false;
                if (connections.get(connectionId)?.sink === sink) connections.delete(connectionId);
                ctx.tell(client, { type: 'coord.client.closed', connectionId, reason, seq: ++seq });
              },
            };
            const id = core.open(sink);
            if (id === undefined) return;
            connections.set(connectionId, { id, sink, expect: 1 });
            core.connect(id, m.request, now);
            return;
          }
          case 'coord.server.request': {
            const conn = connections.get(m.connectionId);
            if (conn === undefined) {
              ctx.log.warn('request on an unknown connection dropped', { connectionId: m.connectionId });
              return;
            }
            if (m.seq !== undefined) {
              if (m.seq !== conn.expect) {
                // A request was lost on the way: the connection is broken (the session lives on, S3).
                conn.sink.close(`request ${conn.expect} of the connection was lost (got ${m.seq})`);
                core.closed(conn.id);
                return;
              }
              conn.expect++;
            }
            core.request(conn.id, m.xid, m.request, now);
            return;
          }
          case 'coord.server.disconnect': {
            const conn = connections.get(m.connectionId);
            connections.delete(m.connectionId);
            if (conn !== undefined) core.closed(conn.id);
            return;
          }
          case 'coord.server.tick':
            core.tick(now);
            return;
          default: {
            const never: never = m;
            ctx.log.warn('unknown message dropped', { message: JSON.stringify(never) });
          }
        }
      },
      invariants() {
        core.tree.invariants();
      },
    };
  };
}
