/**
 * Cross-check against Ceph's own tools (README invariant I0: bit-compatible with Ceph).
 *
 * For random maps from fixed seeds, the map is printed in Ceph's text syntax, compiled with
 * `crushtool -c`, and every rule is run with `crushtool --test --show-mappings` for x in
 * 0..1023, with device reweights (`--weight`). Every line must equal `troupe crush test`'s.
 * Object → PG → OSDs is checked the same way against `osdmaptool --test-map-object`.
 *
 * crushtool comes from Debian's ceph-base package; CI installs it (.ci/run). Without it this
 * test fails and says how to install it — it never skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { objectToOsds, parseCrushMap, printCrushMap } from '../../src/actors/rados/crush/index.js';
import type { Rule } from '../../src/actors/rados/crush/index.js';
import { crushTest } from '../../src/actors/rados/crush/tester.js';
import { runCrushCli } from '../../src/cli/commands/crush.js';
import { randomCrushCase } from '../support/crush-random-map.js';
import type { RandomCrushCase } from '../support/crush-random-map.js';

const INSTALL_HINT = 'crushtool (Ceph) is not installed: run `apt-get install -y ceph-base` (as root; .ci/run does this in CI)';

function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

const workDir = mkdtempSync(join(tmpdir(), 'troupe-crush-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function compile(c: RandomCrushCase): { text: string; bin: string } {
  const text = printCrushMap(c.map);
  const txt = join(workDir, `map-${c.seed}.txt`);
  const bin = join(workDir, `map-${c.seed}.bin`);
  writeFileSync(txt, text);
  execFileSync('crushtool', ['-c', txt, '-o', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { text, bin };
}

function crushtoolMappings(bin: string, rule: number, numRep: number, reweights: RandomCrushCase['reweights'], show = '--show-mappings'): string[] {
  const args = ['-i', bin, '--test', '--rule', String(rule), '--num-rep', String(numRep), '--min-x', '0', '--max-x', '1023', show];
  for (const [osd, w] of reweights) args.push('--weight', String(osd), String(w));
  const out = execFileSync('crushtool', args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l.length > 0);
}

// Hand-written edge cases: an empty bucket of every alg, zero-weight items in tree, straw and
// list buckets, rules that must skip the empty and all-zero branches.
const EDGE_MAP = `tunable choose_local_tries 0
tunable choose_local_fallback_tries 0
tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
tunable allowed_bucket_algs 54
device 0 osd.0
device 1 osd.1
device 2 osd.2
device 3 osd.3
device 4 osd.4
device 5 osd.5
device 6 osd.6
type 0 osd
type 1 host
type 2 root
host e1 {
\tid -2
\talg uniform
\thash 0
}
host e2 {
\tid -3
\talg list
\thash 0
}
host e3 {
\tid -4
\talg tree
\thash 0
}
host e4 {
\tid -5
\talg straw
\thash 0
}
host e5 {
\tid -6
\talg straw2
\thash 0
}
host h1 {
\tid -7
\talg tree
\thash 0
\titem osd.0 weight 0.000
\titem osd.1 weight 1.000
\titem osd.2 weight 0.000
}
host h2 {
\tid -8
\talg straw
\thash 0
\titem osd.3 weight 0.000
\titem osd.4 weight 2.000
}
host h3 {
\tid -9
\talg list
\thash 0
\titem osd.5 weight 0.000
\titem osd.6 weight 1.000
}
root default {
\tid -1
\talg straw2
\thash 0
\titem e1 weight 1.0
\titem e2 weight 1.0
\titem e3 weight 1.0
\titem e4 weight 1.0
\titem e5 weight 1.0
\titem h1
\titem h2
\titem h3
}
rule r0 {
\tid 0
\ttype replicated
\tmin_size 1
\tmax_size 10
\tstep take default
\tstep chooseleaf firstn 0 type host
\tstep emit
}
rule r1 {
\tid 1
\ttype erasure
\tmin_size 1
\tmax_size 10
\tstep take default
\tstep chooseleaf indep 0 type host
\tstep emit
}
rule r2 {
\tid 2
\ttype replicated
\tmin_size 1
\tmax_size 10
\tstep take default
\tstep choose firstn 0 type osd
\tstep emit
}
`;

// Seeds 1..24: every hierarchy depth, all five bucket algorithms, both tunable profiles, both
// straw_calc_versions; plus four maps that use one algorithm everywhere.
const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
const SINGLE_ALG = (['uniform', 'list', 'tree', 'straw'] as const).map((alg, i) => ({ seed: 100 + i, alg }));
// Device classes: shadow trees built by crushtool's compiler, `step take … class …` rules.
const CLASS_SEEDS = [200, 201, 202, 203, 204, 205];
// choose_args (Ceph's balancer weight sets): crushtool --test uses set 0, else the default (-1).
const CHOOSE_ARGS_SEEDS = [300, 301, 302, 303, 304, 305];

describe('bit-compatibility with Ceph crushtool (README I0; thesis ch. 5, digest §2)', () => {
  it('crushtool is installed (CI installs Debian ceph-base)', () => {
    if (!haveTool('crushtool')) throw new Error(INSTALL_HINT);
  });

  const cases: RandomCrushCase[] = [
    ...SEEDS.map((s) => randomCrushCase(s)),
    ...SINGLE_ALG.map(({ seed, alg }) => randomCrushCase(seed, { alg, levels: 2 })),
    ...CLASS_SEEDS.map((s) => randomCrushCase(s, { classes: true })),
    ...CHOOSE_ARGS_SEEDS.map((s) => randomCrushCase(s, { chooseArgs: true, classes: s % 2 === 1 })),
  ];
  let compared = 0;
  let mapsCompared = 0;

  it.each(cases.map((c) => [c.describe, c] as const))('every mapping of every rule equals crushtool --show-mappings: %s', (_d, c) => {
    if (!haveTool('crushtool')) throw new Error(INSTALL_HINT);
    const { text, bin } = compile(c);
    const mine = parseCrushMap(text); // what crushtool compiled, read by our parser
    for (const rule of mine.rules.filter((r): r is Rule => r !== undefined)) {
      for (const numRep of c.numReps.get(rule.id) ?? []) {
        const theirs = crushtoolMappings(bin, rule.id, numRep, c.reweights);
        const ours = crushTest(mine, { rule: rule.id, numRep, minX: 0, maxX: 1023, weights: c.reweights, show: 'mappings' });
        expect(theirs.length).toBe(1024);
        const firstDiff = ours.findIndex((l, i) => l !== theirs[i]);
        expect(firstDiff, `seed ${c.seed} rule ${rule.id} (${rule.name}) num-rep ${numRep}: first difference at line ${firstDiff}: ours '${ours[firstDiff]}' vs crushtool '${theirs[firstDiff]}'`).toBe(-1);
        expect(ours).toEqual(theirs);
        compared += ours.length;
      }
    }
    if (c.map.deviceClasses.length > 0) {
      // Without the `id … class …` lines both sides must allocate the shadow ids themselves.
      const stripped = text.split('\n').filter((l) => !/^\tid -\d+ class /.test(l)).join('\n');
      const txt = join(workDir, `map-${c.seed}-noclassids.txt`);
      const bin2 = join(workDir, `map-${c.seed}-noclassids.bin`);
      writeFileSync(txt, stripped);
      execFileSync('crushtool', ['-c', txt, '-o', bin2], { stdio: ['ignore', 'pipe', 'pipe'] });
      const ours2 = parseCrushMap(stripped);
      for (const rule of ours2.rules.filter((r): r is Rule => r !== undefined && r.steps.some((st) => st.op === 'take' && st.deviceClass !== undefined))) {
        for (const numRep of c.numReps.get(rule.id) ?? []) {
          const ours = crushTest(ours2, { rule: rule.id, numRep, minX: 0, maxX: 1023, weights: c.reweights, show: 'mappings' });
          expect(ours).toEqual(crushtoolMappings(bin2, rule.id, numRep, c.reweights));
          compared += ours.length;
        }
      }
    }
    mapsCompared++;
  });

  it('edge map (empty buckets of every alg, zero weights) maps exactly like crushtool', () => {
    if (!haveTool('crushtool')) throw new Error(INSTALL_HINT);
    const txt = join(workDir, 'edge.txt');
    const bin = join(workDir, 'edge.bin');
    writeFileSync(txt, EDGE_MAP);
    execFileSync('crushtool', ['-c', txt, '-o', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
    const mine = parseCrushMap(EDGE_MAP);
    for (const rule of [0, 1, 2]) {
      for (const numRep of [2, 3, 5]) {
        const ours = crushTest(mine, { rule, numRep, minX: 0, maxX: 1023, show: 'mappings' });
        expect(ours).toEqual(crushtoolMappings(bin, rule, numRep, []));
        compared += ours.length;
      }
    }
  });

  it('reads the maps `crushtool -d` prints (users bring their own maps; README I10)', () => {
    if (!haveTool('crushtool')) throw new Error(INSTALL_HINT);
    for (const seed of [1, 2, 3, 4, 8, 12]) {
      const c = randomCrushCase(seed);
      const { bin } = compile(c);
      const decompiled = execFileSync('crushtool', ['-d', bin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const theirs = parseCrushMap(decompiled);
      expect(theirs.tunables).toEqual(c.map.tunables);
      expect(theirs.devices).toEqual(c.map.devices);
      expect(theirs.types).toEqual(c.map.types);
      expect(theirs.rules).toEqual(c.map.rules);
      expect(theirs.buckets.length).toBe(c.map.buckets.length);
      c.map.buckets.forEach((b, i) => {
        const t = theirs.buckets[i];
        expect(t?.id).toBe(b?.id);
        expect(t?.alg).toBe(b?.alg);
        expect(t?.items).toEqual(b?.items);
        // crushtool -d prints weights with three decimals ("%.3f"), so they come back rounded.
        b?.itemWeights.forEach((w, j) => expect(Math.abs((t?.itemWeights[j] ?? -1) - w)).toBeLessThanOrEqual(0.0005 * 0x10000 + 1));
      });
    }
  });

  it('`troupe crush test --show-utilization` prints what crushtool --show-utilization prints', async () => {
    if (!haveTool('crushtool')) throw new Error(INSTALL_HINT);
    for (const [seed, classes] of [[2, false], [3, false], [9, false], [201, true]] as const) {
      const c = randomCrushCase(seed, { classes });
      const { text, bin } = compile(c);
      const path = join(workDir, `util-${seed}.txt`);
      writeFileSync(path, text);
      for (const rule of [0, 2]) {
        const theirs = crushtoolMappings(bin, rule, 3, c.reweights, '--show-utilization');
        const argv = ['crush', 'test', '--map', path, '--rule', String(rule), '--num-rep', '3', '--min-x', '0', '--max-x', '1023', '--show-utilization'];
        for (const [osd, w] of c.reweights) argv.push('--weight', String(osd), String(w));
        const ours = await runCrushCli(argv);
        expect(ours.exitCode).toBe(0);
        expect(ours.stdout).toEqual(theirs);
      }
    }
  });

  it.each([
    ['a plain map', 5, false],
    ['a map with device classes and choose_args for pool 1 (RADOS uses the pool id as the choose_args index)', 301, true],
  ] as const)('object -> PG -> OSDs equals osdmaptool --test-map-object (stable_mod, hashpspool; thesis §6.2.1): %s', (_d, seed, poolArgs) => {
    if (!haveTool('osdmaptool')) throw new Error(INSTALL_HINT);
    const c = randomCrushCase(seed, { levels: 2, classes: poolArgs, chooseArgs: poolArgs });
    let text = printCrushMap(c.map);
    if (poolArgs) {
      expect(text).toMatch(/choose_args (18446744073709551615|0) \{/);
      text = text.replace(/choose_args (18446744073709551615|0) \{/, 'choose_args 1 {'); // the set for pool 1
    }
    const txt = join(workDir, `osd-${seed}.txt`);
    const bin = join(workDir, `osd-${seed}.bin`);
    writeFileSync(txt, text);
    execFileSync('crushtool', ['-c', txt, '-o', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
    const mine = parseCrushMap(text);
    const om = join(workDir, `osdmap-${seed}`);
    execFileSync('osdmaptool', ['--createsimple', String(mine.maxDevices), om, '--clobber', '--with-default-pool', '--pg-bits', '3'], { stdio: 'pipe' });
    execFileSync('osdmaptool', [om, '--import-crush', bin], { stdio: 'pipe' });
    const printed = execFileSync('osdmaptool', [om, '--print'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const poolLine = printed.split('\n').find((l) => l.startsWith('pool 1 '));
    const pgNum = Number(/ pg_num (\d+)/.exec(poolLine ?? '')?.[1]);
    const size = Number(/ size (\d+)/.exec(poolLine ?? '')?.[1]);
    expect(poolLine).toContain('hashpspool');
    expect(pgNum & (pgNum - 1)).not.toBe(0); // not a power of two: stable_mod folds
    const rule = mine.rules[0] as Rule;
    const weights = new Array<number>(mine.maxDevices).fill(0x10000); // --mark-up-in: every OSD in
    const names = ['foo', 'bar', 'rbd_data.1234', 'a'.repeat(11), 'b'.repeat(12), 'c'.repeat(13), 'object-with-a-rather-long-name-0123456789', 'ünïcödé'];
    for (let i = 0; i < 12; i++) names.push(`obj${i * 7919}`);
    for (const name of names) {
      const out = execFileSync('osdmaptool', [om, '--mark-up-in', '--test-map-object', name, '--pool', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const theirs = out.split('\n').filter((l) => l.startsWith(' object '));
      const p = objectToOsds(mine, { id: 1, pgNum, size, rule }, name, weights);
      expect([` object '${name}' -> 1.${p.pg.ps.toString(16)} -> [${p.osds.join(',')}]`]).toEqual(theirs);
    }
  });

  it('the cross-check covered at least 20 maps and 100k mappings (checked last), 100% identical', () => {
    expect(mapsCompared).toBe(cases.length);
    expect(mapsCompared).toBeGreaterThanOrEqual(20);
    expect(compared).toBeGreaterThanOrEqual(100_000);
    console.log(`crushtool cross-check: ${mapsCompared} random maps + 1 edge map, ${compared} mappings, all identical`);
  });

});
