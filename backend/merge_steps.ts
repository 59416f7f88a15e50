// backend/merge_steps.ts — a block takes in the block it goes to: one step, not two.
//
// A step is one forward pass whose cost is mostly fixed (ONNX Runtime's per-node and per-run
// overhead, DESIGN.md §8), so an edge from A to B costs a whole step for nothing but passing
// values. For a block A on a cycle of its function's CFG (a loop's block: it runs many times):
//  - jump: where A ends in `jump B`, A gets a copy of B's instructions (B's parameters replaced by
//    the jump's arguments, B's values renamed fresh) and B's terminator;
//  - speculation: where A ends in `br_if c, B, C` (or C, B) and B is pure (no access, store,
//    output, global.set or division: nothing that can trap or be seen), A runs B's instructions
//    whichever way c goes and branches three ways: B's targets when c selects B, C otherwise.
//    B's `jump D` makes that `br_if c, D, C`; B's `br_if d, D, E` a `br_table` over [D, E, C]
//    indexed by `select c, (select d, 0, 1), 2` (2 and the inner select swapped when B is the
//    else side), whose edges lower_block.ts reads straight off the selects (its taken forms are
//    ANDs of the two conditions), so no select is computed;
//  - a table: where A ends in such a br_table, a pure target B is speculated on every leaf that
//    goes to it (a copy of B per leaf, its branch one level deeper: speculateTable);
//  - unrolling: where B is A itself (a loop's block that branches back to itself), A's next
//    iteration is speculated so, its loads, stores and outputs guarded by c (`if v`: they happen,
//    and may trap, only when the loop goes on; ir/ir.ts); the result ends in a br_table, and
//    later iterations (the body as first unrolled) go on its one looping leaf, each guarded by
//    the AND of the tests on that path (speculateTable with guards; saving a step only when the
//    loop goes that far: UNROLL_SAVING).
// Again for the block A then goes to, while the merged block still fits one step: the caller's
// measure (backend/index.ts: what it adds to the model's shared dimensions must cost less than
// the step it saves), at most maxStores stores and OUTPUTS_PER_STEP outputs. B itself
// stays for its other predecessors (tail duplication), so only A's path changes: a loop header
// reached by a jump has its first iteration peeled into the jump's block. The IR is localized
// (ir/localize.ts), so B's live-ins are exactly its parameters; the IR interpreter runs the merged
// module step for step like the transformer.

import type { Block, BlockTarget, Func, Inst, Module, Terminator, ValueId } from '../ir/ir.js';
import { instDst, instGuard, instRemovable, instUses, mapDst, mapInst, mapTerm, nextValueId } from '../ir/ir.js';
import { blocksOnCycles } from '../ir/cycles.js';
import { OUTPUTS_PER_STEP } from '../format/token.js';

/**
 * Whether `merged` (block `a` with `b` merged in) fits one step (measured by the caller: layers,
 * width), given the steps it saves each time `a` runs: 1 for a merge (the step of `b`), less for
 * an unrolled loop's later iterations (UNROLL_SAVING: they save a step only when the loop goes on).
 */
export type MergeFits = (f: Func, merged: Block, index: number, a: Block, b: Block, saving: number) => boolean;

/**
 * What the k-th further iteration of an unrolled loop (k = 1: the third in the block) saves per
 * step of the block, as a fraction of a step: the chance the loop goes on that far, guessed as
 * halving with each iteration (a loop known only statically).
 */
const UNROLL_SAVING = 0.5;

/** A block of at most this many instructions is copied into its jumps' blocks. */
const MAX_COPIED = 48;
/** A merged block longer than this is not tried (it would be cut again). */
const MAX_MERGED = 160;

/** B's instructions renamed fresh, its parameters read as `args`, and its terminator renamed alike. */
function inlined(b: Block, args: ValueId[], fresh: () => ValueId): { insts: Inst[]; term: Terminator } {
  const rename = new Map<ValueId, ValueId>();
  b.params.forEach((p, k) => rename.set(p, args[k]));
  const r = (v: ValueId): ValueId => rename.get(v) ?? v;
  const insts: Inst[] = [];
  for (const i of b.insts) {
    const d = instDst(i);
    const renamed = mapInst(i, r);
    if (d === null) insts.push(renamed);
    else {
      const nv = fresh();
      rename.set(d, nv);
      insts.push(mapDst(renamed, () => nv));
    }
  }
  return { insts, term: mapTerm(b.term, r) };
}

/** A's instructions, then B's (renamed), with B's terminator: A must end in `jump B`. */
export function mergeInto(a: Block, b: Block, fresh: () => ValueId): Block {
  if (a.term.op !== 'jump') throw new Error('mergeInto: the block does not end in a jump');
  const { insts, term } = inlined(b, a.term.target.args, fresh);
  return { params: a.params, insts: [...a.insts, ...insts], term };
}

/** Whether a block can run whichever way its predecessor branches: nothing in it traps or is seen. */
function pure(b: Block): boolean {
  return b.insts.every((i) => instRemovable(i) && i.op !== 'poison') && (b.term.op === 'jump' || b.term.op === 'br_if');
}

/** A division or remainder by a constant that cannot trap (not 0, and not −1 for the signed ones). */
function safeDivision(i: Inst, consts: ReadonlyMap<ValueId, number>): boolean {
  if (i.op !== 'binary' || !['div_u', 'div_s', 'rem_u', 'rem_s'].includes(i.code)) return false;
  const c = consts.get(i.b);
  return c !== undefined && c !== 0 && !(c === -1 && (i.code === 'div_s' || i.code === 'rem_s'));
}

/**
 * Whether a block can run under a guard: besides pure instructions, only unguarded loads, stores
 * and outputs (they get the guard) and divisions by safe constants; no global.set, memory.grow
 * or call; a jump or br_if at the end.
 */
function guardable(b: Block): boolean {
  const consts = new Map<ValueId, number>();
  for (const i of b.insts) if (i.op === 'iconst') consts.set(i.dst, i.value | 0);
  const ok = (i: Inst): boolean =>
    (instRemovable(i) && i.op !== 'poison') || safeDivision(i, consts) || ((i.op === 'load' || i.op === 'store' || i.op === 'output') && i.guard === undefined);
  return b.insts.every(ok) && (b.term.op === 'jump' || b.term.op === 'br_if');
}

/**
 * A with its br_if's `side` (a pure block B) run speculatively: A's instructions, B's, and a
 * branch to B's targets when A's condition selects B, to A's other target otherwise.
 */
export function speculate(a: Block, b: Block, side: 'then' | 'else', fresh: () => ValueId): Block {
  if (a.term.op !== 'br_if') throw new Error('speculate: the block does not end in a br_if');
  const { cond: c, then: t, else: e } = a.term;
  const into = side === 'then' ? t : e;
  const other = side === 'then' ? e : t;
  const { insts, term } = inlined(b, into.args, fresh);
  // B's accesses and output happen only on B's side: guarded by c (the then side) or c = 0
  const effectful = insts.some((i) => i.op === 'load' || i.op === 'store' || i.op === 'output');
  const negated: Inst[] = effectful && side === 'else' ? [{ op: 'unary', code: 'eqz', dst: fresh(), a: c }] : [];
  const guard = negated.length ? (negated[0] as { dst: ValueId }).dst : c;
  const body = [
    ...a.insts,
    ...negated,
    ...insts.map((i): Inst => (i.op === 'load' || i.op === 'store' || i.op === 'output' ? { ...i, guard } : i)),
  ];
  if (term.op === 'jump') {
    const [yes, no]: [BlockTarget, BlockTarget] = side === 'then' ? [term.target, other] : [other, term.target];
    return { params: a.params, insts: body, term: { op: 'br_if', cond: c, then: yes, else: no } };
  }
  if (term.op !== 'br_if') throw new Error('speculate: the speculated block must end in a jump or a br_if');
  const k = [0, 1, 2].map((value) => ({ op: 'iconst' as const, dst: fresh(), value }));
  const inner: Inst = { op: 'select', dst: fresh(), cond: term.cond, a: k[0].dst, b: k[1].dst };
  const index: Inst = side === 'then'
    ? { op: 'select', dst: fresh(), cond: c, a: inner.dst, b: k[2].dst }
    : { op: 'select', dst: fresh(), cond: c, a: k[2].dst, b: inner.dst };
  return {
    params: a.params,
    insts: [...body, ...k, inner, index],
    term: { op: 'br_table', index: (index as { dst: ValueId }).dst, targets: [term.then, term.else], default: other },
  };
}

/** One condition on a path of a br_table's select tree: `cond` nonzero (yes) or zero. */
interface Literal {
  cond: ValueId;
  yes: boolean;
}

/**
 * The guard of a leaf: nonzero exactly when every literal on its path holds, as `eqz` of the
 * literals that must be zero and a chain `select l, g, 0` (lower_block.ts guardOf reads the chain
 * as the form l + g − 1 and eqz c as 1 − c: no select is computed, no unit is added).
 */
function pathGuard(path: readonly Literal[], fresh: () => ValueId): { insts: Inst[]; guard: ValueId } {
  const insts: Inst[] = [];
  const lits = path.map((l) => {
    if (l.yes) return l.cond;
    const n: Inst = { op: 'unary', code: 'eqz', dst: fresh(), a: l.cond };
    insts.push(n);
    return (n as { dst: ValueId }).dst;
  });
  if (lits.length <= 1) return { insts, guard: lits[0] };
  const zero: Inst = { op: 'iconst', dst: fresh(), value: 0 };
  insts.push(zero);
  let g = lits[0];
  for (const l of lits.slice(1)) {
    const s: Inst = { op: 'select', dst: fresh(), cond: l, a: g, b: (zero as { dst: ValueId }).dst };
    insts.push(s);
    g = (s as { dst: ValueId }).dst;
  }
  return { insts, guard: g };
}

/** Most conditions on one path of a br_table's select tree (lower_block.ts selectTreeEdges reads up to this many). */
export const MAX_TREE_DEPTH = 4;

/**
 * A's br_table indexed by a tree of selects of constants (a speculated br_if's), with the pure
 * block B speculated on every leaf that goes to it: each such leaf gets its own copy of B (its
 * parameters read as that leaf's arguments) and becomes B's branch (a constant for B's jump, a
 * select on B's condition for its br_if), one level deeper. Null when A's index is no such tree,
 * no leaf goes to B, or a path would pass MAX_TREE_DEPTH.
 */
export function speculateTable(a: Block, bIndex: number, b: Block, fresh: () => ValueId, guarded = false): Block | null {
  if (a.term.op !== 'br_table') return null;
  const term = a.term;
  const defs = new Map<ValueId, Inst>();
  for (const i of a.insts) if (i.op === 'iconst' || i.op === 'select') defs.set(i.dst, i);
  const all = [...term.targets, term.default];
  const targets: BlockTarget[] = [];
  const extra: Inst[] = [];
  const slot = (t: BlockTarget): ValueId => {
    targets.push(t);
    const k: Inst = { op: 'iconst', dst: fresh(), value: targets.length - 1 };
    extra.push(k);
    return (k as { dst: ValueId }).dst;
  };
  let hit = 0;
  // the tree rebuilt: every leaf a fresh constant (its target's new place), B's leaves B's branch
  const rebuild = (v: ValueId, depth: number, path: Literal[]): ValueId | null => {
    const d = defs.get(v);
    if (d?.op === 'iconst') {
      const t = all[Math.min(d.value >>> 0, all.length - 1)];
      if (t.block !== bIndex) return slot(t);
      if (depth >= MAX_TREE_DEPTH && b.term.op === 'br_if') return null;
      hit++;
      const copy = inlined(b, t.args, fresh);
      if (guarded) {
        const g = pathGuard(path, fresh);
        extra.push(...g.insts);
        extra.push(...copy.insts.map((i): Inst => (i.op === 'load' || i.op === 'store' || i.op === 'output' ? { ...i, guard: g.guard } : i)));
      } else extra.push(...copy.insts);
      if (copy.term.op === 'jump') return slot(copy.term.target);
      if (copy.term.op !== 'br_if') return null;
      const yes = slot(copy.term.then);
      const no = slot(copy.term.else);
      const sel: Inst = { op: 'select', dst: fresh(), cond: copy.term.cond, a: yes, b: no };
      extra.push(sel);
      return (sel as { dst: ValueId }).dst;
    }
    if (d?.op !== 'select') return null;
    const x = rebuild(d.a, depth + 1, [...path, { cond: d.cond, yes: true }]);
    const y = x === null ? null : rebuild(d.b, depth + 1, [...path, { cond: d.cond, yes: false }]);
    if (x === null || y === null) return null;
    const sel: Inst = { op: 'select', dst: fresh(), cond: d.cond, a: x, b: y };
    extra.push(sel);
    return (sel as { dst: ValueId }).dst;
  };
  const index = rebuild(term.index, 0, []);
  // a guarded copy's loads see the pending rows of every guarded store before it: only one leaf
  // gets a copy, so each copy's guard implies theirs (see unrolling in the header)
  if (index === null || hit === 0 || (guarded && hit > 1) || defs.get(term.index)?.op !== 'select') return null;
  const last = targets.pop()!;
  // the old tree's selects and constants are dropped where nothing else reads them
  const old = new Set<ValueId>();
  const mark = (v: ValueId): void => {
    const d = defs.get(v);
    if (!d || old.has(v)) return;
    old.add(v);
    if (d.op === 'select') (mark(d.a), mark(d.b));
  };
  mark(term.index);
  const read = new Set<ValueId>();
  for (const i of a.insts) if (!old.has(instDst(i) ?? -1)) instUses(i).forEach((v) => read.add(v));
  for (const i of extra) instUses(i).forEach((v) => read.add(v));
  for (const t of [...targets, last]) t.args.forEach((v) => read.add(v));
  const kept = a.insts.filter((i) => { const d = instDst(i); return d === null || !old.has(d) || read.has(d); });
  // the last target is the default: its leaf's constant (targets.length) is past the list
  return { params: a.params, insts: [...kept, ...extra], term: { op: 'br_table', index, targets, default: last } };
}

function effects(b: Block): { stores: number; outputs: number } {
  let stores = 0;
  let outputs = 0;
  for (const i of b.insts) {
    if (i.op === 'store') stores++;
    else if (i.op === 'output') outputs++;
  }
  return { stores, outputs };
}

/** What block A can become with its next block merged in, in order of preference (none: B too long, too many effects). */
function candidates(f: Func, ai: number, maxStores: number, fresh: () => ValueId, body: Block | undefined): Array<{ merged: Block; b: Block; further?: true }> {
  const a = f.blocks[ai];
  const fitsEffects = (b: Block): boolean => {
    if (b.insts.length > MAX_COPIED || a.insts.length + b.insts.length > MAX_MERGED) return false;
    const ea = effects(a);
    const eb = effects(b);
    return ea.stores + eb.stores <= maxStores && ea.outputs + eb.outputs <= OUTPUTS_PER_STEP;
  };
  if (a.term.op === 'jump') {
    const b = f.blocks[a.term.target.block];
    return b !== a && fitsEffects(b) ? [{ merged: mergeInto(a, b, fresh), b }] : [];
  }
  const out: Array<{ merged: Block; b: Block; further?: true }> = [];
  if (a.term.op === 'br_table') {
    // a speculated br_if's table: its pure targets speculated in turn, each where its leaves are
    const seen = new Set<number>();
    for (const t of [...a.term.targets, a.term.default]) {
      if (seen.has(t.block) || t.block === ai) continue;
      seen.add(t.block);
      const b = f.blocks[t.block];
      if (!pure(b) || !fitsEffects(b)) continue;
      const merged = speculateTable(a, t.block, b, fresh);
      if (merged) out.push({ merged, b });
    }
    // an unrolled loop's next iteration (its body as first unrolled) where it goes on
    if (body && [...a.term.targets, a.term.default].some((t) => t.block === ai) && guardable(body) && fitsEffects(body)) {
      const merged = speculateTable(a, ai, body, fresh, true);
      if (merged) out.push({ merged, b: body, further: true });
    }
  }
  if (a.term.op === 'br_if') {
    for (const side of ['then', 'else'] as const) {
      const b = f.blocks[a.term[side].block];
      // B may be A itself, a loop's block: its next iteration, guarded (unrolled once; A has no
      // guarded store yet, whose pending rows a later load would see whatever its guard). Other
      // blocks with effects are not speculated: every step of A would pay their depth, also
      // those that branch away (measured by the node proxy of DESIGN.md §2: collatz −10%, but
      // fibonacci +6% and sudoku +11%)
      const ok = b === a ? guardable(b) && !a.insts.some((i) => instGuard(i) !== undefined) : pure(b);
      if (ok && fitsEffects(b)) out.push({ merged: speculate(a, b, side, fresh), b });
    }
  }
  return out;
}

/**
 * Merges into every block on a cycle the block it goes to (a jump's target, or a br_if's pure
 * side), again and again while the result fits (see the header). Blocks are visited in order.
 */
export function mergeSteps(mod: Module, maxStores: number, fits: MergeFits): Module {
  const funcs = mod.funcs.map((f0) => {
    let f = f0;
    let next = nextValueId(f);
    const fresh = (): ValueId => next++;
    // a block off every cycle runs at most once a call: merging it saves at most one step
    const hot = blocksOnCycles(f.blocks);
    for (let ai = 0; ai < f.blocks.length; ai++) {
      if (!hot.has(ai)) continue;
      // the loop body as it was when first unrolled (a block that branches back to itself)
      let body: Block | undefined;
      let further = 0;
      for (;;) {
        const taken = candidates(f, ai, maxStores, fresh, body).find((c) => {
          const g: Func = { ...f, blocks: f.blocks.map((x, k) => (k === ai ? c.merged : x)) };
          if (!fits(g, c.merged, ai, f.blocks[ai], c.b, c.further ? UNROLL_SAVING ** (further + 1) : 1)) return false;
          if (c.b === f.blocks[ai]) body = c.b;
          if (c.further) further++;
          f = g;
          return true;
        });
        if (!taken) break;
      }
    }
    return f;
  });
  return { ...mod, funcs };
}
