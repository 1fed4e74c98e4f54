import { describe, expect, it } from 'vitest';
import { printCrushMap } from '../../../src/actors/rados/crush/index.js';
import { runCrushCli } from '../../../src/cli/commands/crush.js';
import { randomCrushCase } from '../../support/crush-random-map.js';

const files: Record<string, string> = {
  'good.txt': printCrushMap(randomCrushCase(2).map),
  'bad.txt': 'device 0 osd.0\ntype 0 osd\nroot default {\n\tid -1\n}\n',
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
  return text;
};
const run = (...argv: string[]) => runCrushCli(['crush', ...argv], readFile);

describe('`troupe crush` (crushtool-compatible CLI; README "CLI")', () => {
  it('test --show-mappings prints one `CRUSH rule R x X [a,b,c]` line per input', async () => {
    const r = await run('test', '--map', 'good.txt', '--rule', '0', '--num-rep', '3', '--min-x', '5', '--max-x', '9', '--show-mappings');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(5);
    for (const [i, line] of r.stdout.entries()) expect(line).toMatch(new RegExp(`^CRUSH rule 0 x ${5 + i} \\[\\d+(,\\d+)*\\]$`));
  });

  it('accepts a rule name and repeated --weight OSD W pairs', async () => {
    const byName = await run('test', '--map', 'good.txt', '--rule', 'rep_leaf', '--num-rep', '3', '--max-x', '50', '--weight', '0', '0', '--weight', '1', '0.5', '--show-mappings');
    expect(byName.exitCode).toBe(0);
    expect(byName.stdout.join('\n')).not.toMatch(/[[,]0[,\]]/); // osd.0 is out
  });

  it('test --show-utilization prints the summary and per-device lines', async () => {
    const r = await run('test', '--map', 'good.txt', '--rule', '0', '--num-rep', '2', '--show-utilization');
    expect(r.exitCode).toBe(0);
    expect(r.stdout[0]).toBe('rule 0 (rep_leaf), x = 0..1023, numrep = 2..2');
    expect(r.stdout.slice(2).every((l) => /^ {2}device \d+:\t\t stored : \d+\t expected : [\d.]+$/.test(l))).toBe(true);
  });

  it('map-object prints osdmaptool-style lines', async () => {
    const r = await run('map-object', '--map', 'good.txt', '--pool-id', '1', '--pg-num', '48', '--size', '3', 'foo', 'bar');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(2);
    expect(r.stdout[0]).toMatch(/^ object 'foo' -> 1\.[0-9a-f]+ -> \[\d+,\d+,\d+\]$/);
  });

  it('an unknown rule is a usage error (exit 2) that lists the rules', async () => {
    const r = await run('test', '--map', 'good.txt', '--rule', '42', '--num-rep', '3', '--show-mappings');
    expect(r.exitCode).toBe(2);
    expect(r.stderr.join('\n')).toMatch(/rule '42' is not in the map \(rules: 0 \(rep_leaf\), 1 \(ec_leaf\)/);
  });

  it('bad numbers and missing options are usage errors (exit 2)', async () => {
    expect((await run('test', '--map', 'good.txt', '--rule', '0', '--num-rep', 'three', '--show-mappings')).exitCode).toBe(2);
    expect((await run('test', '--map', 'good.txt', '--rule', '0', '--num-rep', '3')).exitCode).toBe(2);
    expect((await run('test', '--map', 'good.txt', '--rule', '0', '--num-rep', '3', '--show-mappings', '--weight', '1')).exitCode).toBe(2);
    expect((await run('test', '--map', 'good.txt', '--rule', '0', '--num-rep', '3', '--min-x', '9', '--max-x', '1', '--show-mappings')).exitCode).toBe(2);
    expect((await run('map-object', '--map', 'good.txt', '--pool-id', '1', '--pg-num', '0', '--size', '3', 'x')).exitCode).toBe(2);
    const r = await run('test', '--map', 'good.txt', '--num-rep', '3', '--show-mappings');
    expect(r.exitCode).toBe(2);
    expect(r.stderr.join('\n')).toMatch(/--rule/);
  });

  it('a malformed map fails (exit 1) naming the file, the line and what was expected', async () => {
    const r = await run('test', '--map', 'bad.txt', '--rule', '0', '--num-rep', '3', '--show-mappings');
    expect(r.exitCode).toBe(1);
    expect(r.stderr.join('\n')).toMatch(/bad\.txt: line 3: unknown bucket type 'root'/);
  });

  it('a missing map file fails (exit 1)', async () => {
    const r = await run('test', '--map', 'nope.txt', '--rule', '0', '--num-rep', '3', '--show-mappings');
    expect(r.exitCode).toBe(1);
    expect(r.stderr.join('\n')).toMatch(/cannot read map file nope\.txt/);
  });
});
