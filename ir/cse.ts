// ir/cse.ts — block-local common-subexpression elimination for pure instructions.
//
// Within a block, a second `iconst`, unary, binary or select computing what an
// earlier instruction already computed (operands of commutative operators in
// either order, per ir/instructions.ts) is removed and its uses, anywhere in
// the function, are renamed to the earlier value (which dominates them: it
// comes first in the same block). A repeated div/rem may be merged too: if the
// first traps, the second never runs. Loads, global_get and memory_size are
// never merged, since a store, global_set or memory_grow may come between.
// Every backend gadget costs width and units, so duplicate address arithmetic
// (`a + 4` computed twice) matters.

import { BINARY } from './instructions.js';
import { mapInst, mapTerm, type Block, type Func, type Inst, type Module, type ValueId } from './ir.js';

function keyOf(i: Inst, r: (v: ValueId) => ValueId): string | null {
  switch (i.op) {
    case 'iconst': return `c:${i.value | 0}`;
    case 'unary': return `u:${i.code}:${r(i.a)}`;
    case 'binary': {
      const ops = [r(i.a), r(i.b)];
      if (BINARY[i.code].commutative) ops.sort((x, y) => x - y);
      return `b:${i.code}:${ops.join(',')}`;
    }
    case 'select': return `s:${r(i.cond)},${r(i.a)},${r(i.b)}`;
    default: return null;
  }
}

export function cseFunc(f: Func): Func {
  const rename = new Map<ValueId, ValueId>();
  const r = (v: ValueId): ValueId => rename.get(v) ?? v;
  const blocks: Block[] = f.blocks.map((b) => {
    const seen = new Map<string, ValueId>();
    const insts: Inst[] = [];
    for (const i of b.insts) {
      const key = keyOf(i, r);
      if (key !== null && 'dst' in i) {
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
