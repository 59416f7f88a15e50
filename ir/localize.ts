// ir/localize.ts — make every block self-contained (the form the backend needs).
//
// A transformer step sees only the state token: the program counter and the
// current block's parameters. So every value a block uses must be a block
// parameter or defined in the block itself. This pass computes live-in sets
// (backward dataflow over the CFG) and turns each live-in value that is not
// already a parameter into a new parameter, passed along every incoming edge.
// Semantics are unchanged; ValueIds stay unique within each function.

import type { Block, BlockTarget, Func, Module, ValueId } from './ir.js';
import { instDst, instUses, mapInst, mapTerm, nextValueId, termTargets, termUses } from './ir.js';

function liveIns(f: Func): Array<Set<ValueId>> {
  const defs = f.blocks.map((b) => {
    const s = new Set<ValueId>(b.params);
    for (const i of b.insts) {
      const d = instDst(i);
      if (d !== null) s.add(d);
    }
    return s;
  });
  const upward = f.blocks.map((b, bi) => {
    const s = new Set<ValueId>();
    const local = new Set<ValueId>(b.params);
    const use = (v: ValueId) => {
      if (!local.has(v)) s.add(v);
    };
    for (const i of b.insts) {
      instUses(i).forEach(use);
      const d = instDst(i);
      if (d !== null) local.add(d);
    }
    termUses(b.term).forEach(use);
    void bi;
    return s;
  });
  const live = f.blocks.map((_, i) => new Set<ValueId>(upward[i]));
  let changed = true;
  while (changed) {
    changed = false;
    for (let bi = f.blocks.length - 1; bi >= 0; bi--) {
      for (const t of termTargets(f.blocks[bi].term)) {
        for (const v of live[t.block]) {
          if (!defs[bi].has(v) && !live[bi].has(v)) {
            live[bi].add(v);
            changed = true;
          }
        }
      }
    }
  }
  // live-ins that are already parameters need nothing
  return live.map((s, bi) => new Set([...s].filter((v) => !f.blocks[bi].params.includes(v))));
}

export function localizeFunc(f: Func): Func {
  const extra = liveIns(f).map((s) => [...s].sort((a, b) => a - b));
  if (extra.every((e) => e.length === 0)) return f;
  let next = nextValueId(f);
  const blocks: Block[] = f.blocks.map((b, bi) => {
    const rename = new Map<ValueId, ValueId>();
    const newParams = extra[bi].map((v) => {
      const p = next++;
      rename.set(v, p);
      return p;
    });
    const r = (v: ValueId) => rename.get(v) ?? v;
    const extend = (t: BlockTarget): BlockTarget => ({ block: t.block, args: [...t.args, ...extra[t.block].map(r)] });
    return { params: [...b.params, ...newParams], insts: b.insts.map((i) => mapInst(i, r)), term: mapTerm(b.term, r, extend) };
  });
  return { ...f, blocks };
}

export function localizeModule(m: Module): Module {
  return { ...m, funcs: m.funcs.map(localizeFunc) };
}
