// test/gen/random_program.ts — fast-check generator of random WebAssembly
// programs (WAT text) inside wasmformer's supported subset, for differential
// tests (native V8 vs. the transformer) and frontend fuzzing.
//
// Programs are built procedurally from a "choice sequence" (an array of
// integers drawn by fast-check), Hypothesis-style: every decision consumes one
// choice, an exhausted sequence answers 0, and option 0 is always the simplest.
// Shrinking the array therefore shrinks the program, and any seed yields a
// valid module.
//
// Guarantees, for ANY arguments:
//  - the module validates (one exported function, i32 params/results only);
//  - it terminates: the only backward branches are countdown loops whose
//    counter local is set from a small constant, decremented once per
//    iteration and written by nothing else; generated br/br_if only target
//    blocks (never loops) or the function label;
//  - it executes at most `stepBound` (<= STEP_LIMIT) basic blocks, by a
//    conservative static cost model (checked natively in test/gen.test.ts by
//    an instrumented build of the same program).
// Loads/stores mostly use in-bounds addresses (constants from a few "hot"
// overlapping regions, constant + loop counter); a few use raw params/locals
// or deliberately out-of-range constants, so traps happen sometimes.

import fc from 'fast-check';
import wabtInit from 'wabt';

export interface GenProgram {
  wat: string;
  exportName: string;
  params: number;
  results: number;
  memoryPages: number; // 0 = no memory (and no loads/stores)
  description: string;
  /** Upper bound on executed basic blocks for any args (<= GenOptions.stepLimit). */
  stepBound: number;
  features: GenFeatures;
}

/** How often each construct appears in the program text (dead code included). */
export interface GenFeatures {
  loops: number;
  stores: number;
  loads: number;
  brIfs: number;
  brs: number;
  blocks: number; // void blocks
  resultBlocks: number; // blocks (and loops) with an i32 result
  dataSegments: number;
  riskyAddresses: number; // addresses from params/locals/out-of-range constants
  tees: number;
  // extended programs only (0 otherwise)
  ops: number; // unary/binary operators other than i32.add
  selects: number;
  ifs: number;
  brTables: number;
  globalOps: number;
  calls: number;
  narrowAccesses: number; // 8/16-bit loads and stores
  memoryOps: number; // memory.size / memory.grow
  outputs: number;
  unreachables: number;
  returns: number;
  valueBrTables: number; // br_table carrying an i32 to its targets
  paramBlocks: number; // block with a parameter (multi-value block type)
  wideOps: number; // i64 operators and f32 bit operations (compiled as i32 words)
  deepCalls: number; // calls of the unbounded $deep (GenOptions.callDepth)
}

export interface GenOptions {
  /**
   * Generate over the whole supported instruction set (opt-in: the default output is
   * unchanged): every i32 operator, select, if/else, br_table, globals (exported as
   * g0, g1, k0), helper functions and bounded recursion, 8/16-bit loads and stores,
   * memory.size/grow, env.output_byte, and traps (div/rem by 0, INT_MIN / -1,
   * guarded unreachable). Not combinable with `instrument`.
   */
  extended?: boolean;
  /**
   * Extended programs only: import env.output_byte and call it (default true). The
   * transformer backend does not compile output_byte, so its differential tests say false.
   */
  outputs?: boolean;
  /**
   * Extended programs only: the call depth the oracles are run with (the entry function is
   * frame 1). When given, programs may also call `$deep`, which recurses without bound unless
   * its first argument is 0 and so traps "call stack exhausted" at this depth in every oracle
   * (V8 at its own, deeper, limit: `$deep` has no side effects). At least 16 (the deepest
   * bounded call chain is 12 frames); its steps are in stepBound.
   */
  callDepth?: number;
  /** The most basic blocks a program may execute (1..STEP_LIMIT, default STEP_LIMIT): smaller programs. */
  stepLimit?: number;
  /**
   * Emit a non-subset, instrumented variant: a `$tick` function and a global
   * counting the cost model's steps, readable through the export "__steps".
   * Used by tests to check `stepBound` against real executions.
   */
  instrument?: boolean;
}

/** Every generated program executes at most this many basic blocks. */
export const STEP_LIMIT = 200;

export const I32_MIN = -2147483648;
export const I32_MAX = 2147483647;
const PAGE = 65536;

// ---------------------------------------------------------------------------
// Choice source

class Chooser {
  private i = 0;
  constructor(private readonly choices: readonly number[]) {}

  /** An integer in [0, n). Option 0 is what an exhausted sequence picks. */
  int(n: number): number {
    if (n <= 1) return 0;
    const v = this.i < this.choices.length ? this.choices[this.i]! : 0;
    this.i++;
    return v % n;
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** Index of the option picked with the given weights (0-weights never picked unless all are 0). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    if (total <= 0) return 0;
    let r = this.int(total);
    for (let k = 0; k < weights.length; k++) {
      if (r < weights[k]!) return k;
      r -= weights[k]!;
    }
    return weights.length - 1;
  }

  /** true with probability pct/100 (false when exhausted). */
  chance(pct: number): boolean {
    return this.int(100) >= 100 - pct;
  }
}

// ---------------------------------------------------------------------------
// Generation context

interface Label {
  kind: 'func' | 'block' | 'loop';
  arity: number;
}

interface Counter {
  name: string;
  max: number; // the counter holds values in 0..max while in scope
}

interface Helper {
  name: string;
  params: number;
  cost: number; // steps one call takes, the callee's blocks and the continuation included
}

interface Ctx {
  ch: Chooser;
  instrument: boolean;
  ext: boolean;
  outputs: boolean;
  globals: number; // mutable globals $g0.. (extended)
  helpers: Helper[]; // callable functions (extended)
  params: number;
  results: number;
  dataLocals: number;
  pages: number;
  memBytes: number;
  hot: number[]; // base addresses of overlapping in-bounds regions
  labels: Label[]; // labels[0] is the function body
  counters: Counter[];
  maxCounterDepth: number;
  feats: GenFeatures;
}

interface Code {
  code: string;
  cost: number;
}

const MAX_LABEL_DEPTH = 7;
const MAX_LOOP_DEPTH = 2;
const MAX_EXPR_DEPTH = 4;

function tick(ctx: Ctx, n: number): string {
  return ctx.instrument ? `(drop (call $tick (i32.const ${n}))) ` : '';
}

function tickCond(ctx: Ctx, cond: string): string {
  return ctx.instrument ? `(i32.add ${cond} (call $tick (i32.const 1)))` : cond;
}

function writableLocals(ctx: Ctx): string[] {
  const out: string[] = [];
  for (let i = 0; i < ctx.params; i++) out.push(`$p${i}`);
  for (let i = 0; i < ctx.dataLocals; i++) out.push(`$x${i}`);
  return out;
}

function readableLocals(ctx: Ctx): string[] {
  return [...writableLocals(ctx), ...ctx.counters.map((c) => c.name)];
}

/** Relative label index of labels[pos]. */
function labelIndex(ctx: Ctx, pos: number): number {
  return ctx.labels.length - 1 - pos;
}

/** Positions of labels a generated br/br_if may target with the given arity filter. */
function branchTargets(ctx: Ctx, pred: (l: Label) => boolean): number[] {
  const out: number[] = [];
  ctx.labels.forEach((l, pos) => {
    if (l.kind !== 'loop' && pred(l)) out.push(pos);
  });
  return out;
}

/** Pick one of `targets` (label positions), preferring the innermost ones. */
function pickTarget(ctx: Ctx, targets: number[]): number {
  const weights = targets.map((_, i) => (i === targets.length - 1 ? 4 : i === targets.length - 2 ? 2 : 1));
  return targets[ctx.ch.weighted(weights)]!;
}

// ---------------------------------------------------------------------------
// Constants and addresses

function genConst(ctx: Ctx): number {
  const ch = ctx.ch;
  switch (ch.weighted([4, 3, 2, 2, 3])) {
    case 0:
      return ch.range(0, 16);
    case 1:
      return [0, 1, -1, I32_MIN, I32_MAX, 2, -2, 0x7ffffffe, I32_MIN + 1][ch.int(9)]!;
    case 2:
      return ch.range(-300, 300);
    case 3:
      return [65536, 65535, 0x01010101, 0x80808080 | 0, 0xdeadbeef | 0, 0x12345678, 256, 255][ch.int(8)]!;
    default: {
      // a "random" 32-bit value from two choices
      const hi = ch.int(0x10000);
      const lo = ch.int(0x10000);
      return ((hi << 16) | lo) | 0;
    }
  }
}

function pickHot(ctx: Ctx): number {
  return ctx.hot[ctx.ch.int(ctx.hot.length)]!;
}

/** An offset immediate and address expression; in bounds unless `risky` is reported. */
function genAddress(ctx: Ctx, budget: number, depth: number): { offset: number; addr: Code } {
  const ch = ctx.ch;
  const hasCounters = ctx.counters.length > 0;
  const locals = readableLocals(ctx).filter((n) => !n.startsWith('$c'));
  const kind = ch.weighted([20, hasCounters ? 10 : 0, locals.length > 0 ? 1 : 0, locals.length > 0 ? 1 : 0, 1, 1]);
  switch (kind) {
    case 0: {
      // constant in a hot region, split between address and offset immediate
      const ea = pickHot(ctx) + ch.int(8);
      const offset = ch.weighted([6, 3, 1]) === 0 ? 0 : Math.min(ea, ch.range(1, 12));
      return { offset, addr: { code: `(i32.const ${ea - offset})`, cost: 0 } };
    }
    case 1: {
      // small base + loop counter (times 1, 2 or 4) -> bounded and in bounds
      const c = ctx.counters[ch.int(ctx.counters.length)]!;
      const base = ch.range(0, 48);
      const scale = [1, 2, 4][ch.int(3)]!;
      let scaled = `(local.get ${c.name})`;
      if (scale >= 2) scaled = `(i32.add ${scaled} (local.get ${c.name}))`;
      if (scale === 4) scaled = `(i32.add ${scaled} ${scaled})`;
      const offset = ch.chance(30) ? ch.range(1, 8) : 0;
      if (base + offset + scale * c.max + 4 > ctx.memBytes) {
        return { offset: 0, addr: { code: `(i32.const ${base})`, cost: 0 } };
      }
      return { offset, addr: { code: `(i32.add (i32.const ${base}) ${scaled})`, cost: 0 } };
    }
    case 2: {
      // raw param/local: in bounds only if its value happens to be
      ctx.feats.riskyAddresses++;
      const offset = ch.chance(20) ? ch.range(1, 8) : 0;
      return { offset, addr: { code: `(local.get ${locals[ch.int(locals.length)]!})`, cost: 0 } };
    }
    case 3: {
      // param/local plus a small constant
      ctx.feats.riskyAddresses++;
      const l = locals[ch.int(locals.length)]!;
      return { offset: 0, addr: { code: `(i32.add (local.get ${l}) (i32.const ${ch.range(-8, 64)}))`, cost: 0 } };
    }
    case 4: {
      // a constant at or beyond the end of memory (may trap), or a huge offset
      ctx.feats.riskyAddresses++;
      if (ch.chance(50)) {
        return { offset: 0, addr: { code: `(i32.const ${ctx.memBytes - 6 + ch.int(10)})`, cost: 0 } };
      }
      return { offset: ctx.memBytes - 4 + ch.int(8), addr: { code: `(i32.const ${ch.int(4)})`, cost: 0 } };
    }
    default: {
      // any expression (usually out of bounds unless small)
      ctx.feats.riskyAddresses++;
      return { offset: 0, addr: genExpr(ctx, budget, depth + 1) };
    }
  }
}

function memArg(offset: number): string {
  return offset === 0 ? '' : ` offset=${offset}`;
}

// ---------------------------------------------------------------------------
// Expressions (each leaves exactly one i32)

function genLeaf(ctx: Ctx): string {
  const locals = readableLocals(ctx);
  if (locals.length > 0 && ctx.ch.chance(55)) {
    return `(local.get ${locals[ctx.ch.int(locals.length)]!})`;
  }
  return `(i32.const ${genConst(ctx)})`;
}

function genExpr(ctx: Ctx, budget: number, depth: number): Code {
  const ch = ctx.ch;
  if (depth >= MAX_EXPR_DEPTH) return { code: genLeaf(ctx), cost: 0 };
  const hasMem = ctx.pages > 0;
  const canBlock = budget >= 4 && ctx.labels.length < MAX_LABEL_DEPTH;
  const valueTargets = budget >= 2 ? branchTargets(ctx, (l) => l.arity === 1) : [];
  const canLoop = budget >= 12 && ctx.counters.length < MAX_LOOP_DEPTH && ctx.labels.length < MAX_LABEL_DEPTH - 1;
  const writable = writableLocals(ctx);
  const kind = ch.weighted([
    4, // leaf
    6, // add
    hasMem ? 4 : 0, // load
    writable.length > 0 ? 1 : 0, // tee
    canBlock ? 2 : 0, // result block
    valueTargets.length > 0 ? 2 : 0, // br_if with value
    canLoop ? 1 : 0, // loop with result
    ...extExprWeights(ctx, budget, canBlock),
  ]);
  switch (kind) {
    case 0:
      return { code: genLeaf(ctx), cost: 0 };
    case 1: {
      const a = genExpr(ctx, budget, depth + 1);
      const b = genExpr(ctx, budget - a.cost, depth + 1);
      return { code: `(i32.add ${a.code} ${b.code})`, cost: a.cost + b.cost };
    }
    case 2: {
      ctx.feats.loads++;
      const { offset, addr } = genAddress(ctx, budget, depth);
      return { code: `(i32.load${memArg(offset)} ${addr.code})`, cost: addr.cost };
    }
    case 3: {
      ctx.feats.tees++;
      const e = genExpr(ctx, budget, depth + 1);
      return { code: `(local.tee ${writable[ch.int(writable.length)]!} ${e.code})`, cost: e.cost };
    }
    case 4:
      return genResultBlock(ctx, budget, depth);
    case 5: {
      ctx.feats.brIfs++;
      const pos = pickTarget(ctx, valueTargets);
      const v = genExpr(ctx, budget - 1, depth + 1);
      const c = genCond(ctx, budget - 1 - v.cost, depth + 1);
      return { code: `(br_if ${labelIndex(ctx, pos)} ${v.code} ${tickCond(ctx, c.code)})`, cost: 1 + v.cost + c.cost };
    }
    case 6:
      return genLoop(ctx, budget, true);
    default:
      return genExtExpr(ctx, budget, depth, kind - 7);
  }
}

/** A branch condition: often zero (fresh locals, untouched memory, a counter hitting a value) so both edges get taken. */
function genCond(ctx: Ctx, budget: number, depth: number): Code {
  const ch = ctx.ch;
  const locals = readableLocals(ctx);
  const kind = ch.weighted([4, locals.length > 0 ? 2 : 0, ctx.pages > 0 ? 2 : 0, ctx.counters.length > 0 ? 1 : 0, 2]);
  switch (kind) {
    case 0:
      return { code: `(i32.const ${ch.chance(25) ? 1 : 0})`, cost: 0 };
    case 1:
      return { code: `(local.get ${locals[ch.int(locals.length)]!})`, cost: 0 };
    case 2: {
      ctx.feats.loads++;
      return { code: `(i32.load (i32.const ${pickHot(ctx) + ch.int(8)}))`, cost: 0 };
    }
    case 3: {
      // zero exactly when the counter equals v (leaves a loop part-way)
      const c = ctx.counters[ch.int(ctx.counters.length)]!;
      return { code: `(i32.add (local.get ${c.name}) (i32.const ${-ch.range(0, c.max)}))`, cost: 0 };
    }
    default:
      return genExpr(ctx, budget, depth);
  }
}

function genResultBlock(ctx: Ctx, budget: number, depth: number): Code {
  ctx.feats.resultBlocks++;
  ctx.labels.push({ kind: 'block', arity: 1 });
  const inner = budget - 2;
  const body = genStmts(ctx, inner, 3, true);
  let code = `(block (result i32) ${tick(ctx, 2)}${body.code}`;
  let cost = 2 + body.cost;
  if (!body.endsWithBr || ctx.ch.chance(50)) {
    const e = genExpr(ctx, inner - body.cost, depth + 1);
    code += ` ${e.code}`;
    cost += e.cost;
  }
  ctx.labels.pop();
  return { code: `${code})`, cost };
}

// ---------------------------------------------------------------------------
// Statements (each leaves the stack as it found it)

interface Stmts extends Code {
  endsWithBr: boolean;
}

function genStmts(ctx: Ctx, budget: number, maxCount: number, allowBr: boolean): Stmts {
  const ch = ctx.ch;
  const n = ch.int(maxCount + 1);
  const parts: string[] = [];
  let cost = 0;
  for (let i = 0; i < n; i++) {
    const s = genStmt(ctx, budget - cost);
    if (s.code) parts.push(s.code);
    cost += s.cost;
  }
  let endsWithBr = false;
  if (allowBr && budget - cost >= 1 && ch.chance(12)) {
    const br = genBr(ctx, budget - cost);
    parts.push(br.code);
    cost += br.cost;
    endsWithBr = true;
    if (ch.chance(15)) {
      // a little dead code after the branch
      const dead = genStmt(ctx, budget - cost);
      if (dead.code) parts.push(dead.code);
      cost += dead.cost;
    }
  }
  return { code: parts.join(' '), cost, endsWithBr };
}

/** The values a branch to label `pos` carries (one expression per result of the label). */
function genBranchValues(ctx: Ctx, pos: number, budget: number): { vals: string[]; cost: number } {
  const label = ctx.labels[pos]!;
  const vals: string[] = [];
  let cost = 1;
  for (let k = 0; k < label.arity; k++) {
    const v = genExpr(ctx, budget - cost, 2);
    vals.push(v.code);
    cost += v.cost;
  }
  return { vals, cost };
}

function genBr(ctx: Ctx, budget: number): Code {
  ctx.feats.brs++;
  const targets = branchTargets(ctx, () => true);
  const pos = pickTarget(ctx, targets);
  const { vals, cost } = genBranchValues(ctx, pos, budget);
  const args = vals.length ? ' ' + vals.join(' ') : '';
  if (ctx.ext && pos === 0 && ctx.ch.chance(50)) {
    ctx.feats.returns++;
    return { code: `(return${args})`, cost };
  }
  return { code: `${tick(ctx, 1)}(br ${labelIndex(ctx, pos)}${args})`, cost };
}

function genStmt(ctx: Ctx, budget: number): Code {
  const ch = ctx.ch;
  const hasMem = ctx.pages > 0;
  const writable = writableLocals(ctx);
  const canBlock = budget >= 4 && ctx.labels.length < MAX_LABEL_DEPTH;
  const brTargets = budget >= 2 ? branchTargets(ctx, () => true) : [];
  const canLoop = budget >= 12 && ctx.counters.length < MAX_LOOP_DEPTH && ctx.labels.length < MAX_LABEL_DEPTH - 1;
  const kind = ch.weighted([
    1, // nop
    writable.length > 0 ? 6 : 0, // local.set
    2, // drop
    hasMem ? 5 : 0, // store
    canBlock ? 3 : 0, // block
    brTargets.length > 0 ? 4 : 0, // br_if
    canLoop ? 4 : 0, // loop
    hasMem ? 3 : 0, // memory cluster
    ...extStmtWeights(ctx, budget, canBlock, brTargets.length > 0),
  ]);
  switch (kind) {
    case 0:
      return { code: '(nop)', cost: 0 };
    case 1: {
      const e = genExpr(ctx, budget, 0);
      return { code: `(local.set ${writable[ch.int(writable.length)]!} ${e.code})`, cost: e.cost };
    }
    case 2: {
      const e = genExpr(ctx, budget, 0);
      return { code: `(drop ${e.code})`, cost: e.cost };
    }
    case 3:
      return genStore(ctx, budget, 0);
    case 4: {
      ctx.feats.blocks++;
      ctx.labels.push({ kind: 'block', arity: 0 });
      const body = genStmts(ctx, budget - 2, 4, true);
      ctx.labels.pop();
      return { code: `(block ${tick(ctx, 2)}${body.code})`, cost: 2 + body.cost };
    }
    case 5: {
      ctx.feats.brIfs++;
      const pos = pickTarget(ctx, brTargets);
      const branch = genBranchValues(ctx, pos, budget);
      const vals = branch.vals;
      let cost = branch.cost;
      const c = genCond(ctx, budget - cost, 1);
      cost += c.cost;
      const br = `(br_if ${labelIndex(ctx, pos)}${vals.map((v) => ' ' + v).join('')} ${tickCond(ctx, c.code)})`;
      // values left behind when the branch is not taken are dropped
      return { code: br + ' drop'.repeat(vals.length), cost };
    }
    case 6:
      return genLoop(ctx, budget, false);
    case 7:
      return genMemCluster(ctx, budget);
    default:
      return genExtStmt(ctx, budget, kind - 8);
  }
}

function genStore(ctx: Ctx, budget: number, depth: number): Code {
  ctx.feats.stores++;
  const { offset, addr } = genAddress(ctx, budget, depth);
  const v = genExpr(ctx, budget - addr.cost, depth + 1);
  return { code: `(i32.store${memArg(offset)} ${addr.code} ${v.code})`, cost: addr.cost + v.cost };
}

/** Several overlapping stores around one base, then loads right after them. */
function genMemCluster(ctx: Ctx, budget: number): Code {
  const ch = ctx.ch;
  const base = pickHot(ctx);
  const parts: string[] = [];
  let cost = 0;
  const nStores = ch.range(1, 4);
  for (let k = 0; k < nStores; k++) {
    ctx.feats.stores++;
    const d = ch.int(8);
    const offset = ch.chance(30) ? ch.int(d + 1) : 0;
    const v = genExpr(ctx, budget - cost, 2);
    cost += v.cost;
    parts.push(`(i32.store${memArg(offset)} (i32.const ${base + d - offset}) ${v.code})`);
  }
  const nLoads = ch.range(1, 2);
  const writable = writableLocals(ctx);
  for (let k = 0; k < nLoads; k++) {
    ctx.feats.loads++;
    const load = `(i32.load (i32.const ${base + ch.int(8)}))`;
    parts.push(writable.length > 0 && ch.chance(70) ? `(local.set ${writable[ch.int(writable.length)]!} ${load})` : `(drop ${load})`);
  }
  return { code: parts.join(' '), cost };
}

/**
 * A countdown loop: counter := k (1..), body, counter += -1, br_if back while
 * non-zero. As an expression it is wrapped in a result block and ends with a
 * value. Cost: 2 (entry + exit) + k * (body + 3).
 */
function genLoop(ctx: Ctx, budget: number, asExpr: boolean): Code {
  const ch = ctx.ch;
  const wrapCost = asExpr ? 2 : 0;
  const avail = budget - 2 - wrapCost;
  const kMax = Math.min(16, Math.floor(avail / 4)); // per-iteration body budget stays >= 1
  if (kMax < 1) return asExpr ? { code: genLeaf(ctx), cost: 0 } : { code: '(nop)', cost: 0 };
  ctx.feats.loops++;
  const k = ch.weighted([3, 2, 1]) === 0 ? ch.range(1, Math.min(4, kMax)) : ch.range(1, kMax);
  const perIter = Math.floor(avail / k) - 3;
  const depth = ctx.counters.length;
  const name = `$c${depth}`;
  ctx.maxCounterDepth = Math.max(ctx.maxCounterDepth, depth + 1);
  if (asExpr) {
    ctx.feats.resultBlocks++;
    ctx.labels.push({ kind: 'block', arity: 1 });
  }
  ctx.labels.push({ kind: 'loop', arity: 0 });
  ctx.counters.push({ name, max: k });
  const body = genStmts(ctx, perIter, 4, true);
  let bodyCost = body.cost;
  let tail = '';
  if (asExpr) {
    const e = genExpr(ctx, perIter - bodyCost, 1);
    bodyCost += e.cost;
    tail = ` ${e.code}`;
  }
  ctx.counters.pop();
  ctx.labels.pop();
  if (asExpr) ctx.labels.pop();
  const loop =
    `(loop${asExpr ? ' (result i32)' : ''} ${tick(ctx, 3)}${body.code} ` +
    `(local.set ${name} (i32.add (local.get ${name}) (i32.const -1))) ` +
    `(br_if 0 (local.get ${name}))${tail})`;
  const init = `(local.set ${name} (i32.const ${k})) ${tick(ctx, 2)}`;
  const cost = 2 + wrapCost + k * (bodyCost + 3);
  if (asExpr) return { code: `(block (result i32) ${tick(ctx, 2)}${init}${loop})`, cost };
  return { code: `${init}${loop}`, cost };
}

// ---------------------------------------------------------------------------
// Extended instruction set (GenOptions.extended; never chosen otherwise)

const BINARY_OPS = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u',
  'rotl', 'rotr', 'eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const UNARY_OPS = ['eqz', 'clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s'];
const SHIFT_COUNTS = [0, 1, 7, 8, 15, 16, 31, 32, 33, 63, -1];
const DIVISORS = [0, 1, -1, 2, 3, 7, 256, I32_MIN, I32_MAX];

function extExprWeights(ctx: Ctx, budget: number, canBlock: boolean): number[] {
  if (!ctx.ext) return [];
  const hasMem = ctx.pages > 0;
  const callable = ctx.helpers.filter((h) => h.cost + 1 <= budget);
  return [
    10, // binary operator
    3, // unary operator
    2, // select
    ctx.globals > 0 ? 2 : 1, // global.get (the immutable $k0 always exists)
    canBlock ? 2 : 0, // if/else with a result
    callable.length > 0 ? 2 : 0, // call
    hasMem ? 1 : 0, // memory.size / memory.grow
    hasMem ? 3 : 0, // 8/16-bit load
    budget >= 2 && branchTargets(ctx, (l) => l.arity === 1).length > 0 ? 1 : 0, // br_table with a value
    canBlock ? 1 : 0, // block with a parameter
    1, // an i64 operator (or an f32 bit operation) between i32 operands
  ];
}

// i64 operators the lowering to words computes exactly (div/rem only for their traps: not here)
const I64_BINARY = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const I64_COMPARE = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const I64_UNARY = ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'];

/** An i32 operand widened to i64: sign- or zero-extended, or as the high word of a pair. */
function genWide(ctx: Ctx, a: Code): string {
  switch (ctx.ch.int(4)) {
    case 0: return `(i64.extend_i32_s ${a.code})`;
    case 1: return `(i64.extend_i32_u ${a.code})`;
    case 2: return `(i64.shl (i64.extend_i32_u ${a.code}) (i64.const 32))`;
    default: return `(i64.or (i64.extend_i32_s ${a.code}) (i64.const ${ctx.ch.chance(50) ? '0x100000000' : '-0x7fffffff00000000'}))`;
  }
}

/** An i64 result narrowed to i32: its low word or its high word. */
function narrow(ctx: Ctx, e: string): string {
  return ctx.ch.chance(50) ? `(i32.wrap_i64 ${e})` : `(i32.wrap_i64 (i64.shr_u ${e} (i64.const 32)))`;
}

function genWideExpr(ctx: Ctx, budget: number, depth: number): Code {
  const ch = ctx.ch;
  ctx.feats.wideOps++;
  const a = genExpr(ctx, budget, depth + 1);
  switch (ch.int(4)) {
    case 0: {
      const op = I64_BINARY[ch.int(I64_BINARY.length)]!;
      const b = op.startsWith('sh') || op.startsWith('rot') ? genOperand(ctx, budget - a.cost, depth, SHIFT_COUNTS) : genExpr(ctx, budget - a.cost, depth + 1);
      return { code: narrow(ctx, `(i64.${op} ${genWide(ctx, a)} ${genWide(ctx, b)})`), cost: a.cost + b.cost };
    }
    case 1: {
      const b = genExpr(ctx, budget - a.cost, depth + 1);
      return { code: `(i64.${I64_COMPARE[ch.int(I64_COMPARE.length)]!} ${genWide(ctx, a)} ${genWide(ctx, b)})`, cost: a.cost + b.cost };
    }
    case 2: return { code: narrow(ctx, `(i64.${I64_UNARY[ch.int(I64_UNARY.length)]!} ${genWide(ctx, a)})`), cost: a.cost };
    default: {
      const op = ['abs', 'neg', 'copysign'][ch.int(3)]!;
      const f = `(f32.reinterpret_i32 ${a.code})`;
      return { code: `(i32.reinterpret_f32 (f32.${op} ${f}${op === 'copysign' ? ' (f32.const -0)' : ''}))`, cost: a.cost };
    }
  }
}

function genOperand(ctx: Ctx, budget: number, depth: number, pool: readonly number[]): Code {
  if (ctx.ch.chance(40)) return { code: `(i32.const ${pool[ctx.ch.int(pool.length)]!})`, cost: 0 };
  return genExpr(ctx, budget, depth + 1);
}

function genExtExpr(ctx: Ctx, budget: number, depth: number, kind: number): Code {
  const ch = ctx.ch;
  const f = ctx.feats;
  switch (kind) {
    case 0: {
      f.ops++;
      const op = BINARY_OPS[ch.int(BINARY_OPS.length)]!;
      const a = genExpr(ctx, budget, depth + 1);
      const pool = op.startsWith('sh') || op.startsWith('rot') ? SHIFT_COUNTS : op.startsWith('div') || op.startsWith('rem') ? DIVISORS : [];
      const b = pool.length > 0 ? genOperand(ctx, budget - a.cost, depth, pool) : genExpr(ctx, budget - a.cost, depth + 1);
      return { code: `(i32.${op} ${a.code} ${b.code})`, cost: a.cost + b.cost };
    }
    case 1: {
      f.ops++;
      const e = genExpr(ctx, budget, depth + 1);
      return { code: `(i32.${UNARY_OPS[ch.int(UNARY_OPS.length)]!} ${e.code})`, cost: e.cost };
    }
    case 2: {
      f.selects++;
      const a = genExpr(ctx, budget, depth + 1);
      const b = genExpr(ctx, budget - a.cost, depth + 1);
      const c = genCond(ctx, budget - a.cost - b.cost, depth + 1);
      const typed = ch.chance(50) ? ' (result i32)' : '';
      return { code: `(select${typed} ${a.code} ${b.code} ${c.code})`, cost: a.cost + b.cost + c.cost };
    }
    case 3: {
      f.globalOps++;
      const n = ctx.globals;
      const g = n > 0 && ch.int(n + 1) < n ? `$g${ch.int(n)}` : '$k0';
      return { code: `(global.get ${g})`, cost: 0 };
    }
    case 4: {
      // if/else with a result: the condition's block, one arm, the continuation
      f.ifs++;
      const c = genCond(ctx, budget - 3, depth + 1);
      const inner = budget - 3 - c.cost;
      ctx.labels.push({ kind: 'block', arity: 1 });
      const t = genExpr(ctx, inner, depth + 1);
      const e = genExpr(ctx, inner - t.cost, depth + 1);
      ctx.labels.pop();
      return { code: `(if (result i32) ${c.code} (then ${t.code}) (else ${e.code}))`, cost: 3 + c.cost + t.cost + e.cost };
    }
    case 5:
      return genCall(ctx, budget, depth);
    case 6: {
      f.memoryOps++;
      if (ch.chance(50)) return { code: '(memory.size)', cost: 0 };
      return { code: `(memory.grow (i32.const ${ch.int(4)}))`, cost: 0 };
    }
    case 7: {
      f.narrowAccesses++;
      f.loads++;
      const { offset, addr } = genAddress(ctx, budget, depth);
      const op = ['i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u'][ch.int(4)]!;
      return { code: `(${op}${memArg(offset)} ${addr.code})`, cost: addr.cost };
    }
    case 8: {
      // br_table over the i32-result labels in scope, carrying a value (unconditional, like br)
      f.brTables++;
      f.valueBrTables++;
      const targets = branchTargets(ctx, (l) => l.arity === 1);
      const n = ch.range(0, 3);
      const picks = Array.from({ length: n + 1 }, () => labelIndex(ctx, targets[ch.int(targets.length)]!));
      const v = genExpr(ctx, budget - 1, depth + 1);
      const idx = genOperand(ctx, budget - 1 - v.cost, depth, [0, 1, 2, 3, -1]);
      return { code: `(br_table ${picks.join(' ')} ${v.code} ${idx.code})`, cost: 1 + v.cost + idx.cost };
    }
    case 10:
      return genWideExpr(ctx, budget, depth);
    default: {
      // a block taking its operand from the stack: `arg (block (param i32) (result i32) body)`
      f.paramBlocks++;
      const arg = genExpr(ctx, budget - 2, depth + 1);
      ctx.labels.push({ kind: 'block', arity: 1 });
      const inner = budget - 2 - arg.cost;
      let body: string;
      let cost = 2 + arg.cost;
      const writable = writableLocals(ctx);
      if (writable.length > 0 && ch.chance(40)) {
        // the parameter goes into a local, then statements and the result
        const s = genStmts(ctx, inner, 2, false);
        const e = genExpr(ctx, inner - s.cost, depth + 1);
        body = `(local.set ${writable[ch.int(writable.length)]!}) ${s.code} ${e.code}`;
        cost += s.cost + e.cost;
      } else {
        // the parameter is the first operand of a binary operator
        const op = ['add', 'sub', 'xor', 'mul', 'and', 'shr_u'][ch.int(6)]!;
        const e = genExpr(ctx, inner, depth + 1);
        body = `(i32.${op} ${e.code})`;
        cost += e.cost;
      }
      ctx.labels.pop();
      return { code: `${arg.code} (block (param i32) (result i32) ${body})`, cost };
    }
  }
}

function genCall(ctx: Ctx, budget: number, depth: number): Code {
  const callable = ctx.helpers.filter((h) => h.cost + 1 <= budget);
  const h = callable[ctx.ch.int(callable.length)];
  if (!h) return { code: genLeaf(ctx), cost: 0 };
  ctx.feats.calls++;
  if (h.name === 'deep') ctx.feats.deepCalls++;
  const args: string[] = [];
  let cost = 1 + h.cost;
  for (let k = 0; k < h.params; k++) {
    const a = genExpr(ctx, budget - cost, depth + 1);
    args.push(a.code);
    cost += a.cost;
  }
  return { code: `(call $${h.name}${args.map((a) => ' ' + a).join('')})`, cost };
}

function extStmtWeights(ctx: Ctx, budget: number, canBlock: boolean, canBranch: boolean): number[] {
  if (!ctx.ext) return [];
  const hasMem = ctx.pages > 0;
  return [
    ctx.globals > 0 ? 3 : 0, // global.set
    canBlock ? 3 : 0, // if (with or without else)
    canBranch && budget >= 2 ? 2 : 0, // br_table
    hasMem ? 3 : 0, // 8/16-bit store
    budget >= 3 ? 1 : 0, // guarded unreachable
    ctx.helpers.some((h) => h.cost + 1 <= budget) ? 1 : 0, // call, result dropped
    ctx.outputs ? 2 : 0, // output byte
  ];
}

function genExtStmt(ctx: Ctx, budget: number, kind: number): Code {
  const ch = ctx.ch;
  const f = ctx.feats;
  switch (kind) {
    case 0: {
      f.globalOps++;
      const e = genExpr(ctx, budget, 0);
      return { code: `(global.set $g${ch.int(ctx.globals)} ${e.code})`, cost: e.cost };
    }
    case 1: {
      f.ifs++;
      const c = genCond(ctx, budget - 3, 1);
      const inner = budget - 3 - c.cost;
      ctx.labels.push({ kind: 'block', arity: 0 });
      const t = genStmts(ctx, inner, 3, true);
      const e = ch.chance(50) ? genStmts(ctx, inner - t.cost, 3, true) : null;
      ctx.labels.pop();
      const els = e ? ` (else ${e.code})` : '';
      return { code: `(if ${c.code} (then ${t.code})${els})`, cost: 3 + c.cost + t.cost + (e?.cost ?? 0) };
    }
    case 2: {
      // br_table over the void labels in scope (and the function label when it has no results)
      f.brTables++;
      const targets = branchTargets(ctx, (l) => l.arity === 0);
      if (targets.length === 0) return { code: '(nop)', cost: 0 };
      const n = ch.range(0, 4);
      const picks = Array.from({ length: n + 1 }, () => labelIndex(ctx, targets[ch.int(targets.length)]!));
      const idx = genOperand(ctx, budget - 1, 1, [0, 1, 2, 3, 4, 5, -1, I32_MAX]);
      return { code: `(br_table ${picks.join(' ')} ${idx.code})`, cost: 1 + idx.cost };
    }
    case 3: {
      f.narrowAccesses++;
      f.stores++;
      const { offset, addr } = genAddress(ctx, budget, 0);
      const v = genExpr(ctx, budget - addr.cost, 1);
      const op = ch.chance(50) ? 'i32.store8' : 'i32.store16';
      return { code: `(${op}${memArg(offset)} ${addr.code} ${v.code})`, cost: addr.cost + v.cost };
    }
    case 4: {
      f.unreachables++;
      const c = genCond(ctx, budget - 3, 1);
      return { code: `(if ${c.code} (then unreachable))`, cost: 3 + c.cost };
    }
    case 5: {
      const c = genCall(ctx, budget, 0);
      return { code: `(drop ${c.code})`, cost: c.cost };
    }
    default: {
      f.outputs++;
      const e = genExpr(ctx, budget, 0);
      return { code: `(call $output_byte ${e.code})`, cost: e.cost };
    }
  }
}

/** Helper functions for extended programs: a bounded recursion and one or two plain helpers. */
function genHelpers(ctx: Ctx): HelperFunc[] {
  const ch = ctx.ch;
  const funcs: HelperFunc[] = [];
  // $rec(n): recursion depth n & 7; per level at most 4 blocks (entry, call, continuation, join)
  funcs.push({ name: 'rec', text: [
    '  (func $rec (param $n i32) (param $p1 i32) (result i32)',
    '    (if (result i32) (i32.eqz (local.get $n)) (then (local.get $p1))',
    '      (else (i32.add (i32.mul (local.get $n) (i32.const 3))',
    '        (call $rec (i32.sub (local.get $n) (i32.const 1)) (i32.xor (local.get $p1) (local.get $n)))))))',
  ].join('\n') });
  ctx.helpers.push({ name: 'rec_entry', params: 2, cost: 1 + 4 * 8 + 3 + 2 });
  funcs.push({ name: 'rec_entry', text: '  (func $rec_entry (param i32 i32) (result i32) (call $rec (i32.and (local.get 0) (i32.const 7)) (local.get 1)))' });
  const n = ch.range(1, 2);
  const saved = { params: ctx.params, dataLocals: ctx.dataLocals, labels: ctx.labels, counters: ctx.counters, results: ctx.results };
  for (let k = 0; k < n; k++) {
    ctx.params = 2;
    ctx.dataLocals = 0;
    ctx.results = 1;
    ctx.labels = [{ kind: 'func', arity: 1 }];
    ctx.counters = [];
    const body = genStmts(ctx, 20, 3, true);
    const e = genExpr(ctx, 24 - body.cost, 1);
    const name = `h${k}`;
    const counters = Array.from({ length: ctx.maxCounterDepth }, (_, i) => ` (local $c${i} i32)`).join('');
    funcs.push({ name, text: `  (func $${name} (param $p0 i32) (param $p1 i32) (result i32)${counters} ${body.code} ${e.code})` });
    ctx.helpers.push({ name, params: 2, cost: 1 + body.cost + e.cost });
  }
  Object.assign(ctx, saved);
  return funcs;
}

interface HelperFunc {
  name: string;
  text: string;
}

/** The helpers `code` calls, directly or through other helpers, in their original order. */
function calledHelpers(helpers: HelperFunc[], code: string): HelperFunc[] {
  const called = new Set<string>();
  const visit = (text: string): void => {
    for (const [, name] of text.matchAll(/\(call \$([a-z_0-9]+)/g)) {
      const h = helpers.find((x) => x.name === name);
      if (h && !called.has(h.name)) {
        called.add(h.name);
        visit(h.text);
      }
    }
  };
  visit(code);
  return helpers.filter((h) => called.has(h.name));
}

/** The smallest GenOptions.callDepth: deeper than every bounded call chain (main, h1, h0, rec_entry, 8 x rec). */
export const MIN_CALL_DEPTH = 16;

/**
 * `$deep(n, p)`: p unless n & 3 is 3, and then `$deep(n, p + 1)` forever, so such a call
 * exhausts the call stack. Only the exported function calls it (at frame 1, so it runs
 * depth - 1 frames of at most 2 steps each before the trap). Pure: V8, which traps deeper,
 * ends in the same state.
 */
function genDeep(ctx: Ctx, depth: number): HelperFunc {
  ctx.helpers.push({ name: 'deep', params: 2, cost: 2 * depth + 4 });
  return { name: 'deep', text: [
    '  (func $deep (param $n i32) (param $p i32) (result i32)',
    '    (if (result i32) (i32.ne (i32.and (local.get $n) (i32.const 3)) (i32.const 3)) (then (local.get $p))',
    '      (else (call $deep (local.get $n) (i32.add (local.get $p) (i32.const 1))))))',
  ].join('\n') };
}

// ---------------------------------------------------------------------------
// Module

function escapeBytes(bytes: number[]): string {
  return bytes.map((b) => '\\' + b.toString(16).padStart(2, '0')).join('');
}

/** Build the program a choice sequence describes. Deterministic. */
export function generateProgram(choices: readonly number[], options: GenOptions = {}): GenProgram {
  const ch = new Chooser(choices);
  const params = ch.weighted([2, 4, 4, 3, 2]); // 0..4
  const results = ch.weighted([5, 1]) === 0 ? 1 : 0; // the subset has no multi-value results
  const dataLocals = ch.range(0, 4);
  const pages = [1, 0, 2][ch.weighted([14, 4, 3])]!;
  const memBytes = pages * PAGE;
  const hot: number[] = [];
  if (pages > 0) {
    hot.push(ch.range(0, 32)); // near address 0
    const nHot = ch.range(1, 3);
    for (let k = 0; k < nHot; k++) {
      switch (ch.int(3)) {
        case 0:
          hot.push(ch.range(0, 96));
          break;
        case 1:
          hot.push(memBytes - 4 - 7 - ch.int(16)); // near the end, still in bounds (+0..7 +4 bytes)
          break;
        default:
          hot.push(ch.range(0, memBytes - 16));
      }
    }
  }
  const feats: GenFeatures = {
    loops: 0, stores: 0, loads: 0, brIfs: 0, brs: 0, blocks: 0, resultBlocks: 0, dataSegments: 0, riskyAddresses: 0, tees: 0,
    ops: 0, selects: 0, ifs: 0, brTables: 0, globalOps: 0, calls: 0, narrowAccesses: 0, memoryOps: 0, outputs: 0, unreachables: 0,
    returns: 0, valueBrTables: 0, paramBlocks: 0, deepCalls: 0, wideOps: 0,
  };
  const ext = options.extended === true;
  if (ext && options.instrument) throw new Error('random_program: extended programs cannot be instrumented');
  const depth = options.callDepth;
  if (depth !== undefined && !(Number.isInteger(depth) && depth >= MIN_CALL_DEPTH)) {
    throw new Error(`random_program: callDepth must be an integer of at least ${MIN_CALL_DEPTH}, got ${depth}`);
  }
  const outputs = ext && options.outputs !== false;
  const ctx: Ctx = {
    ch, instrument: options.instrument === true, ext, outputs, globals: 0, helpers: [], params, results, dataLocals, pages, memBytes, hot,
    labels: [{ kind: 'func', arity: results }], counters: [], maxCounterDepth: 0, feats,
  };
  const globalInits: number[] = [];
  let helperFuncs: HelperFunc[] = [];
  if (ext) {
    ctx.globals = ch.range(1, 2);
    for (let k = 0; k <= ctx.globals; k++) globalInits.push(genConst(ctx));
    helperFuncs = genHelpers(ctx);
    if (depth !== undefined) helperFuncs.push(genDeep(ctx, depth));
  }

  // data segments (later ones win where they overlap)
  const data: string[] = [];
  if (pages > 0) {
    const nData = ch.weighted([3, 4, 3, 2]);
    for (let k = 0; k < nData; k++) {
      const len = ch.weighted([1, 8]) === 0 ? 0 : ch.range(1, 24);
      let off: number;
      switch (ch.int(4)) {
        case 0:
          off = memBytes - len; // ends exactly at the end of memory
          break;
        case 1:
          off = ch.range(0, memBytes - len);
          break;
        default:
          off = Math.max(0, Math.min(memBytes - len, pickHot(ctx) + ch.range(-4, 8)));
      }
      const bytes: number[] = [];
      for (let b = 0; b < len; b++) bytes.push(ch.int(4) === 0 ? 0 : ch.int(256));
      data.push(`  (data (i32.const ${off}) "${escapeBytes(bytes)}")`);
      feats.dataSegments++;
    }
  }

  // body: statements, then the result values (unless a final br already left)
  const limit = options.stepLimit ?? STEP_LIMIT;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= STEP_LIMIT)) throw new Error(`random_program: stepLimit must be an integer in 1..${STEP_LIMIT}, got ${limit}`);
  const budget = limit - 1;
  const body = genStmts(ctx, budget - 4 * results, 10, true);
  let cost = 1 + body.cost;
  const resultCodes: string[] = [];
  if (!body.endsWithBr || ch.chance(30)) {
    for (let r = 0; r < results; r++) {
      const e = genExpr(ctx, limit - cost, 0);
      let code = e.code;
      if (r === 0) {
        // fold every param/local into the first result so their final values are observable
        for (const l of writableLocals(ctx)) code = `(i32.add ${code} (local.get ${l}))`;
      }
      resultCodes.push(code);
      cost += e.cost;
    }
  }
  if (cost > limit) throw new Error(`random_program: internal error, step bound ${cost} > ${limit}`);

  const exportName = ['main', 'f', 'run', 'compute'][ch.int(4)]!;
  const sig =
    Array.from({ length: params }, (_, i) => ` (param $p${i} i32)`).join('') +
    (results > 0 ? ` (result${' i32'.repeat(results)})` : '');
  const locals =
    Array.from({ length: dataLocals }, (_, i) => ` (local $x${i} i32)`).join('') +
    Array.from({ length: ctx.maxCounterDepth }, (_, i) => ` (local $c${i} i32)`).join('');
  const lines: string[] = ['(module'];
  if (outputs) lines.push('  (import "env" "output_byte" (func $output_byte (param i32)))');
  if (pages > 0) lines.push(ext ? `  (memory ${pages} ${pages + 2})` : `  (memory ${pages})`);
  lines.push(...data);
  if (ext) {
    for (let k = 0; k < ctx.globals; k++) lines.push(`  (global $g${k} (export "g${k}") (mut i32) (i32.const ${globalInits[k]!}))`);
    lines.push(`  (global $k0 (export "k0") i32 (i32.const ${globalInits[ctx.globals]!}))`);
    // only the helpers the program calls (an uncalled function would still be compiled)
    for (const h of calledHelpers(helperFuncs, [body.code, ...resultCodes].join(' '))) lines.push(h.text);
  }
  if (ctx.instrument) {
    lines.push('  (global $steps (mut i32) (i32.const 0))');
    lines.push('  (func $tick (param i32) (result i32) (global.set $steps (i32.add (global.get $steps) (local.get 0))) (i32.const 0))');
    lines.push('  (func (export "__steps") (result i32) (global.get $steps))');
  }
  lines.push(`  (func $${exportName} (export "${exportName}")${sig}${locals}`);
  const bodyText = [tick(ctx, 1).trim(), body.code, ...resultCodes].filter((s) => s.length > 0);
  for (const s of bodyText) lines.push(`    ${s}`);
  lines.push('  )');
  lines.push(')');

  const f = feats;
  const description =
    `params=${params} results=${results} locals=${dataLocals}+${ctx.maxCounterDepth} pages=${pages} ` +
    `data=${f.dataSegments} loops=${f.loops} stores=${f.stores} loads=${f.loads} br_if=${f.brIfs} br=${f.brs} ` +
    `blocks=${f.blocks}+${f.resultBlocks} risky=${f.riskyAddresses} bound=${cost}` +
    (ext ? ` ops=${f.ops} select=${f.selects} if=${f.ifs} br_table=${f.brTables} globals=${f.globalOps} calls=${f.calls} ` +
      `narrow=${f.narrowAccesses} memops=${f.memoryOps} out=${f.outputs} unreachable=${f.unreachables}` : '');
  return { wat: lines.join('\n') + '\n', exportName, params, results, memoryPages: pages, description, stepBound: cost, features: { ...feats } };
}

// ---------------------------------------------------------------------------
// Arbitraries

/** The choice sequences programs are built from (shrinks toward smaller programs). */
export const arbChoices: fc.Arbitrary<number[]> = fc.array(fc.noBias(fc.integer({ min: 0, max: 0xffff })), {
  minLength: 0,
  maxLength: 1200,
  size: 'max',
});

export const arbProgram: fc.Arbitrary<GenProgram> = arbChoices.map((c) => generateProgram(c));

/** Programs over the whole supported instruction set (GenOptions.extended). */
export const arbExtendedProgram: fc.Arbitrary<GenProgram> = arbChoices.map((c) => generateProgram(c, { extended: true }));

/** One i32 argument: full range, biased to edge values and small / page-edge addresses. */
export const arbI32: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, -1, I32_MIN, I32_MAX, 2, 3, 4) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 256 }) },
  { weight: 1, arbitrary: fc.integer({ min: PAGE - 40, max: PAGE + 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2 * PAGE - 40, max: 2 * PAGE + 4 }) },
  { weight: 3, arbitrary: fc.integer({ min: I32_MIN, max: I32_MAX }) },
);

export function arbArgs(params: number): fc.Arbitrary<number[]> {
  return fc.array(arbI32, { minLength: params, maxLength: params });
}

// ---------------------------------------------------------------------------
// WAT -> wasm (tests only; the frontend has its own loader)

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabtPromise: Promise<Wabt> | null = null;

/** Assemble and validate WAT text with the npm `wabt` package. */
export async function watToWasmBytes(wat: string): Promise<Uint8Array<ArrayBuffer>> {
  wabtPromise ??= wabtInit();
  const wabt = await wabtPromise;
  const mod = wabt.parseWat('program.wat', wat, { multi_value: true, mutable_globals: true });
  try {
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
    return new Uint8Array(buffer);
  } finally {
    mod.destroy();
  }
}
