/**
 * Configuration of the coordination service, with ZooKeeper 3.8's defaults and the name of the
 * zoo.cfg setting or system property each mirrors.
 */
export interface CoordConfig {
  /** `tickTime`: the basic time unit of sessions and expiry buckets (ZooKeeper default 2000 ms). */
  readonly tickTimeMs: number;
  /** `minSessionTimeout`: default 2 ticks. */
  readonly minSessionTimeoutMs: number;
  /** `maxSessionTimeout`: default 20 ticks. */
  readonly maxSessionTimeoutMs: number;
  /**
   * `jute.maxbuffer`: the largest frame a connection accepts and the largest znode data
   * (ZooKeeper default 0xfffff = 1 MiB - 1 bytes; its server adds 1 KiB of slack to incoming
   * frames so that a create carrying maximal data still fits — we do the same).
   */
  readonly maxBufferBytes: number;
  /** Extra bytes a request frame may carry beyond `maxBufferBytes` (`jute.maxbuffer.extrasize`, 1024). */
  readonly frameExtraBytes: number;
  /** Requests read from one connection and not yet answered; beyond it the connection is closed (README invariant C7). */
  readonly outstandingPerConnectionMax: number;
  /** Bytes queued for one connection's socket before the server stops reading its requests (back-pressure). */
  readonly outputQueueBytesMax: number;
  /** Connections served at once; later ones are refused (ZooKeeper's `maxClientCnxns` is per IP; ours is total). */
  readonly connectionsMax: number;
  /** `zookeeper.extendedTypesEnabled`: TTL nodes (ZooKeeper: off by default; Troupe: on). */
  readonly ttlNodesEnabled: boolean;
  /** Largest TTL a TTL node may carry (ZooKeeper: 2^40 - 1 ms, it shares ephemeralOwner's bits). */
  readonly ttlMaxMs: number;
  /** How often the leader looks for empty containers and expired TTL nodes (`znode.container.checkIntervalMs`, 60 s). */
  readonly containerCheckIntervalMs: number;
  /** The server's id (`myid`): the high byte of every session id it issues. 1 for a standalone server. */
  readonly serverId: number;
  /** Watches registered by one session; beyond it setWatches/addWatch/read-with-watch fail (a bound, not in ZooKeeper). */
  readonly watchesPerSessionMax: number;
}

export const coordConfigDefaults: CoordConfig = {
  tickTimeMs: 2000,
  minSessionTimeoutMs: 4000,
  maxSessionTimeoutMs: 40000,
  maxBufferBytes: 0xfffff,
  frameExtraBytes: 1024,
  outstandingPerConnectionMax: 1000,
  outputQueueBytesMax: 16 * 1024 * 1024,
  connectionsMax: 4096,
  ttlNodesEnabled: true,
  ttlMaxMs: 2 ** 40 - 1,
  containerCheckIntervalMs: 60_000,
  serverId: 1,
  watchesPerSessionMax: 100_000,
};

/** Defaults with overrides; min/max session timeouts follow tickTime unless given. */
export function coordConfig(overrides: Partial<CoordConfig> = {}): CoordConfig {
  const tick = overrides.tickTimeMs ?? coordConfigDefaults.tickTimeMs;
  const c: CoordConfig = {
    ...coordConfigDefaults,
    minSessionTimeoutMs: 2 * tick,
    maxSessionTimeoutMs: 20 * tick,
    ...overrides,
  };
  if (!(c.tickTimeMs > 0)) throw new Error('tickTimeMs must be positive');
  if (c.minSessionTimeoutMs > c.maxSessionTimeoutMs) throw new Error('minSessionTimeoutMs exceeds maxSessionTimeoutMs');
  if (!(c.serverId >= 0 && c.serverId < 255)) throw new Error('serverId must be in [0, 254]');
  return c;
}
