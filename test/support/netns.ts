import { execFileSync } from 'node:child_process';

/**
 * Three "hosts" as Linux network namespaces joined by veth pairs on a bridge, with the bridge
 * address for the test driver in the root namespace. Needs root (CI runs as root); `create`
 * throws when the kernel or permissions refuse, and the caller falls back to loopback.
 */
export interface NetnsLab {
  readonly namespaces: string[];
  readonly hostAddresses: string[];
  readonly driverAddress: string;
  destroy(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe', timeout: 10_000 });
}

export function createNetnsLab(hosts: number): NetnsLab {
  // Lets a developer exercise the loopback fallback on a machine where namespaces would work.
  if (process.env.TROUPE_TEST_NETNS === 'off') throw new Error('network namespaces disabled by TROUPE_TEST_NETNS=off');
  const tag = `trp${process.pid % 100_000}`;
  const octet = 16 + (process.pid % 200);
  const bridge = `${tag}br`;
  const namespaces: string[] = [];
  const veths: string[] = [];
  const destroy = (): void => {
    for (const ns of namespaces) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    for (const v of veths) {
      try {
        ip('link', 'del', v);
      } catch {
        // deleted with its namespace peer
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      // never created
    }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `10.231.${octet}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 1; i <= hosts; i++) {
      const ns = `${tag}h${i}`;
      const veth = `${tag}v${i}`;
      ip('netns', 'add', ns);
      namespaces.push(ns);
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      veths.push(veth);
      ip('link', 'set', veth, 'master', bridge);
      ip('link', 'set', veth, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `10.231.${octet}.${i}/24`, 'dev', 'eth0');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    namespaces,
    hostAddresses: namespaces.map((_, i) => `10.231.${octet}.${i + 1}`),
    driverAddress: `10.231.${octet}.254`,
    destroy,
  };
}
