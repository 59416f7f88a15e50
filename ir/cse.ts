// ir/cse.ts — block-local common-subexpression elimination for pure instructions.
//
// Within a block, a second `iconst c` or `iadd a, b` (operands in either order)
// computing what an earlier instruction already computed is removed and its
// uses, anywhere in the function, are renamed to the earlier value (which
// dominates them: it comes first in the same block). Loads are never merged,
// since a store may come between them. Every backend gadget costs width and
// units, so duplicate address arithmetic (`a + 4` computed twice) matters.

import { mapInst, mapTerm, type Block, type Func, type Inst, type Module, type ValueId } from './ir.js';

function keyOf(i: Inst, r: (v: ValueId) => ValueId): string | null {
  if (i.op === 'iconst') return `c:${i.value | 0}`;
  if (i.op === 'iadd') {
    const [a, b] = [r(i.a), r(i.b)].sort((x, y) => x - y);
    return `a:${a},${b}`;
  }
  return null;
}

export function cseFunc(f: Func): Func {
  const rename = new Map<ValueId, ValueId>();
  const r = (v: ValueId): ValueId => rename.get(v) ?? v;
  const blocks: Block[] = f.blocks.map((b) => {
    const seen = new Map<string, ValueId>();
    const insts: Inst[] = [];
    for (const i of b.insts) {
      const key = keyOf(i, r);
      if (key !== null && i.op !== 'store') {
        const prev = seen.get(key);
        if (prev !== undefined) {
          rename.set(i.dst, prev);
          continue;
        }
        seen.set(key, i.dst);
      }
      insts.push(i);
    }
    return { ...b, insts };
  });
  if (rename.size === 0) return f;
  return { ...f, blocks: blocks.map((b) => ({ params: b.params, insts: b.insts.map((i) => mapInst(i, r)), term: mapTerm(b.term, r) })) };
}

export function cseModule(m: Module): Module {
  return { ...m, funcs: m.funcs.map(cseFunc) };
}
