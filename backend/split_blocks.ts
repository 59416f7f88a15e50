// backend/split_blocks.ts — long basic blocks → chains of blocks that each fit one step.
//
// A step is one forward pass, and every expert is padded to the model's layer count, so a
// block that needs more layers than the budget (--max-layers) would make every step of
// every block slow, and a block with thousands of stores would make every step emit
// thousands of memory rows. Such a block is split in two at an instruction boundary: the
// first half ends in a jump to the second, passing as block parameters every value the
// second half uses (the IR is localized, so that is all it needs) — except constants, which
// the second half re-creates rather than carry in the state token. Blocks are first cut
// after every maxStores-th store (no measuring needed), then halves are split again until
// each fits (or is a single instruction). Semantics are unchanged; the IR interpreter
// runs the split module step for step like the transformer. Cost: O(n log n) lowerings of
// a block of n instructions.

import type { Block, Func, Inst, Module, ValueId } from '../ir/ir.js';
import { instDst, instUses, mapInst, mapTerm, nextValueId, termUses } from '../ir/ir.js';

/** Whether a block may stay one step (measured by the caller: layers, stores). */
export type Fits = (f: Func, block: Block, index: number) => boolean;

/** Splits blocks[bi] before instruction `at`; the tail becomes a new block at the end. */
export function splitBlock(f: Func, bi: number, at: number): Func {
  const b = f.blocks[bi];
  const head = b.insts.slice(0, at);
  const tail = b.insts.slice(at);
  const definedInTail = new Set<ValueId>();
  const needed: ValueId[] = [];
  const seen = new Set<ValueId>();
  const use = (v: ValueId) => {
    if (!definedInTail.has(v) && !seen.has(v)) (seen.add(v), needed.push(v));
  };
  for (const i of tail) {
    instUses(i).forEach(use);
    const d = instDst(i);
    if (d !== null) definedInTail.add(d);
  }
  termUses(b.term).forEach(use);
  const consts = new Map<ValueId, number>();
  for (const i of head) if (i.op === 'iconst') consts.set(i.dst, i.value);
  const carried = needed.filter((v) => !consts.has(v));
  let next = nextValueId(f);
  const rename = new Map<ValueId, ValueId>(needed.map((v) => [v, next++]));
  const r = (v: ValueId) => rename.get(v) ?? v;
  const remade: Inst[] = needed.filter((v) => consts.has(v)).map((v) => ({ op: 'iconst', dst: r(v), value: consts.get(v)! }));
  const newIndex = f.blocks.length;
  const tailBlock: Block = { params: carried.map(r), insts: [...remade, ...tail.map((i: Inst) => mapInst(i, r))], term: mapTerm(b.term, r) };
  const headBlock: Block = { params: b.params, insts: head, term: { op: 'jump', target: { block: newIndex, args: carried } } };
  const blocks = [...f.blocks];
  blocks[bi] = headBlock;
  blocks.push(tailBlock);
  return { ...f, blocks };
}

/**
 * Cuts blocks after every `maxStores`-th store and after every output. An output must be the
 * last effect of its step (the runtime drops the byte of a step that traps, which is right
 * only if every trap of the step comes before it), so it is also cut from a terminator that
 * can trap (`trap`, and `call` on a full call stack).
 */
function cutByEffects(f0: Func, maxStores: number): Func {
  let f = f0;
  for (let bi = 0; bi < f.blocks.length; bi++) {
    let stores = 0;
    const { insts, term } = f.blocks[bi];
    for (let k = 0; k < insts.length; k++) {
      const last = k + 1 === insts.length;
      const cut = insts[k].op === 'store' ? ++stores === maxStores && !last : insts[k].op === 'output' && (!last || term.op === 'trap' || term.op === 'call');
      if (cut) {
        f = splitBlock(f, bi, k + 1); // the tail (a new block at the end) is cut in its turn
        break;
      }
    }
  }
  return f;
}

/** Splits every block of a localized module until each has at most maxStores stores and `fits` it. */
export function splitLongBlocks(mod: Module, maxStores: number, fits: Fits): Module {
  const funcs = mod.funcs.map((f0) => {
    let f = cutByEffects(f0, maxStores);
    const work = f.blocks.map((_, i) => i);
    while (work.length) {
      const bi = work.pop()!;
      const b = f.blocks[bi];
      if (fits(f, b, bi) || b.insts.length < 2) continue;
      f = splitBlock(f, bi, Math.floor(b.insts.length / 2));
      work.push(bi, f.blocks.length - 1);
    }
    return f;
  });
  return { ...mod, funcs };
}
