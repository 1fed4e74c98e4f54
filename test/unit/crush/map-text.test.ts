import { describe, expect, it } from 'vitest';
import { CrushMapParseError, LEGACY_TUNABLES, parseCrushMap, printCrushMap, weightFromText, weightToText } from '../../../src/actors/rados/crush/index.js';
import { randomCrushCase } from '../../support/crush-random-map.js';

// The shape `crushtool -d` prints (Ceph 16): comments, class annotations, omitted tunables.
const DECOMPILED = `# begin crush map
tunable choose_local_tries 0
tunable choose_local_fallback_tries 0
tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
tunable allowed_bucket_algs 54

# devices
device 0 osd.0 class hdd
device 1 osd.1 class hdd
device 2 osd.2 class ssd

# types
type 0 osd
type 1 host
type 11 root

# buckets
host node-a {
\tid -3\t\t# do not change unnecessarily
\tid -4 class hdd\t\t# do not change unnecessarily
\t# weight 2.000
\talg straw2
\thash 0\t# rjenkins1
\titem osd.0 weight 1.000
\titem osd.1 weight 1.000
}
host node-b {
\tid -2
\talg list
\thash rjenkins1
\titem osd.2 weight 0.500
}
root default {
\tid -1\t\t# do not change unnecessarily
\talg straw2
\thash 0\t# rjenkins1
\titem node-a weight 2.000
\titem node-b
}

# rules
rule replicated_rule {
\tid 0
\ttype replicated
\tmin_size 1
\tmax_size 10
\tstep take default
\tstep chooseleaf firstn 0 type host
\tstep emit
}

# end crush map
`;

function parseError(text: string): CrushMapParseError {
  try {
    parseCrushMap(text);
  } catch (err) {
    if (err instanceof CrushMapParseError) return err;
    throw err;
  }
  throw new Error('expected a parse error');
}

describe("Ceph's text map syntax (README I10–I11)", () => {
  it('parses what crushtool -d prints: devices with classes, ids, algs, hashes, weights, rules', () => {
    const m = parseCrushMap(DECOMPILED);
    expect(m.devices.map((d) => d.deviceClass)).toEqual(['hdd', 'hdd', 'ssd']);
    expect(m.buckets[0]?.name).toBe('default');
    expect(m.buckets[2]?.items).toEqual([0, 1]);
    expect(m.buckets[1]?.itemWeights).toEqual([0x8000]);
    // An item without a weight weighs its bucket's total.
    expect(m.buckets[0]?.itemWeights).toEqual([0x20000, 0x8000]);
    expect(m.rules[0]?.steps).toEqual([{ op: 'take', item: -1 }, { op: 'choose', leaf: true, mode: 'firstn', num: 0, type: 1 }, { op: 'emit' }]);
    expect(m.maxDevices).toBe(3);
  });

  it('device classes build shadow trees with crushtool\'s ids: given ones kept, the rest allocated depth-first', () => {
    const m = parseCrushMap(DECOMPILED.replace('step take default', 'step take default class hdd'));
    // node-a's hdd copy has the given id -4; node-b, default and every ssd copy get free ids,
    // children first, classes in order of first use (hdd, ssd), skipping reserved -4.
    expect(m.deviceClasses).toEqual(['hdd', 'ssd']);
    expect(m.classBuckets.get(-3)?.get('hdd')).toBe(-4);
    expect(m.classBuckets.get(-2)?.get('hdd')).toBe(-5);
    expect(m.classBuckets.get(-1)?.get('hdd')).toBe(-6);
    expect(m.buckets[5]?.name).toBe('default~hdd');
    expect(m.buckets[5]?.items).toEqual([-4, -5]);
    expect(m.buckets[4]?.items).toEqual([]); // node-b has no hdd device
    expect(m.rules[0]?.steps[0]).toEqual({ op: 'take', item: -1, deviceClass: 'hdd' });
    expect(parseCrushMap(printCrushMap(m))).toEqual(m);
  });

  it('reads choose_args (weight sets and ids); 18446744073709551615 is the default set, -1', () => {
    const text = `${DECOMPILED}choose_args 18446744073709551615 {\n  {\n    bucket_id -3\n    weight_set [\n      [ 0.500 2.000 ]\n      [ 1.000 1.000 ]\n    ]\n    ids [ 7 8 ]\n  }\n}\n`;
    const m = parseCrushMap(text);
    expect(m.chooseArgs.get(-1)?.get(-3)).toEqual({ weightSet: [[0x8000, 0x20000], [0x10000, 0x10000]], ids: [7, 8] });
    expect(parseCrushMap(printCrushMap(m))).toEqual(m);
    expect(printCrushMap(m)).toContain('choose_args 18446744073709551615 {');
    const short = text.replace('[ 1.000 1.000 ]', '[ 1.000 ]');
    expect(() => parseCrushMap(short)).toThrow(/bucket -3 needs exactly 2 weights per weight_set row, got 1/);
  });

  it("missing tunable lines mean Ceph's legacy values, as crushtool's compiler assumes", () => {
    const noTunables = DECOMPILED.split('\n').filter((l) => !l.startsWith('tunable')).join('\n');
    expect(parseCrushMap(noTunables).tunables).toEqual(LEGACY_TUNABLES);
  });

  it('assigns missing bucket ids like the compiler: the highest unused negative id', () => {
    const text = DECOMPILED.replace('\tid -2\n', '');
    const m = parseCrushMap(text);
    expect(m.buckets.find((b) => b?.name === 'node-b')?.id).toBe(-2);
  });

  it('print then parse rebuilds the same map, and printing is stable, for random maps', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const { map } = randomCrushCase(seed);
      const text = printCrushMap(map);
      const again = parseCrushMap(text);
      expect(again).toEqual(map);
      expect(printCrushMap(again)).toBe(text);
    }
  });

  it('reads weights as crushtool does (C float × 0x10000, truncated) and prints 16.16 weights exactly', () => {
    expect(weightFromText('1.000')).toBe(0x10000);
    expect(weightFromText('0.5')).toBe(0x8000);
    expect(weightFromText('3.14159')).toBe(Math.trunc(Math.fround(3.14159) * 0x10000));
    expect(weightFromText('-1')).toBeUndefined();
    expect(weightFromText('abc')).toBeUndefined();
    expect(weightToText(0x10000)).toBe('1.000');
    expect(weightToText(0x18000)).toBe('1.500');
    expect(weightToText(1)).toBe('0.0000152587890625');
    for (const w of [0, 1, 0x8001, 0x12345, 0xabcdef]) expect(weightFromText(weightToText(w))).toBe(w);
  });

  it('rejects malformed maps with the line and what was expected', () => {
    // [text, a string on the offending line, message]
    const cases: Array<[string, string, RegExp]> = [
      [DECOMPILED.replace('type 1 host', 'type x host'), 'type x host', /expected a type id \(an integer\), found 'x'/],
      [DECOMPILED.replace('host node-b {', 'rack node-b {'), 'rack node-b {', /unknown bucket type 'rack'/],
      [DECOMPILED.replace('item osd.2 weight 0.500', 'item osd.9 weight 0.500'), 'item osd.9', /bucket 'node-b' lists item 'osd.9', which is not a device or bucket/],
      [DECOMPILED.replace('weight 0.500', 'weight lots'), 'weight lots', /expected a non-negative weight, found 'lots'/],
      [DECOMPILED.replace('alg list', 'alg fancy'), 'alg fancy', /unknown bucket alg 'fancy'/],
      [DECOMPILED.replace('tunable chooseleaf_stable 1', 'tunable chooseleaf_unstable 1'), 'chooseleaf_unstable', /unknown tunable 'chooseleaf_unstable'/],
      [DECOMPILED.replace('step take default', 'step take nowhere'), 'take nowhere', /take 'nowhere' names no device or bucket/],
      [DECOMPILED.replace('type host\n', 'type rack\n'), 'type rack', /unknown type 'rack'/],
      [DECOMPILED.replace('\tstep emit\n}', '\tstep emit\n'), '# end crush map', /expected '}' to close rule replicated_rule, found end of file/],
      [DECOMPILED.replace('\tid -2\n', '\tid -3\n'), 'host node-b', /id -3 is used by another bucket/],
      [DECOMPILED.replace('step take default', 'step take default class nvme'), 'default class nvme', /no device or bucket has class 'nvme'/],
      [DECOMPILED.replace('step emit', 'step spin'), 'step spin', /expected a step .* found 'spin'/],
      [DECOMPILED.replace('device 2 osd.2', 'device 1 osd.2'), 'device 1 osd.2', /device id 1 is defined twice/],
      [`${DECOMPILED}choose_args 0 {\n  {\n    bucket_id 5\n  }\n}\n`, 'bucket_id 5', /choose_args bucket_id 5 must be negative/],
      [`${DECOMPILED}choose_args 0 {\n  {\n    bucket_id -1\n    weight_set [\n      [ 1.0 x ]\n    ]\n  }\n}\n`, '[ 1.0 x ]', /expected a non-negative weight or '\]', found 'x'/],
    ];
    for (const [text, marker, message] of cases) {
      const lines = text.split('\n');
      const line = marker === '# end crush map' ? lines.length : lines.findIndex((l) => l.includes(marker)) + 1;
      const err = parseError(text);
      expect(err.message).toMatch(message);
      expect(err.line, err.message).toBe(line);
      expect(err.message).toMatch(new RegExp(`^line ${line}: `));
    }
  });

  it('rejects a uniform bucket with unequal weights and a hierarchy that contains itself', () => {
    expect(parseError(DECOMPILED.replace('alg straw2\n\thash 0\t# rjenkins1\n\titem osd.0 weight 1.000\n\titem osd.1 weight 1.000', 'alg uniform\n\titem osd.0 weight 1.000\n\titem osd.1 weight 2.000')).message).toMatch(/a uniform bucket needs equal item weights/);
    const cyclic = DECOMPILED.replace('\titem osd.2 weight 0.500\n', '\titem osd.2 weight 0.500\n\titem default\n');
    expect(parseError(cyclic).message).toMatch(/contains itself/);
  });
});
