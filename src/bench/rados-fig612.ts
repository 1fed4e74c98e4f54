/**
 * Thesis Fig. 6.12 (§6.4.1.3; digest §6.2 B9): how many duplicate copies of each map update an
 * OSD receives when updates spread lazily over heartbeats, as the cluster grows from 64 to 4,096
 * OSDs, for µ = 10 and 100 PGs per OSD.
 *
 * The thesis's setup, reproduced here: the monitors give each map update to a single random OSD;
 * the only OSD chatter is heartbeat pings between PG peers (the near-worst case: OSDs learn of
 * updates, and of what their peers know, as slowly as possible); every message carries the
 * sender's epoch; a receiver that sees an older epoch answers with the incrementals the sender
 * lacks, and a sender attaches incrementals to a ping when it believes the peer behind (§6.2.5).
 * Those two decisions are `PeerEpochs.onReceive` / `onSend`, the same code the OSDs use.
 *
 * This is a seeded discrete-event model, not the actor simulator: 4,096 OSDs with ~100 peers each
 * send ~200,000 pings per virtual second, ~15 million over a run; the actor simulator steps about
 * 1.3 million messages per second on this machine (bench `sim-step`), so one point would take
 * minutes with real actors, and the figure has fourteen. The model keeps only what the figure
 * depends on — who peers with whom (from the real OSD map and CRUSH, through `bootstrapOsdMap`
 * and `poolMappings`), heartbeat timing, per-link FIFO delivery, and the sharing decisions — and
 * runs the biggest point in seconds. Epochs stand for incrementals (an incremental is the step to
 * its epoch).
 *
 * Run: `npm run build && node dist/bench/rados-fig612.js [--osds 64,128,...] [--pgs 10,100] [--seed N]`.
 */
import { osdMapConfig } from '../actors/rados/config.js';
import { bootstrapOsdMap } from '../actors/rados/osdmap/bootstrap.js';
import { PeerEpochs } from '../actors/rados/osdmap/lazy-sharing.js';
import { poolMappings } from '../actors/rados/osdmap/mapping.js';
import { EventQueue } from '../runtime/sim/event-queue.js';
import { seededRandom } from '../runtime/random.js';

export interface Fig612Options {
  readonly osds: number;
  /** µ: PG replicas per OSD (pg_num = osds · µ / replicas). */
  readonly pgsPerOsd: number;
  readonly replicas?: number;
  readonly osdsPerHost?: number;
  /** Map updates injected, one every `updateIntervalMs`. */
  readonly updates?: number;
  readonly updateIntervalMs?: number;
  /** Mean heartbeat interval (thesis §6.2.3: 2 s); each interval is uniform in [0.5, 1.5] × this. */
  readonly heartbeatMs?: number;
  /** One-way message latency (fixed, so every link is FIFO). */
  readonly latencyMs?: number;
  /** Heartbeats before the first update, so every OSD has heard from its peers. */
  readonly warmupMs?: number;
  readonly seed?: number;
}

export interface Fig612Result {
  readonly osds: number;
  readonly pgsPerOsd: number;
  readonly pgNum: number;
  /** Distinct PG peers per OSD: mean and max (the hard bound on duplicates, §6.4.1.3). */
  readonly peersMean: number;
  readonly peersMax: number;
  readonly updates: number;
  /** OSDs holding at least one PG (the others have no peers and are left out of every figure). */
  readonly participants: number;
  /** Every participant received every update. */
  readonly allReached: boolean;
  /** Duplicate receipts per OSD per update, averaged (the figure's y). */
  readonly duplicatesPerOsd: number;
  /** The same as a share of µ (thesis: levels off below 0.2). */
  readonly duplicatesShareOfPgs: number;
  /** The same as a share of the OSD's peer count. */
  readonly duplicatesShareOfPeers: number;
  /** Most duplicates of one update at one OSD. */
  readonly duplicatesMaxOneOsd: number;
  /** Hops from the monitor to each OSD (the monitor's OSD is hop 1): mean and max (thesis: O(log n)). */
  readonly hopsMean: number;
  readonly hopsMax: number;
  /** Time from an update's injection until every OSD has it, ms: mean and max over updates. */
  readonly spreadMsMean: number;
  readonly spreadMsMax: number;
  readonly pings: number;
  /** Map-share replies sent to peers whose pings showed an older epoch. */
  readonly shareReplies: number;
}

/** The PG peers of every OSD, from the real map: OSDs sharing at least one PG. */
function peersOf(osds: number, pgsPerOsd: number, replicas: number, osdsPerHost: number): { peers: Int32Array[]; pgNum: number } {
  const pgNum = Math.max(1, Math.round((osds * pgsPerOsd) / replicas));
  const cfg = osdMapConfig({ pgNumMax: Math.max(65_536, pgNum) });
  const { map } = bootstrapOsdMap({ osds, osdsPerHost, hostsPerRack: 8, pools: [{ name: 'data', pgNum, size: replicas }] }, cfg);
  const sets = Array.from({ length: osds }, () => new Set<number>());
  for (const m of poolMappings(map, 1)) {
    for (const a of m.acting) for (const b of m.acting) if (a !== b) sets[a]?.add(b);
  }
  return { peers: sets.map((s) => Int32Array.from([...s].sort((a, b) => a - b))), pgNum };
}

/**
 * Runs one point of the figure. The monitor picks its OSD among those holding PGs. Per update the
 * result counts, for every OSD, the copies it received beyond the first.
 */
export function fig612(o: Fig612Options): Fig612Result {
  const n = o.osds;
  const replicas = o.replicas ?? 2;
  const updates = o.updates ?? 5;
  const updateMs = o.updateIntervalMs ?? 10_000;
  const hbMs = o.heartbeatMs ?? 2_000;
  const latency = o.latencyMs ?? 0.5;
  const warmup = o.warmupMs ?? 10_000;
  const rnd = seededRandom(o.seed ?? 1);
  const { peers, pgNum } = peersOf(n, o.pgsPerOsd, replicas, o.osdsPerHost ?? 4);

  // An OSD that holds no PG has no peers and no use for the map (thesis §6.2.5: epochs matter only
  // between parties that share PGs); with µ = 10 and thousands of OSDs a few such OSDs occur.
  const participants = peers.filter((p) => p.length > 0).length;
  const targets = peers.flatMap((p, i) => (p.length > 0 ? [i] : []));
  const epoch = new Int32Array(n);
  const known = peers.map((p) => new PeerEpochs<number>(Math.max(1, p.length)));
  // Per update e (1-based): hops at first receipt (0 = not yet), receipts, when the last OSD got it.
  const hops = Array.from({ length: updates + 1 }, () => new Int32Array(n));
  const receipts = Array.from({ length: updates + 1 }, () => new Int32Array(n));
  const reachedCount = new Int32Array(updates + 1);
  const injectedAt = new Float64Array(updates + 1);
  const spreadMs = new Float64Array(updates + 1);
  let pings = 0;
  let shareReplies = 0;

  const q = new EventQueue();
  let now = 0;

  /** `to` receives epochs (since, top] from `from` (-1 = the monitor). */
  const receive = (to: number, from: number, since: number, top: number): void => {
    if (since > epoch[to]!) throw new Error(`model invariant: osd ${to} at ${epoch[to]} got a bundle starting after ${since} (links must be FIFO)`);
    for (let e = since + 1; e <= top; e++) {
      receipts[e]![to]!++;
      if (e > epoch[to]!) {
        hops[e]![to] = from < 0 ? 1 : hops[e]![from]! + 1;
        if (++reachedCount[e]! === participants) spreadMs[e] = now - injectedAt[e]!;
      }
    }
    if (top > epoch[to]!) epoch[to] = top;
  };

  const tick = (a: number): void => {
    const list = peers[a]!;
    const top = epoch[a]!;
    const since = new Int32Array(list.length);
    for (let k = 0; k < list.length; k++) {
      const plan = known[a]!.onSend(list[k]!, top);
      since[k] = plan.kind === 'none' ? -1 : plan.kind === 'since' ? plan.since : 0;
    }
    pings += list.length;
    q.push(now + latency, () => {
      for (let k = 0; k < list.length; k++) {
        const b = list[k]!;
        if (since[k]! >= 0) receive(b, a, since[k]!, top);
        const reply = known[b]!.onReceive(a, top, epoch[b]!);
        if (reply.kind === 'since') {
          const bTop = epoch[b]!;
          shareReplies++;
          q.push(now + latency, () => {
            receive(a, b, reply.since, bTop);
            known[a]!.onReceive(b, bTop, epoch[a]!);
          });
        }
      }
    });
    q.push(now + hbMs * (0.5 + rnd.next()), () => tick(a));
  };

  for (let a = 0; a < n; a++) q.push(hbMs * rnd.next(), () => tick(a));
  for (let e = 1; e <= updates; e++) {
    const at = warmup + (e - 1) * updateMs;
    q.push(at, () => {
      injectedAt[e] = now;
      const x = rnd.pick(targets);
      const since = epoch[x]!;
      q.push(now + latency, () => receive(x, -1, since, e));
    });
  }
  const end = warmup + updates * updateMs;
  const hardEnd = end + 20 * updateMs;
  for (let ev = q.pop(); ev !== undefined; ev = q.pop()) {
    now = ev.time;
    if (now > hardEnd || (now > end && reachedCount[updates] === participants && now > end + 2 * hbMs)) break;
    ev.run();
  }

  let dupSum = 0;
  let dupShareOfPeers = 0;
  let dupMax = 0;
  let hopSum = 0;
  let hopMax = 0;
  let allReached = true;
  for (let e = 1; e <= updates; e++) {
    if (reachedCount[e] !== participants) allReached = false;
    for (let a = 0; a < n; a++) {
      if (peers[a]!.length === 0) continue;
      const d = Math.max(0, receipts[e]![a]! - 1);
      dupSum += d;
      dupShareOfPeers += d / Math.max(1, peers[a]!.length);
      dupMax = Math.max(dupMax, d);
      hopSum += hops[e]![a]!;
      hopMax = Math.max(hopMax, hops[e]![a]!);
    }
  }
  const per = participants * updates;
  const spreads = Array.from(spreadMs.subarray(1));
  const peersTotal = peers.reduce((s, p) => s + p.length, 0);
  return {
    osds: n,
    pgsPerOsd: o.pgsPerOsd,
    pgNum,
    participants,
    peersMean: peersTotal / participants,
    peersMax: peers.reduce((m, p) => Math.max(m, p.length), 0),
    updates,
    allReached,
    duplicatesPerOsd: dupSum / per,
    duplicatesShareOfPgs: dupSum / per / o.pgsPerOsd,
    duplicatesShareOfPeers: dupShareOfPeers / per,
    duplicatesMaxOneOsd: dupMax,
    hopsMean: hopSum / per,
    hopsMax: hopMax,
    spreadMsMean: spreads.reduce((s, x) => s + x, 0) / updates,
    spreadMsMax: Math.max(...spreads),
    pings,
    shareReplies,
  };
}

function parseList(args: readonly string[], flag: string, dflt: number[]): number[] {
  const i = args.indexOf(flag);
  if (i < 0) return dflt;
  const v = (args[i + 1] ?? '').split(',').map(Number);
  if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`${flag} takes a comma-separated list of positive integers`);
  return v;
}

/** `node dist/bench/rados-fig612.js`: prints the table (markdown) and the results as JSON. */
export function main(args: readonly string[]): void {
  const sizes = parseList(args, '--osds', [64, 128, 256, 512, 1024, 2048, 4096]);
  const mus = parseList(args, '--pgs', [10, 100]);
  const [seed] = parseList(args, '--seed', [1]);
  const results: Fig612Result[] = [];
  console.log('| OSDs | µ | peers (mean) | duplicates per OSD per update | ÷ µ | ÷ peers | max at one OSD | hops mean / max | spread (s) mean / max |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const mu of mus) {
    for (const osds of sizes) {
      const r = fig612({ osds, pgsPerOsd: mu, seed: seed ?? 1 });
      results.push(r);
      const f = (x: number, d = 2): string => x.toFixed(d);
      console.log(`| ${osds} | ${mu} | ${f(r.peersMean, 1)} | ${f(r.duplicatesPerOsd)} | ${f(r.duplicatesShareOfPgs, 3)} | ${f(r.duplicatesShareOfPeers, 3)} | ${r.duplicatesMaxOneOsd} | ${f(r.hopsMean)} / ${r.hopsMax} | ${f(r.spreadMsMean / 1000, 1)} / ${f(r.spreadMsMax / 1000, 1)} |${r.participants < osds ? ` (${osds - r.participants} OSDs hold no PG)` : ''}${r.allReached ? '' : ' (not all reached)'}`);
    }
  }
  console.log(JSON.stringify({ seed, results }));
}

const invoked = process.argv[1] ?? '';
if (invoked.endsWith('rados-fig612.js') || invoked.endsWith('rados-fig612.ts')) main(process.argv.slice(2));
