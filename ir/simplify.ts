// ir/simplify.ts — make IR blocks maximal and prune block parameters.
//
// One execution step is one IR block, so fewer, larger blocks mean fewer
// steps. Passes, repeated to a fixed point: drop unreachable blocks, thread
// edges through empty forwarding blocks, merge a block into its unique
// predecessor when that predecessor jumps to it, replace block params that
// receive one same value on every edge (Braun et al.'s trivial-phi rule),
// drop params and pure instructions whose values are never observed (loads
// are kept: they can trap). Finally blocks are renumbered in reverse
// postorder (entry stays 0) and values compactly. A call's continuation is
// never merged into or threaded past (a call ends its block), and its leading
// params (the callee's results) are never dropped.

import {
  implicitParams, instDst, instRemovable, instUses, mapDst, mapInst, mapTerm, termTargets, termUses,
  type Block, type BlockId, type BlockTarget, type Func, type Inst, type Module, type Terminator, type ValueId,
} from './ir.js';
import { printFunc } from './print.js';

type Subst = Map<ValueId, ValueId>;

function resolve(s: Subst, v: ValueId): ValueId {
  let r = v;
  for (let next = s.get(r); next !== undefined; next = s.get(r)) r = next;
  return r;
}

function applySubst(blocks: Block[], s: Subst): Block[] {
  if (s.size === 0) return blocks;
  const f = (v: ValueId): ValueId => resolve(s, v);
  return blocks.map((b) => ({ params: b.params, insts: b.insts.map((i) => mapInst(i, f)), term: mapTerm(b.term, f) }));
}

/** Block ids in reverse postorder from the entry (unreachable blocks omitted). */
export function reversePostorder(blocks: Block[]): BlockId[] {
  const seen = new Set<BlockId>([0]);
  const post: BlockId[] = [];
  const stack: { id: BlockId; next: number }[] = [{ id: 0, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { id: BlockId; next: number };
    const succ = termTargets((blocks[top.id] as Block).term).map((t) => t.block);
    const s = succ[top.next++];
    if (s === undefined) {
      post.push(top.id);
      stack.pop();
    } else if (!seen.has(s) && blocks[s] !== undefined) {
      seen.add(s);
      stack.push({ id: s, next: 0 });
    }
  }
  return post.reverse();
}

/** Keep the blocks listed in `order` (first must be 0), renumbered by position. */
function reorder(blocks: Block[], order: BlockId[]): Block[] {
  const newId = new Map<BlockId, BlockId>(order.map((id, i) => [id, i]));
  const g = (t: BlockTarget): BlockTarget => ({ block: newId.get(t.block) as BlockId, args: t.args });
  return order.map((id) => {
    const b = blocks[id] as Block;
    return { params: b.params, insts: b.insts, term: mapTerm(b.term, (v) => v, g) };
  });
}

/** Drop blocks not reachable from the entry, renumbering in reverse postorder. */
export function removeUnreachable(f: Func): Func {
  return { ...f, blocks: reorder(f.blocks, reversePostorder(f.blocks)) };
}

function edgeCounts(blocks: Block[]): number[] {
  const n = blocks.map(() => 0);
  for (const b of blocks) for (const t of termTargets(b.term)) n[t.block] = (n[t.block] ?? 0) + 1;
  return n;
}

/** Blocks that only forward to another block, with params used nowhere else. */
function forwarders(blocks: Block[]): Map<BlockId, Block> {
  const usedOutside = new Set<ValueId>();
  blocks.forEach((b) => {
    for (const i of b.insts) for (const v of instUses(i)) usedOutside.add(v);
    if (!(b.insts.length === 0 && b.term.op === 'jump')) for (const v of termUses(b.term)) usedOutside.add(v);
  });
  // Params of a forwarder used by another forwarder's jump also count as outside uses.
  blocks.forEach((b) => {
    if (b.insts.length === 0 && b.term.op === 'jump') {
      const own = new Set(b.params);
      for (const v of termUses(b.term)) if (!own.has(v)) usedOutside.add(v);
    }
  });
  const fwd = new Map<BlockId, Block>();
  blocks.forEach((b, id) => {
    if (id === 0 || b.insts.length > 0 || b.term.op !== 'jump' || b.term.target.block === id) return;
    if (b.params.some((p) => usedOutside.has(p))) return;
    fwd.set(id, b);
  });
  return fwd;
}

/** Redirect edges that reach an empty forwarding block straight to its target. */
function threadJumps(blocks: Block[]): Block[] {
  const fwd = forwarders(blocks);
  const follow = (t0: BlockTarget): BlockTarget => {
    let t = t0;
    const seen = new Set<BlockId>();
    for (let b = fwd.get(t.block); b !== undefined && !seen.has(t.block); b = fwd.get(t.block)) {
      seen.add(t.block);
      const s = new Map(b.params.map((p, i) => [p, t.args[i] as ValueId]));
      const jt = (b.term as { op: 'jump'; target: BlockTarget }).target;
      t = { block: jt.block, args: jt.args.map((v) => s.get(v) ?? v) };
    }
    return t;
  };
  return blocks.map((b) => {
    if (b.term.op === 'call') return b; // the continuation receives the results: keep it
    const term = mapTerm(b.term, (v) => v, follow);
    return { ...b, term: sameTargets(term) ? { op: 'jump', target: (term as { then: BlockTarget }).then } : term };
  });
}

function sameTargets(t: Terminator): boolean {
  return t.op === 'br_if' && t.then.block === t.else.block &&
    t.then.args.length === t.else.args.length && t.then.args.every((v, i) => v === t.else.args[i]);
}

/** Merge each block into its unique predecessor when that predecessor jumps to it. */
function mergeBlocks(blocks0: Block[]): Block[] {
  const blocks = blocks0.map((b) => ({ ...b, insts: [...b.insts] }));
  const preds = edgeCounts(blocks);
  const removed = new Set<BlockId>();
  const s: Subst = new Map();
  blocks.forEach((p, pid) => {
    if (removed.has(pid)) return;
    for (;;) {
      if (p.term.op !== 'jump') return;
      const bid = p.term.target.block;
      if (bid === 0 || bid === pid || preds[bid] !== 1 || removed.has(bid)) return;
      const b = blocks[bid] as Block;
      b.params.forEach((v, i) => s.set(v, (p.term as { target: BlockTarget }).target.args[i] as ValueId));
      p.insts.push(...b.insts);
      p.term = b.term;
      removed.add(bid);
    }
  });
  const kept = applySubst(blocks, s);
  // Removed blocks are no longer referenced: point them at themselves and let
  // removeUnreachable drop them.
  return kept.map((b, id) => (removed.has(id) ? { params: [], insts: [], term: { op: 'return', values: [] } } : b));
}

/** Incoming arguments of every block param: incoming[block][paramIndex] = args. */
function incomingArgs(blocks: Block[]): ValueId[][][] {
  const inc = blocks.map((b) => b.params.map((): ValueId[] => []));
  for (const b of blocks) {
    for (const t of termTargets(b.term)) {
      const target = blocks[t.block];
      const skip = target ? implicitParams(b.term, target) : 0;
      t.args.forEach((v, i) => inc[t.block]?.[skip + i]?.push(v));
    }
  }
  return inc;
}

/** Remove the listed params (by index) from blocks and the matching args from every edge. */
function dropParams(blocks: Block[], removed: Map<BlockId, Set<number>>): Block[] {
  if (removed.size === 0) return blocks;
  const keep = (id: BlockId, skip = 0) => (_: unknown, i: number): boolean => !removed.get(id)?.has(skip + i);
  return blocks.map((b, id) => {
    const g = (t: BlockTarget): BlockTarget => {
      const skip = implicitParams(b.term, blocks[t.block] as Block);
      return { block: t.block, args: t.args.filter(keep(t.block, skip)) };
    };
    return { params: b.params.filter(keep(id)), insts: b.insts, term: mapTerm(b.term, (v) => v, g) };
  });
}

function markRemoved(removed: Map<BlockId, Set<number>>, bid: BlockId, index: number): void {
  const set = removed.get(bid) ?? new Set<number>();
  set.add(index);
  removed.set(bid, set);
}

/** Replace params that receive the same value (other than themselves) on every edge. */
function removeTrivialParams(blocks: Block[]): Block[] {
  const inc = incomingArgs(blocks);
  const s: Subst = new Map();
  const removed = new Map<BlockId, Set<number>>();
  for (let bid = 1; bid < blocks.length; bid++) {
    (blocks[bid] as Block).params.forEach((p, i) => {
      const others = new Set((inc[bid]?.[i] ?? []).map((v) => resolve(s, v)).filter((v) => v !== p));
      if (others.size !== 1) return;
      s.set(p, [...others][0] as ValueId);
      markRemoved(removed, bid, i);
    });
  }
  return applySubst(dropParams(blocks, removed), s);
}

/** Values whose result is observed (stores, loads' addresses, conditions, returns). */
function liveValues(blocks: Block[]): Set<ValueId> {
  const defInst = new Map<ValueId, Inst>();
  const paramPos = new Map<ValueId, [BlockId, number]>();
  blocks.forEach((b, id) => {
    b.params.forEach((v, i) => paramPos.set(v, [id, i]));
    for (const i of b.insts) { const d = instDst(i); if (d !== null) defInst.set(d, i); }
  });
  const inc = incomingArgs(blocks);
  const live = new Set<ValueId>();
  const work: ValueId[] = [];
  const mark = (v: ValueId): void => { if (!live.has(v)) { live.add(v); work.push(v); } };
  for (const b of blocks) {
    for (const i of b.insts) if (!instRemovable(i)) instUses(i).forEach(mark);
    if (b.term.op === 'br_if') mark(b.term.cond);
    if (b.term.op === 'br_table') mark(b.term.index);
    if (b.term.op === 'return') b.term.values.forEach(mark);
    if (b.term.op === 'call') b.term.args.forEach(mark);
  }
  (blocks[0]?.params ?? []).forEach(mark);
  while (work.length > 0) {
    const v = work.pop() as ValueId;
    const d = defInst.get(v);
    if (d) instUses(d).forEach(mark);
    const pp = paramPos.get(v);
    if (pp) (inc[pp[0]]?.[pp[1]] ?? []).forEach(mark);
  }
  return live;
}

/** Params a block must keep whatever their use: a call continuation's results. */
function fixedParams(blocks: Block[]): number[] {
  const fixed = blocks.map(() => 0);
  for (const b of blocks) {
    if (b.term.op === 'call') fixed[b.term.cont.block] = implicitParams(b.term, blocks[b.term.cont.block] as Block);
  }
  return fixed;
}

/** Drop params (except the entry's and call results) and removable instructions whose values are dead. */
function removeDead(blocks0: Block[]): Block[] {
  const live = liveValues(blocks0);
  const blocks = blocks0.map((b) => ({
    ...b,
    insts: b.insts.filter((i) => !instRemovable(i) || live.has(instDst(i) as ValueId)),
  }));
  const fixed = fixedParams(blocks);
  const removed = new Map<BlockId, Set<number>>();
  blocks.forEach((b, bid) => {
    if (bid > 0) b.params.forEach((p, i) => { if (i >= (fixed[bid] ?? 0) && !live.has(p)) markRemoved(removed, bid, i); });
  });
  return dropParams(blocks, removed);
}

/** Renumber values: entry params first, then in block order. */
export function renumberValues(f: Func): Func {
  const ids = new Map<ValueId, ValueId>();
  const def = (v: ValueId): ValueId => { const n = ids.size; ids.set(v, n); return n; };
  const blocks = f.blocks.map((b) => ({
    params: b.params.map(def),
    insts: b.insts.map((i) => { const d = instDst(i); if (d !== null) def(d); return i; }),
    term: b.term,
  }));
  const use = (v: ValueId): ValueId => ids.get(v) ?? v;
  return {
    ...f,
    blocks: blocks.map((b) => ({
      params: b.params,
      insts: b.insts.map((i) => renameInst(i, use)),
      term: mapTerm(b.term, use),
    })),
  };
}

function renameInst(i: Inst, f: (v: ValueId) => ValueId): Inst {
  return mapDst(mapInst(i, f), f);
}

function onePass(f: Func): Func {
  let blocks = removeUnreachable(f).blocks;
  blocks = removeUnreachable({ ...f, blocks: threadJumps(blocks) }).blocks;
  blocks = removeUnreachable({ ...f, blocks: mergeBlocks(blocks) }).blocks;
  blocks = removeTrivialParams(blocks);
  blocks = removeDead(blocks);
  return renumberValues({ ...f, blocks });
}

/** Simplify one function to a fixed point (semantics preserved exactly). */
export function simplifyFunc(f: Func): Func {
  let cur = renumberValues(removeUnreachable(f));
  for (let i = 0; i < 100; i++) {
    const next = onePass(cur);
    if (printFunc(next) === printFunc(cur)) return next;
    cur = next;
  }
  return cur;
}

export function simplifyModule(m: Module): Module {
  return { ...m, funcs: m.funcs.map(simplifyFunc) };
}
