/**
 * Ceph's text map syntax (what `crushtool -d` prints and `crushtool -c` compiles): parse and
 * print. README invariants I10–I11.
 *
 * Parsing follows crushtool's compiler where it decides a value:
 * - a missing `tunable` line means Ceph's *legacy* value (the compiler starts from legacy
 *   tunables and the decompiler omits values equal to them);
 * - item weights are read as a C `float` and scaled by 0x10000 with truncation, exactly like
 *   the compiler (`strtof(s) * (float)0x10000` stored as unsigned);
 * - an item without a weight weighs 1.0 (a device) or its bucket's total (a bucket);
 * - a bucket without an id gets the highest unused negative id, counting down from -1.
 *
 * The printer writes every tunable explicitly, so the text means the same to any reader, and
 * writes weights as the exact decimal of the 16.16 value.
 */
import { BUCKET_ALGS } from './buckets.js';
import type { BucketAlg } from './buckets.js';
import { CrushMapError, LEGACY_TUNABLES, SET_STEP_NAMES, TUNABLE_NAMES, buildCrushMap } from './crush-map.js';
import type { BucketSpec, ChooseArg, ChooseArgMap, CrushMap, Device, Rule, RuleStep, RuleType, SetStepName, Tunables, TypeName } from './crush-map.js';

/** A malformed text map: the 1-based line and what was expected there. */
export class CrushMapParseError extends Error {
  override readonly name = 'CrushMapParseError';
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(line > 0 ? `line ${line}: ${detail}` : detail);
  }
}

interface Token {
  readonly text: string;
  readonly line: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const body = hash >= 0 ? raw.slice(0, hash) : raw;
    // Braces and brackets are tokens of their own even when written against a word.
    for (const m of body.matchAll(/[{}[\]]|[^\s{}[\]]+/g)) tokens.push({ text: m[0], line: i + 1 });
  });
  return tokens;
}

const NAME_RE = /^[A-Za-z0-9_.-]+$/;
const INT_RE = /^[+-]?\d+$/;

class Cursor {
  private i = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly lastLine: number,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  line(): number {
    return this.peek()?.line ?? this.lastLine;
  }

  fail(expected: string): never {
    const t = this.peek();
    throw new CrushMapParseError(this.line(), `expected ${expected}, found ${t ? `'${t.text}'` : 'end of file'}`);
  }

  next(expected: string): Token {
    const t = this.peek();
    if (!t) this.fail(expected);
    this.i++;
    return t;
  }

  keyword(word: string): Token {
    const t = this.peek();
    if (!t || t.text !== word) this.fail(`'${word}'`);
    this.i++;
    return t;
  }

  accept(word: string): boolean {
    if (this.peek()?.text !== word) return false;
    this.i++;
    return true;
  }

  name(what: string): Token {
    const t = this.peek();
    if (!t || !NAME_RE.test(t.text) || t.text === '{' || t.text === '}') this.fail(what);
    this.i++;
    return t;
  }

  int(what: string): number {
    const t = this.peek();
    if (!t || !INT_RE.test(t.text)) this.fail(`${what} (an integer)`);
    const v = Number(t.text);
    if (!Number.isSafeInteger(v) || v > 0x7fffffff || v < -0x80000000) this.fail(`${what} (a 32-bit integer)`);
    this.i++;
    return v;
  }

  done(): boolean {
    return this.i >= this.tokens.length;
  }
}

/**
 * The 16.16 weight crushtool's compiler stores for a weight written as `text`: the text is read
 * as a C float, multiplied by 0x10000 in float and truncated.
 */
export function weightFromText(text: string): number | undefined {
  if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const f = Math.fround(Number(text));
  const scaled = Math.fround(f * 0x10000);
  if (!Number.isFinite(scaled) || scaled >= 0x1_0000_0000) return undefined;
  return Math.trunc(scaled);
}

/** The exact decimal of a 16.16 weight, with at least three decimals (`1.000`, `0.5078125`). */
export function weightToText(w: number): string {
  const whole = Math.floor(w / 0x10000);
  const frac = w % 0x10000;
  // frac / 2^16 has at most 16 decimals: frac · 10^16 / 2^16 is an integer.
  let digits = ((BigInt(frac) * 10n ** 16n) / 65536n).toString().padStart(16, '0');
  digits = digits.replace(/0+$/, '');
  if (digits.length < 3) digits = digits.padEnd(3, '0');
  return `${whole}.${digits}`;
}

const MAX_DEVICE_WEIGHT = 100 * 0x10000; // crushtool's CRUSH_MAX_DEVICE_WEIGHT
const MAX_BUCKET_WEIGHT = 65535 * 0x10000; // CRUSH_MAX_BUCKET_WEIGHT

interface PendingItem {
  readonly name: string;
  readonly line: number;
  readonly weight: number | undefined;
  readonly pos: number | undefined;
}

interface PendingBucket {
  readonly typeName: string;
  readonly name: string;
  readonly line: number;
  id: number | undefined;
  alg: BucketAlg | undefined;
  hash: number;
  readonly items: PendingItem[];
  readonly classIds: Array<[string, number]>;
}

interface PendingRule {
  readonly line: number;
  readonly name: string;
  readonly id: number;
  readonly type: RuleType;
  readonly minSize: number;
  readonly maxSize: number;
  readonly steps: Array<{ readonly line: number; readonly step: RuleStep | { readonly op: 'takeName'; readonly name: string; readonly deviceClass?: string } | { readonly op: 'chooseName'; readonly leaf: boolean; readonly mode: 'firstn' | 'indep'; readonly num: number; readonly typeName: string } }>;
}

/**
 * Parses a text map. Throws CrushMapParseError (with the line and what was expected) for
 * malformed text, undefined names, duplicate ids and unsupported features (hashes other than
 * rjenkins1). Device classes build Ceph's shadow trees (crush-map.ts).
 */
export function parseCrushMap(text: string): CrushMap {
  const tokens = tokenize(text);
  const cur = new Cursor(tokens, text.split(/\r?\n/).length);
  const tunables: { -readonly [K in keyof Tunables]: Tunables[K] } = { ...LEGACY_TUNABLES };
  const devices: Device[] = [];
  const types: TypeName[] = [];
  const buckets: PendingBucket[] = [];
  const rules: PendingRule[] = [];
  const chooseArgs = new Map<number, Map<number, ChooseArg>>();

  while (!cur.done()) {
    const head = cur.peek() as Token;
    switch (head.text) {
      case 'tunable': {
        cur.next('tunable');
        const nameTok = cur.name('a tunable name');
        const entry = TUNABLE_NAMES.find(([n]) => n === nameTok.text);
        if (!entry) throw new CrushMapParseError(nameTok.line, `unknown tunable '${nameTok.text}' (expected one of ${TUNABLE_NAMES.map(([n]) => n).join(', ')})`);
        tunables[entry[1]] = cur.int(`a value for tunable ${nameTok.text}`);
        break;
      }
      case 'device': {
        cur.next('device');
        const id = cur.int('a device id');
        if (id < 0) throw new CrushMapParseError(head.line, `device id ${id} must be >= 0`);
        const name = cur.name('a device name').text;
        if (devices.some((d) => d.id === id)) throw new CrushMapParseError(head.line, `device id ${id} is defined twice`);
        if (devices.some((d) => d.name === name)) throw new CrushMapParseError(head.line, `item ${name} is defined twice`);
        if (cur.accept('class')) devices.push({ id, name, deviceClass: cur.name('a device class name').text });
        else devices.push({ id, name });
        break;
      }
      case 'type': {
        cur.next('type');
        const id = cur.int('a type id');
        if (id < 0) throw new CrushMapParseError(head.line, `type id ${id} must be >= 0`);
        const name = cur.name('a type name').text;
        if (types.some((t) => t.id === id || t.name === name)) throw new CrushMapParseError(head.line, `type ${id} ${name} is defined twice`);
        types.push({ id, name });
        break;
      }
      case 'rule':
        rules.push(parseRule(cur));
        break;
      case 'choose_args': {
        const [index, set] = parseChooseArgs(cur);
        if (chooseArgs.has(index)) throw new CrushMapParseError(head.line, `choose_args ${index} is defined twice`);
        chooseArgs.set(index, set);
        break;
      }
      default:
        buckets.push(parseBucket(cur));
    }
  }
  return resolve(tunables, devices, types, buckets, rules, chooseArgs);
}

/**
 * The choose_args index as crushtool reads it: `strtol` (saturating at 2^63 − 1) stored in an
 * int, so 18446744073709551615 — how Ceph prints the default set — reads as -1.
 */
function chooseArgsIndex(text: string): number {
  let v = BigInt(text);
  if (v > 0x7fffffffffffffffn) v = 0x7fffffffffffffffn;
  return Number(BigInt.asIntN(32, v));
}

function parseChooseArgs(cur: Cursor): [number, Map<number, ChooseArg>] {
  cur.keyword('choose_args');
  const idx = cur.next('a choose_args index');
  if (!/^\d+$/.test(idx.text)) throw new CrushMapParseError(idx.line, `expected a choose_args index (digits), found '${idx.text}'`);
  const index = chooseArgsIndex(idx.text);
  cur.keyword('{');
  const set = new Map<number, ChooseArg>();
  while (!cur.accept('}')) {
    cur.keyword('{');
    const bidTok = cur.keyword('bucket_id');
    const bucketId = cur.int('a bucket id');
    if (bucketId >= 0) throw new CrushMapParseError(bidTok.line, `choose_args bucket_id ${bucketId} must be negative`);
    let weightSet: number[][] | undefined;
    let ids: number[] | undefined;
    if (cur.accept('weight_set')) {
      cur.keyword('[');
      weightSet = [];
      while (!cur.accept(']')) {
        cur.keyword('[');
        const row: number[] = [];
        while (!cur.accept(']')) {
          const wt = cur.next("a weight or ']'");
          const w = weightFromText(wt.text);
          if (w === undefined) throw new CrushMapParseError(wt.line, `expected a non-negative weight or ']', found '${wt.text}'`);
          row.push(w);
        }
        weightSet.push(row);
      }
    }
    if (cur.accept('ids')) {
      cur.keyword('[');
      ids = [];
      while (!cur.accept(']')) ids.push(cur.int("an id or ']'"));
    }
    cur.keyword('}');
    if (set.has(bucketId)) throw new CrushMapParseError(bidTok.line, `choose_args ${index}: bucket ${bucketId} appears twice`);
    set.set(bucketId, { ...(weightSet !== undefined ? { weightSet } : {}), ...(ids !== undefined ? { ids } : {}) });
  }
  return [index, set];
}

function parseBucket(cur: Cursor): PendingBucket {
  const typeTok = cur.name("a top-level keyword ('tunable', 'device', 'type', 'rule') or a bucket type name");
  const nameTok = cur.name(`a bucket name after bucket type '${typeTok.text}'`);
  cur.keyword('{');
  const b: PendingBucket = { typeName: typeTok.text, name: nameTok.text, line: typeTok.line, id: undefined, alg: undefined, hash: 0, items: [], classIds: [] };
  for (;;) {
    const t = cur.peek();
    if (!t) cur.fail(`'}' to close bucket ${b.name}`);
    if (t.text === '}') {
      cur.next('}');
      break;
    }
    cur.next('a bucket field');
    switch (t.text) {
      case 'id': {
        const id = cur.int('a bucket id');
        if (cur.accept('class')) {
          // The id of this bucket's copy for one device class (its shadow tree).
          const cls = cur.name('a device class name').text;
          if (id >= 0) throw new CrushMapParseError(t.line, `bucket ${b.name}: class id ${id} must be negative`);
          if (b.classIds.some(([c]) => c === cls)) throw new CrushMapParseError(t.line, `bucket ${b.name}: a second id for class ${cls}`);
          b.classIds.push([cls, id]);
          break;
        }
        if (id >= 0) throw new CrushMapParseError(t.line, `bucket ${b.name}: id ${id} must be negative`);
        if (b.id !== undefined) throw new CrushMapParseError(t.line, `bucket ${b.name}: a second id`);
        b.id = id;
        break;
      }
      case 'alg': {
        const a = cur.name('a bucket alg');
        if (!(BUCKET_ALGS as readonly string[]).includes(a.text)) throw new CrushMapParseError(a.line, `unknown bucket alg '${a.text}' (expected one of ${BUCKET_ALGS.join(', ')})`);
        b.alg = a.text as BucketAlg;
        break;
      }
      case 'hash': {
        const h = cur.next('a hash name or number');
        if (h.text !== 'rjenkins1' && h.text !== '0') throw new CrushMapParseError(h.line, `unsupported hash '${h.text}' (expected rjenkins1 or 0)`);
        b.hash = 0;
        break;
      }
      case 'item': {
        const name = cur.name('an item name').text;
        let weight: number | undefined;
        let pos: number | undefined;
        for (;;) {
          if (cur.accept('weight')) {
            const wt = cur.next('a weight');
            weight = weightFromText(wt.text);
            if (weight === undefined) throw new CrushMapParseError(wt.line, `expected a non-negative weight, found '${wt.text}'`);
          } else if (cur.accept('pos')) {
            pos = cur.int('a position');
            if (pos < 0) throw new CrushMapParseError(t.line, `item ${name}: pos ${pos} must be >= 0`);
          } else break;
        }
        b.items.push({ name, line: t.line, weight, pos });
        break;
      }
      default:
        throw new CrushMapParseError(t.line, `expected 'id', 'alg', 'hash', 'item' or '}' in bucket ${b.name}, found '${t.text}'`);
    }
  }
  return b;
}

function parseRule(cur: Cursor): PendingRule {
  const ruleTok = cur.keyword('rule');
  let name = '';
  if (cur.peek()?.text !== '{') name = cur.name('a rule name or {').text;
  cur.keyword('{');
  const idTok = cur.peek();
  if (!idTok || (idTok.text !== 'id' && idTok.text !== 'ruleset')) cur.fail("'id'");
  cur.next('id');
  const id = cur.int('a rule id');
  if (id < 0) throw new CrushMapParseError(idTok.line, `rule id ${id} must be >= 0`);
  let type: RuleType = 'replicated';
  let minSize = 1;
  let maxSize = 10;
  const steps: PendingRule['steps'] = [];
  for (;;) {
    const t = cur.peek();
    if (!t) cur.fail(`'}' to close rule ${name || id}`);
    if (t.text === '}') {
      cur.next('}');
      break;
    }
    cur.next('a rule field');
    if (t.text === 'type') {
      const ty = cur.next("'replicated' or 'erasure'");
      if (ty.text === 'replicated' || ty.text === '1') type = 'replicated';
      else if (ty.text === 'erasure' || ty.text === '3') type = 'erasure';
      else throw new CrushMapParseError(ty.line, `expected rule type 'replicated' or 'erasure', found '${ty.text}'`);
    } else if (t.text === 'min_size') {
      minSize = cur.int('min_size');
    } else if (t.text === 'max_size') {
      maxSize = cur.int('max_size');
    } else if (t.text === 'step') {
      steps.push({ line: t.line, step: parseStep(cur) });
    } else {
      throw new CrushMapParseError(t.line, `expected 'type', 'min_size', 'max_size', 'step' or '}' in rule ${name || id}, found '${t.text}'`);
    }
  }
  if (steps.length === 0) throw new CrushMapParseError(ruleTok.line, `rule ${name || id} has no steps`);
  return { line: ruleTok.line, name: name || `rule${id}`, id, type, minSize, maxSize, steps };
}

function parseStep(cur: Cursor): PendingRule['steps'][number]['step'] {
  const op = cur.next("a step ('take', 'choose', 'chooseleaf', 'emit' or 'set_*')");
  switch (op.text) {
    case 'take': {
      const name = cur.name('an item name after take').text;
      if (cur.accept('class')) return { op: 'takeName', name, deviceClass: cur.name('a device class name after take ... class').text };
      return { op: 'takeName', name };
    }
    case 'emit':
      return { op: 'emit' };
    case 'noop':
      return { op: 'noop' };
    case 'choose':
    case 'chooseleaf': {
      const mode = cur.next("'firstn' or 'indep'");
      if (mode.text !== 'firstn' && mode.text !== 'indep') throw new CrushMapParseError(mode.line, `expected 'firstn' or 'indep', found '${mode.text}'`);
      const num = cur.int('the number of items to choose');
      cur.keyword('type');
      const typeName = cur.name('a type name').text;
      return { op: 'chooseName', leaf: op.text === 'chooseleaf', mode: mode.text, num, typeName };
    }
    default: {
      const setName = op.text.startsWith('set_') ? op.text.slice(4) : '';
      if ((SET_STEP_NAMES as readonly string[]).includes(setName)) return { op: 'set', name: setName as SetStepName, value: cur.int(`a value for ${op.text}`) };
      throw new CrushMapParseError(op.line, `expected a step ('take', 'choose', 'chooseleaf', 'emit' or 'set_*'), found '${op.text}'`);
    }
  }
}

function resolve(tunables: Tunables, devices: Device[], types: TypeName[], pending: PendingBucket[], pendingRules: PendingRule[], chooseArgs: ReadonlyMap<number, ChooseArgMap>): CrushMap {
  const itemIds = new Map<string, number>();
  for (const d of devices) itemIds.set(d.name, d.id);
  const typeIds = new Map(types.map((t) => [t.name, t.id]));
  // Ids: explicit ones first, then the compiler's rule for the rest (count down from -1).
  const usedIds = new Set<number>();
  for (const b of pending) {
    if (b.id === undefined) continue;
    if (usedIds.has(b.id)) throw new CrushMapParseError(b.line, `bucket ${b.name}: id ${b.id} is used by another bucket`);
    usedIds.add(b.id);
  }
  // Shadow-copy ids are reserved too (crushtool collects every `id` line before assigning).
  for (const b of pending) for (const [, id] of b.classIds) usedIds.add(id);
  const specs: BucketSpec[] = [];
  for (const b of pending) {
    if (itemIds.has(b.name)) throw new CrushMapParseError(b.line, `the name '${b.name}' is already used by a device or bucket`);
    const type = typeIds.get(b.typeName);
    if (type === undefined) throw new CrushMapParseError(b.line, `unknown bucket type '${b.typeName}' (expected a 'type N ${b.typeName}' line before it, or a top-level keyword)`);
    if (b.alg === undefined) throw new CrushMapParseError(b.line, `bucket ${b.name} has no 'alg' line (expected one of ${BUCKET_ALGS.join(', ')})`);
    let id = b.id;
    if (id === undefined) {
      id = -1;
      while (usedIds.has(id)) id--;
      usedIds.add(id);
      b.id = id;
    }
    itemIds.set(b.name, id);
  }
  const bucketWeight = new Map<number, number>();
  const byName = new Map(pending.map((b) => [b.name, b]));
  const weightOf = (b: PendingBucket, seen: Set<string>): number => {
    const id = b.id as number;
    const known = bucketWeight.get(id);
    if (known !== undefined) return known;
    if (seen.has(b.name)) throw new CrushMapParseError(b.line, `bucket ${b.name} contains itself`);
    seen.add(b.name);
    let sum = 0;
    for (const it of b.items) {
      const child = byName.get(it.name);
      const w = it.weight ?? (child ? weightOf(child, seen) : 0x10000);
      sum = (sum + w) >>> 0;
    }
    bucketWeight.set(id, sum);
    return sum;
  };
  for (const b of pending) {
    const items: number[] = new Array<number>(b.items.length);
    const weights: number[] = new Array<number>(b.items.length);
    const usedPos = new Set<number>();
    for (const it of b.items) {
      if (it.pos === undefined) continue;
      if (it.pos >= b.items.length) throw new CrushMapParseError(it.line, `item ${it.name} in bucket ${b.name}: pos ${it.pos} >= size ${b.items.length}`);
      if (usedPos.has(it.pos)) throw new CrushMapParseError(it.line, `bucket ${b.name}: item ${it.name} takes pos ${it.pos}, which another item already has`);
      usedPos.add(it.pos);
    }
    let nextPos = 0;
    let uniformWeight: number | undefined;
    for (const it of b.items) {
      const id = itemIds.get(it.name);
      if (id === undefined) throw new CrushMapParseError(it.line, `bucket '${b.name}' lists item '${it.name}', which is not a device or bucket of this map`);
      const child = byName.get(it.name);
      const w = it.weight ?? (child ? weightOf(child, new Set([b.name])) : 0x10000);
      if (id >= 0 && w > MAX_DEVICE_WEIGHT) throw new CrushMapParseError(it.line, `a device weight must be at most ${MAX_DEVICE_WEIGHT / 0x10000} (crushtool's limit)`);
      if (id < 0 && w > MAX_BUCKET_WEIGHT) throw new CrushMapParseError(it.line, `a bucket weight must be at most ${MAX_BUCKET_WEIGHT / 0x10000} (crushtool's limit)`);
      if (b.alg === 'uniform') {
        if (uniformWeight === undefined) uniformWeight = w;
        else if (uniformWeight !== w) throw new CrushMapParseError(it.line, `uniform bucket '${b.name}': item '${it.name}' weighs differently from the first item; a uniform bucket needs equal item weights`);
      }
      let pos = it.pos;
      if (pos === undefined) {
        while (usedPos.has(nextPos)) nextPos++;
        pos = nextPos++;
      }
      items[pos] = id;
      weights[pos] = w;
    }
    specs.push({ id: b.id as number, name: b.name, type: typeIds.get(b.typeName) as number, alg: b.alg as BucketAlg, hash: b.hash, items, weights, ...(b.classIds.length > 0 ? { classIds: b.classIds } : {}) });
  }
  // Class ids in crushtool's order: first use in device lines (file order), then bucket lines.
  const classes: string[] = [];
  for (const d of devices) if (d.deviceClass !== undefined && !classes.includes(d.deviceClass)) classes.push(d.deviceClass);
  for (const b of pending) for (const [c] of b.classIds) if (!classes.includes(c)) classes.push(c);
  const rules: Rule[] = [];
  const ruleIds = new Set<number>();
  const ruleNames = new Set<string>();
  for (const r of pendingRules) {
    if (ruleIds.has(r.id)) throw new CrushMapParseError(r.line, `rule id ${r.id} is used twice`);
    if (ruleNames.has(r.name)) throw new CrushMapParseError(r.line, `rule name '${r.name}' is used twice`);
    ruleIds.add(r.id);
    ruleNames.add(r.name);
    const steps: RuleStep[] = r.steps.map(({ line, step }) => {
      if (step.op === 'takeName') {
        const item = itemIds.get(step.name);
        if (item === undefined) throw new CrushMapParseError(line, `rule '${r.name}': take '${step.name}' names no device or bucket of this map`);
        if (step.deviceClass === undefined) return { op: 'take', item };
        if (!classes.includes(step.deviceClass)) throw new CrushMapParseError(line, `rule '${r.name}': take ${step.name} class ${step.deviceClass}: no device or bucket has class '${step.deviceClass}'`);
        return { op: 'take', item, deviceClass: step.deviceClass };
      }
      if (step.op === 'chooseName') {
        const type = typeIds.get(step.typeName);
        if (type === undefined) throw new CrushMapParseError(line, `rule '${r.name}': unknown type '${step.typeName}'`);
        return { op: 'choose', leaf: step.leaf, mode: step.mode, num: step.num, type };
      }
      return step;
    });
    rules.push({ id: r.id, name: r.name, type: r.type, minSize: r.minSize, maxSize: r.maxSize, steps });
  }
  try {
    return buildCrushMap({ tunables, devices, types, buckets: specs, rules, deviceClasses: classes, chooseArgs });
  } catch (err) {
    if (err instanceof CrushMapError) throw new CrushMapParseError(0, err.message);
    throw err;
  }
}

/** Prints a map in Ceph's text syntax; `parseCrushMap(printCrushMap(m))` rebuilds m (README I11). */
export function printCrushMap(map: CrushMap): string {
  const out: string[] = ['# begin crush map'];
  for (const [name, key] of TUNABLE_NAMES) out.push(`tunable ${name} ${map.tunables[key]}`);
  out.push('', '# devices');
  for (const d of map.devices) out.push(`device ${d.id} ${d.name}${d.deviceClass !== undefined ? ` class ${d.deviceClass}` : ''}`);
  out.push('', '# types');
  for (const t of map.types) out.push(`type ${t.id} ${t.name}`);
  out.push('', '# buckets');
  const typeName = (id: number): string => map.types.find((t) => t.id === id)?.name ?? (id === 0 ? 'device' : `type${id}`);
  const nameOf = (id: number): string => (id >= 0 ? (map.devices.find((d) => d.id === id)?.name ?? `device${id}`) : (map.buckets[-1 - id]?.name ?? `bucket${-1 - id}`));
  const printed = new Set<number>();
  const printBucket = (id: number): void => {
    const b = map.buckets[-1 - id];
    if (!b || printed.has(id) || b.shadowOf !== undefined) return; // shadow copies are implied
    printed.add(id);
    for (const item of b.items) if (item < 0) printBucket(item); // children first
    out.push(`${typeName(b.type)} ${b.name} {`);
    out.push(`\tid ${b.id}\t\t# do not change unnecessarily`);
    const shadows = map.classBuckets.get(b.id);
    for (const cls of map.deviceClasses) {
      const sid = shadows?.get(cls);
      if (sid !== undefined) out.push(`\tid ${sid} class ${cls}\t\t# do not change unnecessarily`);
    }
    out.push(`\t# weight ${weightToText(b.weight)}`);
    out.push(`\talg ${b.alg}`);
    out.push(`\thash ${b.hash}\t# rjenkins1`);
    b.items.forEach((item, i) => out.push(`\titem ${nameOf(item)} weight ${weightToText(b.itemWeights[i] as number)}`));
    out.push('}');
  };
  for (let i = 0; i < map.buckets.length; i++) printBucket(-1 - i);
  out.push('', '# rules');
  for (const r of map.rules) {
    if (!r) continue;
    out.push(`rule ${r.name} {`, `\tid ${r.id}`, `\ttype ${r.type}`, `\tmin_size ${r.minSize}`, `\tmax_size ${r.maxSize}`);
    for (const s of r.steps) {
      switch (s.op) {
        case 'take':
          out.push(`\tstep take ${nameOf(s.item)}${s.deviceClass !== undefined ? ` class ${s.deviceClass}` : ''}`);
          break;
        case 'choose':
          out.push(`\tstep ${s.leaf ? 'chooseleaf' : 'choose'} ${s.mode} ${s.num} type ${typeName(s.type)}`);
          break;
        case 'emit':
          out.push('\tstep emit');
          break;
        case 'set':
          out.push(`\tstep set_${s.name} ${s.value}`);
          break;
        case 'noop':
          out.push('\tstep noop');
          break;
        default: {
          const never: never = s;
          throw new Error(`unknown rule step ${JSON.stringify(never)}`);
        }
      }
    }
    out.push('}');
  }
  if (map.chooseArgs.size > 0) {
    out.push('', '# choose_args');
    for (const [index, set] of [...map.chooseArgs].sort((a, b) => (a[0] >>> 0) - (b[0] >>> 0))) {
      // Ceph prints the index as an unsigned 64-bit number: -1 is 18446744073709551615.
      out.push(`choose_args ${index < 0 ? (BigInt(index) + (1n << 64n)).toString() : index} {`);
      for (const [bucketId, arg] of [...set].sort((a, b) => b[0] - a[0])) {
        out.push('  {', `    bucket_id ${bucketId}`);
        if (arg.weightSet !== undefined) {
          out.push('    weight_set [');
          for (const row of arg.weightSet) out.push(`      [ ${row.map(weightToText).join(' ')} ]`);
          out.push('    ]');
        }
        if (arg.ids !== undefined) out.push(`    ids [ ${arg.ids.join(' ')} ]`);
        out.push('  }');
      }
      out.push('}');
    }
  }
  out.push('', '# end crush map', '');
  return out.join('\n');
}
