/**
 * House rules that lint cannot express (STYLE.md, "One gate, many checks"): no `export *`; no
 * grab-bag module names; every system folder has its protocol, errors and README; the simulator
 * stays off the host's clock and event loop.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('house rules', () => {
  const files = sourceFiles(join(root, 'src'));

  it('no `export *`: the public surface is an explicit list', () => {
    const offenders = files.filter((f) => /^\s*export\s+\*/m.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('the simulator imports nothing from the real host code (src/runtime/node): it never touches real time', () => {
    const offenders = files
      .filter((f) => f.includes(`${join('src', 'runtime', 'sim')}`))
      .filter((f) => /from\s+'[^']*\/node\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(files.some((f) => f.includes(join('src', 'runtime', 'sim')))).toBe(true);
    expect(offenders).toEqual([]);
  });

  it('no grab-bag modules (utils, misc, helpers)', () => {
    const offenders = files.filter((f) => /\/(utils?|misc|helpers?)\.ts$/.test(f)).map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('every system folder under src/actors has protocol.ts, errors.ts and README.md', () => {
    const actors = join(root, 'src', 'actors');
    const systems = existsSync(actors) ? readdirSync(actors).filter((n) => statSync(join(actors, n)).isDirectory()) : [];
    const missing = systems.flatMap((s) =>
      ['protocol.ts', 'errors.ts', 'README.md'].filter((f) => !existsSync(join(actors, s, f))).map((f) => `src/actors/${s}/${f}`),
    );
    // A system folder that holds only a pure algorithm so far (e.g. rados/ with crush/) is exempt
    // until its actors land; it must then say so in a README of its own.
    const pureOnly = (s: string): boolean => readdirSync(join(actors, s)).every((n) => statSync(join(actors, s, n)).isDirectory());
    expect(missing.filter((m) => !pureOnly(m.split('/')[2] as string))).toEqual([]);
  });
});
