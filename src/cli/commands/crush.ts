import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import {
  CrushMapParseError,
  CrushTestError,
  crushTest,
  defaultDeviceWeights,
  findRule,
  formatPgId,
  objectToOsds,
  parseCrushMap,
  reweightFromFloat,
} from '../../actors/rados/crush/index.js';
import type { CrushMap, Rule } from '../../actors/rados/crush/index.js';
import { crushTestBulk, crushTestBulkMinInputs } from '../../actors/rados/crush/node/bulk-mapping.js';
import { JobPool } from '../../runtime/node/job-pool.js';
import { ExitCode, buildProgram } from '../program.js';
import type { Register } from '../program.js';

/**
 * `troupe crush`: CRUSH placement from a Ceph text map, offline.
 * - `troupe crush test` prints what `crushtool -i MAP --test ...` prints, line for line.
 * - `troupe crush map-object` prints what `osdmaptool --test-map-object` prints.
 * The command is a shell: the logic lives in src/actors/rados/crush (README there).
 */

/** Where the command reads and writes; the real CLI uses the process, tests capture it. */
export interface CrushIo {
  readFile(path: string): string;
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
}

const processIo: CrushIo = {
  readFile: (path) => readFileSync(path, 'utf8'),
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/** A usage problem found after parsing (e.g. a rule the map does not have): exit code 2. */
class UsageError extends Error {}
/** The map file cannot be read or is malformed: exit code 1. */
class MapFileError extends Error {}

function int(flag: string): (v: string) => number {
  return (v) => {
    if (!/^[+-]?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${flag} takes an integer, got '${v}'`);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} is out of range: '${v}'`);
    return n;
  };
}

function loadMap(io: CrushIo, path: string): CrushMap {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (err) {
    throw new MapFileError(`cannot read map file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return parseCrushMap(text);
  } catch (err) {
    if (err instanceof CrushMapParseError) throw new MapFileError(`${path}: ${err.message}`);
    throw err;
  }
}

function ruleOf(map: CrushMap, spec: string): Rule {
  const rule = /^\d+$/.test(spec) ? findRule(map, Number(spec)) : findRule(map, spec);
  if (!rule) {
    const known = map.rules.filter((r): r is Rule => r !== undefined).map((r) => `${r.id} (${r.name})`);
    throw new UsageError(`rule '${spec}' is not in the map (rules: ${known.join(', ') || 'none'})`);
  }
  return rule;
}

/** `--weight OSD W`, repeated: pairs of an OSD id and a reweight in [0, 1]. */
function weightPairs(values: readonly string[]): Array<[number, number]> {
  if (values.length % 2 !== 0) throw new UsageError(`--weight takes pairs 'OSD WEIGHT'; got ${values.length} values`);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < values.length; i += 2) {
    const osd = values[i] as string;
    const w = values[i + 1] as string;
    if (!/^\d+$/.test(osd)) throw new UsageError(`--weight: OSD must be a non-negative integer, got '${osd}'`);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(w)) throw new UsageError(`--weight: weight must be a number, got '${w}'`);
    pairs.push([Number(osd), Number(w)]);
  }
  return pairs;
}

interface TestOpts {
  map: string;
  rule: string;
  numRep: number;
  minX: number;
  maxX: number;
  weight?: string[];
  showMappings?: boolean;
  showUtilization?: boolean;
  jobs?: number;
}

/**
 * The lines `troupe crush test` prints. Throws UsageError / MapFileError. Ranges of
 * `crushTestBulkMinInputs` inputs or more are split across `--jobs` worker threads (default: the
 * machine's parallelism); the output is the same line for line.
 */
async function testLines(io: CrushIo, opts: TestOpts): Promise<string[]> {
  if (opts.showMappings === opts.showUtilization) throw new UsageError('give exactly one of --show-mappings and --show-utilization');
  if (opts.jobs !== undefined && opts.jobs < 1) throw new UsageError(`--jobs must be >= 1, got ${opts.jobs}`);
  const map = loadMap(io, opts.map);
  const rule = ruleOf(map, opts.rule);
  const testOpts = {
    rule: rule.id,
    numRep: opts.numRep,
    minX: opts.minX,
    maxX: opts.maxX,
    weights: weightPairs(opts.weight ?? []),
    show: opts.showMappings ? ('mappings' as const) : ('utilization' as const),
  };
  const bulk = opts.maxX - opts.minX + 1 >= crushTestBulkMinInputs && opts.jobs !== 1;
  const pool = bulk ? new JobPool(opts.jobs === undefined ? {} : { threads: opts.jobs }) : undefined;
  try {
    return pool === undefined ? crushTest(map, testOpts) : await crushTestBulk(map, testOpts, { pool });
  } catch (err) {
    if (err instanceof CrushTestError) throw new UsageError(err.message);
    throw err;
  } finally {
    await pool?.close();
  }
}

interface MapObjectOpts {
  map: string;
  poolId: number;
  pgNum: number;
  pgpNum?: number;
  size: number;
  rule: string;
  weight?: string[];
  legacyPsPool?: boolean;
}

/** The lines `troupe crush map-object` prints: ` object 'NAME' -> POOL.PG -> [osds]`, as osdmaptool. */
function mapObjectLines(io: CrushIo, names: readonly string[], opts: MapObjectOpts): string[] {
  if (names.length === 0) throw new UsageError('give at least one object NAME');
  if (opts.pgNum < 1) throw new UsageError(`--pg-num must be >= 1, got ${opts.pgNum}`);
  if (opts.pgpNum !== undefined && (opts.pgpNum < 1 || opts.pgpNum > opts.pgNum)) throw new UsageError(`--pgp-num must be in [1, pg-num], got ${opts.pgpNum}`);
  if (opts.size < 1) throw new UsageError(`--size must be >= 1, got ${opts.size}`);
  if (opts.poolId < 0) throw new UsageError(`--pool-id must be >= 0, got ${opts.poolId}`);
  const map = loadMap(io, opts.map);
  const rule = ruleOf(map, opts.rule);
  const weights = defaultDeviceWeights(map);
  for (const [osd, w] of weightPairs(opts.weight ?? [])) if (osd < weights.length) weights[osd] = reweightFromFloat(w);
  const pool = {
    id: opts.poolId,
    pgNum: opts.pgNum,
    ...(opts.pgpNum !== undefined ? { pgpNum: opts.pgpNum } : {}),
    size: opts.size,
    rule,
    hashPsPool: !opts.legacyPsPool,
  };
  return names.map((name) => {
    const p = objectToOsds(map, pool, name, weights);
    return ` object '${name}' -> ${formatPgId(p.pg)} -> [${p.osds.join(',')}]`;
  });
}

async function run(io: CrushIo, produce: () => string[] | Promise<string[]>): Promise<void> {
  try {
    for (const line of await produce()) io.out(line);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`troupe crush: ${err.message}`);
      io.setExitCode(ExitCode.usage);
    } else if (err instanceof MapFileError) {
      io.err(`troupe crush: ${err.message}`);
      io.setExitCode(ExitCode.failure);
    } else {
      throw err;
    }
  }
}

/** Registers `crush test` and `crush map-object` with the given I/O. */
export function makeRegisterCrush(io: CrushIo): Register {
  return (program: Command) => {
    const crush = program.command('crush').description('CRUSH placement from a Ceph text map (bit-compatible with Ceph)');
    crush
      .command('test')
      .description("map inputs x with a rule, printing exactly what 'crushtool --test' prints")
      .requiredOption('--map <file>', 'CRUSH map in Ceph text syntax')
      .requiredOption('--rule <rule>', 'rule id or name')
      .requiredOption('--num-rep <n>', 'results per input', int('--num-rep'))
      .option('--min-x <x>', 'first input', int('--min-x'), 0)
      .option('--max-x <x>', 'last input', int('--max-x'), 1023)
      .option('--weight <osd-and-weight...>', 'reweight an OSD: --weight OSD W (W in [0,1]); repeatable')
      .option('--show-mappings', "one line per input: 'CRUSH rule R x X [a,b,c]'")
      .option('--show-utilization', 'per-device counts, as crushtool --show-utilization')
      .option('--jobs <n>', `worker threads for ranges of ${crushTestBulkMinInputs} inputs or more (default: one per core; 1 = this thread)`, int('--jobs'))
      .action((opts: TestOpts) => run(io, () => testLines(io, opts)));
    crush
      .command('map-object')
      .description("object name -> PG -> OSDs as RADOS computes it (as 'osdmaptool --test-map-object')")
      .argument('<names...>', 'object names')
      .requiredOption('--map <file>', 'CRUSH map in Ceph text syntax')
      .requiredOption('--pool-id <id>', 'pool id', int('--pool-id'))
      .requiredOption('--pg-num <n>', 'PGs in the pool', int('--pg-num'))
      .option('--pgp-num <n>', 'placement PGs (default: pg-num)', int('--pgp-num'))
      .requiredOption('--size <n>', 'replicas per PG', int('--size'))
      .option('--rule <rule>', 'rule id or name', '0')
      .option('--weight <osd-and-weight...>', 'reweight an OSD: --weight OSD W (W in [0,1]); repeatable')
      .option('--legacy-ps-pool', 'seed placement with ps + pool (pools without the hashpspool flag)')
      .action((names: string[], opts: MapObjectOpts) => run(io, () => mapObjectLines(io, names, opts)));
  };
}

/** `troupe crush` on the real process. */
export const registerCrush: Register = makeRegisterCrush(processIo);

export interface CrushCliResult {
  readonly exitCode: number;
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
}

/**
 * Runs `troupe crush ...` in-process (argv without `troupe`, e.g. `['crush', 'test', ...]`) and
 * returns its output and exit code. Tests use this; files are read through `readFile`.
 */
export async function runCrushCli(argv: readonly string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Promise<CrushCliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let exitCode: number = ExitCode.ok;
  const io: CrushIo = { readFile, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l), setExitCode: (c) => (exitCode = c) };
  const program = buildProgram([makeRegisterCrush(io)]);
  const capture = { writeOut: (s: string) => void stdout.push(...s.replace(/\n$/, '').split('\n')), writeErr: (s: string) => void stderr.push(...s.replace(/\n$/, '').split('\n')) };
  program.configureOutput(capture);
  for (const c of program.commands) {
    c.configureOutput(capture).exitOverride();
    for (const sub of c.commands) sub.configureOutput(capture).exitOverride();
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  return { exitCode, stdout, stderr };
}
