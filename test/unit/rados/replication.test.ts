/**
 * The replication state machines against thesis §6.3.1 and Figs 6.3–6.4: effects are routed between
 * simulated OSDs, stores apply at once and commit when the test says so, and the test records the
 * order of applies, messages, acks and commits.
 */
import { describe, expect, it } from 'vitest';
import { INITIAL_REPLICA_STATE, readServer, replicaStep, replicationRoles, type ReplicaEvent, type ReplicaState } from '../../../src/actors/rados/osd/replication.js';
import type { ReplicationMode } from '../../../src/actors/rados/osdmap/osd-map.js';

interface Trace {
  readonly events: string[];
  /** Messages between parties (client included), in send order. */
  readonly messages: string[];
  readonly applied: number[];
  commitOsds(): void;
}

function run(mode: ReplicationMode, acting: number[]): Trace {
  const roles = replicationRoles(mode, acting);
  const states = new Map<number, ReplicaState>(acting.map((o) => [o, INITIAL_REPLICA_STATE]));
  const events: string[] = [];
  const messages: string[] = ['client→' + roles.head];
  const applied: number[] = [];
  const pendingCommit: number[] = [];
  const queue: [number, ReplicaEvent][] = [[roles.head, { kind: 'received' }]];
  const drain = (): void => {
    while (queue.length > 0) {
      const [osd, ev] = queue.shift()!;
      const r = replicaStep(roles, osd, states.get(osd)!, ev);
      states.set(osd, r.state);
      for (const e of r.effects) {
        switch (e.kind) {
          case 'log':
            events.push(`log@${osd}`);
            break;
          case 'apply':
            events.push(`apply@${osd}`);
            applied.push(osd);
            pendingCommit.push(osd);
            queue.push([osd, { kind: 'selfApplied' }]);
            break;
          case 'forward':
            for (const to of e.to) {
              messages.push(`${osd}→${to}`);
              queue.push([to, { kind: 'received' }]);
            }
            break;
          case 'sendApplied':
            messages.push(`${osd}→${e.to}`);
            queue.push([e.to, { kind: 'peerApplied', osd }]);
            break;
          case 'sendCommitted':
            messages.push(`${osd}⇒${e.to}`);
            queue.push([e.to, { kind: 'peerCommitted', osd }]);
            break;
          case 'ackClient':
            events.push(`ack@${osd}(applied ${applied.length})`);
            messages.push(`${osd}→client`);
            break;
          case 'commitClient':
            events.push(`commit@${osd}`);
            messages.push(`${osd}⇒client`);
            break;
        }
      }
    }
  };
  drain();
  return {
    events,
    messages,
    applied,
    commitOsds: () => {
      for (const o of pendingCommit.splice(0)) queue.push([o, { kind: 'selfCommitted' }]);
      drain();
    },
  };
}

const ackMessages = (t: Trace): string[] => t.messages.filter((m) => !m.includes('⇒'));

describe('replication (thesis §6.3.1, Figs 6.3–6.4)', () => {
  it('primary-copy: the primary forwards in parallel, applies last, acks when all applied; a 2× write costs 4 messages', () => {
    const t = run('primary-copy', [0, 1]);
    expect(ackMessages(t)).toEqual(['client→0', '0→1', '1→0', '0→client']);
    expect(t.events).toEqual(['log@0', 'apply@1', 'apply@0', 'ack@0(applied 2)']);
    t.commitOsds();
    expect(t.events.at(-1)).toBe('commit@0');
    const three = run('primary-copy', [4, 2, 7]);
    expect(three.applied).toEqual([2, 7, 4]);
    expect(three.messages.slice(0, 3)).toEqual(['client→4', '4→2', '4→7']);
  });

  it('chain: each applies and forwards, the tail acks; a 2× write costs 3 messages; commits go to the tail', () => {
    const t = run('chain', [0, 1]);
    expect(ackMessages(t)).toEqual(['client→0', '0→1', '1→client']);
    t.commitOsds();
    expect(t.messages).toContain('0⇒1');
    expect(t.events.at(-1)).toBe('commit@1');
    const three = run('chain', [5, 3, 8]);
    expect(three.applied).toEqual([5, 3, 8]);
    expect(ackMessages(three)).toEqual(['client→5', '5→3', '3→8', '8→client']);
  });

  it('splay: the head applies and forwards in parallel, middles ack to the tail, the tail applies last (delayed write) and acks', () => {
    const t = run('splay', [0, 1, 2, 3]);
    expect(t.events[0]).toBe('apply@0');
    expect(t.messages.slice(1, 4)).toEqual(['0→1', '0→2', '0→3']);
    expect(t.events).toContain('log@3');
    expect(t.applied.at(-1)).toBe(3);
    expect(t.events.at(-1)).toBe('ack@3(applied 4)');
    t.commitOsds();
    expect(t.events.at(-1)).toBe('commit@3');
    expect(t.messages.filter((m) => m.includes('⇒')).sort()).toEqual(['0⇒3', '1⇒3', '2⇒3', '3⇒client']);
  });

  it('in every mode the ack comes only after every replica applied, and the commit only after every replica committed', () => {
    for (const mode of ['primary-copy', 'chain', 'splay'] as const) {
      for (let n = 1; n <= 6; n++) {
        const acting = Array.from({ length: n }, (_, i) => i * 3 + 1);
        const t = run(mode, acting);
        const ack = t.events.find((e) => e.startsWith('ack@'));
        expect(ack, `${mode} ×${n}`).toBe(`ack@${replicationRoles(mode, acting).acker}(applied ${n})`);
        expect(t.events.some((e) => e.startsWith('commit@')), `${mode} ×${n}: no commit before disks`).toBe(false);
        t.commitOsds();
        expect(t.events.filter((e) => e.startsWith('commit@')).length, `${mode} ×${n}`).toBe(1);
      }
    }
  });

  it('reads go to the primary under primary-copy and to the tail under chain and splay', () => {
    expect(readServer('primary-copy', [3, 1, 2])).toBe(3);
    expect(readServer('chain', [3, 1, 2])).toBe(2);
    expect(readServer('splay', [3, 1, 2])).toBe(2);
    expect(readServer('chain', [])).toBe(-1);
  });

  it('a duplicate delivery changes nothing', () => {
    const roles = replicationRoles('primary-copy', [0, 1]);
    const a = replicaStep(roles, 1, INITIAL_REPLICA_STATE, { kind: 'received' });
    const b = replicaStep(roles, 1, a.state, { kind: 'received' });
    expect(b.effects).toEqual([]);
  });
});
