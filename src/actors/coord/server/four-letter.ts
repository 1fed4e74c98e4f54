import type { CoordConfig } from '../config.js';
import { hex, type CoordServerCore } from './server-core.js';

/**
 * ZooKeeper's four-letter words on the client port (ZooKeeper admin guide, "The Four Letter
 * Words"): a connection whose first four bytes spell one of them gets a text answer and is
 * closed. The words are recognised by their 4-byte value read as a frame length — always far
 * above jute.maxbuffer, so they cannot be mistaken for a frame.
 */
export const FOUR_LETTER_WORDS = ['ruok', 'srvr', 'stat', 'mntr', 'conf'] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

/** The word a frame length spells, if it is one we answer. */
export function fourLetterWord(length: number): FourLetterWord | undefined {
  const text = String.fromCharCode((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  return (FOUR_LETTER_WORDS as readonly string[]).includes(text) ? (text as FourLetterWord) : undefined;
}

export const SERVER_VERSION = 'Troupe coord 0.1.0 (ZooKeeper 3.8 wire protocol)';

export interface FourLetterInfo {
  readonly port: number;
  readonly mode: 'standalone' | 'leader' | 'follower';
  readonly uptimeMs: number;
}

export function fourLetterReply(word: FourLetterWord, core: CoordServerCore, config: CoordConfig, info: FourLetterInfo): string {
  const s = core.stats();
  const latency = `Latency min/avg/max: ${s.latency.min}/${s.latency.avg.toFixed(4)}/${s.latency.max}\n`;
  const tail =
    `Received: ${s.received}\nSent: ${s.sent}\nConnections: ${s.connections}\nOutstanding: ${s.outstanding}\n` +
    `Zxid: 0x${s.zxid.toString(16)}\nMode: ${info.mode}\nNode count: ${s.nodeCount}\n`;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return `Zookeeper version: ${SERVER_VERSION}\n${latency}${tail}`;
    case 'stat': {
      const clients = core
        .connectionStats()
        .map((c) => ` /${c.address}[1](queued=${c.outstanding},recved=${c.received},sent=${c.sent}${c.sessionId === undefined ? '' : `,sid=0x${hex(c.sessionId)}`})\n`)
        .join('');
      return `Zookeeper version: ${SERVER_VERSION}\nClients:\n${clients}\n${latency}${tail}`;
    }
    case 'mntr':
      return (
        [
          ['zk_version', SERVER_VERSION],
          ['zk_server_state', info.mode],
          ['zk_avg_latency', s.latency.avg.toFixed(4)],
          ['zk_max_latency', s.latency.max],
          ['zk_min_latency', s.latency.min],
          ['zk_packets_received', s.received],
          ['zk_packets_sent', s.sent],
          ['zk_num_alive_connections', s.connections],
          ['zk_outstanding_requests', s.outstanding],
          ['zk_znode_count', s.nodeCount],
          ['zk_watch_count', s.watchCount],
          ['zk_ephemerals_count', s.ephemeralsCount],
          ['zk_approximate_data_size', s.approximateDataBytes],
          ['zk_global_sessions', s.sessions],
          ['zk_uptime', info.uptimeMs],
          ['zk_last_zxid', `0x${s.zxid.toString(16)}`],
        ]
          .map(([k, v]) => `${k}\t${v}`)
          .join('\n') + '\n'
      );
    case 'conf':
      return (
        `clientPort=${info.port}\ntickTime=${config.tickTimeMs}\nmaxClientCnxns=${config.connectionsMax}\n` +
        `minSessionTimeout=${config.minSessionTimeoutMs}\nmaxSessionTimeout=${config.maxSessionTimeoutMs}\n` +
        `jute.maxbuffer=${config.maxBufferBytes}\nserverId=${config.serverId}\n`
      );
    default: {
      const never: never = word;
      throw new Error(`unknown word ${String(never)}`);
    }
  }
}
