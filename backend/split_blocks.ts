// backend/split_blocks.ts — long basic blocks → chains of blocks that each fit one step.
//
// A step is one forward pass, and every expert is padded to the model's layer count, so a
// block that needs more layers than the budget (--max-layers) would make every step of
// every block slow, and a block with thousands of stores would make every step emit
// thousands of memory rows. Such a block is split in two at an instruction boundary: the
// first half ends in a jump to the second, passing as block parameters every value the
// second half uses (the IR is localized, so that is all it needs) — except constants, which
// the second half re-creates rather than carry in the state token. Blocks are first cut
// after every maxStores-th store and every OUTPUTS_PER_STEP-th output (no measuring needed), then each block that does not fit is cut after its longest prefix
// that does (splitLongBlocks). Semantics are unchanged; the IR interpreter runs the split
// module step for step like the transformer.

import type { Block, Func, Inst, Module, ValueId } from '../ir/ir.js';
import { instDst, instUses, mapInst, mapTerm, nextValueId, termUses } from '../ir/ir.js';
import { OUTPUTS_PER_STEP } from '../format/token.js';

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
 * Cuts blocks after every `maxStores`-th store and after every OUTPUTS_PER_STEP-th output that
 * another follows: a step writes at most that many bytes (the token's output fields). Where an
 * output sits among the block's traps does not matter: the readout drops a byte when an access
 * before it trapped (lower_block.ts).
 */
function cutByEffects(f0: Func, maxStores: number): Func {
  let f = f0;
  for (let bi = 0; bi < f.blocks.length; bi++) {
    let stores = 0;
    let outputs = 0;
    const { insts } = f.blocks[bi];
    const lastOutput = insts.map((i) => i.op).lastIndexOf('output');
    for (let k = 0; k < insts.length; k++) {
      const last = k + 1 === insts.length;
      const cut = insts[k].op === 'store' ? ++stores === maxStores && !last : insts[k].op === 'output' && ++outputs === OUTPUTS_PER_STEP && k < lastOutput;
      if (cut) {
        f = splitBlock(f, bi, k + 1); // the tail (a new block at the end) is cut in its turn
        break;
      }
    }
  }
  return f;
}

/** A block longer than this is not measured whole: it is cut from the front straight away. */
const MEASURE_WHOLE = 256;
/** The first prefix length tried when cutting a block. */
const FIRST_PROBE = 16;

/**
 * Splits every block of a localized module until each has at most maxStores stores and `fits` it.
 * A block that does not fit is cut after its longest prefix that fits, found by galloping (16,
 * 32, 64, … instructions) and then bisecting, and its tail is cut in turn. Every probe is at most
 * twice the piece it finds, so the work is O(n log p) lowerings for pieces of p instructions,
 * and a block of thousands of instructions is never lowered whole.
 */
export function splitLongBlocks(mod: Module, maxStores: number, fits: Fits): Module {
  const funcs = mod.funcs.map((f0) => {
    let f = cutByEffects(f0, maxStores);
    const work = f.blocks.map((_, i) => i);
    while (work.length) {
      const bi = work.pop()!;
      const b = f.blocks[bi];
      const n = b.insts.length;
      // constants are re-created in a tail that uses them, so they never count as progress:
      // a block with at most one other instruction stays whole (if it does not fit, nothing does)
      const real = b.insts.filter((i) => i.op !== 'iconst').length;
      if (real < 2 || (n <= MEASURE_WHOLE && fits(f, b, bi))) continue;
      const cuts = new Map<number, Func>();
      const prefixFits = (len: number): boolean => {
        if (len >= n) return fits(f, b, bi);
        const g = splitBlock(f, bi, len);
        cuts.set(len, g);
        return fits(g, g.blocks[bi], bi);
      };
      let lo = 0; // the longest prefix known to fit (0: none yet)
      let hi = n <= MEASURE_WHOLE ? n : n + 1; // the shortest known not to fit (n + 1: none measured)
      for (let len = Math.min(FIRST_PROBE, n - 1); len < hi; len = Math.min(2 * len, hi)) {
        if (!prefixFits(len)) {
          hi = len;
          break;
        }
        lo = len;
        if (2 * len >= hi) break;
      }
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (prefixFits(mid)) lo = mid;
        else hi = mid;
      }
      if (lo >= n) continue; // it fits whole after all
      // the head holds at least one instruction that is not a constant: a single instruction
      // that does not fit becomes a step of its own, and the tail is always shorter in real work
      const firstReal = b.insts.findIndex((i) => i.op !== 'iconst');
      const at = Math.max(lo, firstReal + 1);
      f = cuts.get(at) ?? splitBlock(f, bi, at);
      work.push(f.blocks.length - 1);
    }
    return f;
  });
  return { ...mod, funcs };
}
