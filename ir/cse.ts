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
// (`a + 4` computed twice) matters. A remainder spelled out as a − (a / C)·C becomes a rem
// (asRemainder).

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

/**
 * `sub a, (mul (div q: a / C), C)` (either order of the mul) with the same constant C ≠ 0 is
 * a % C, as compilers expand it: a − ⌊a/C⌋·C never wraps (unsigned), and a − trunc(a/C)·C is
 * rem_s (the one case where that differs, INT_MIN / −1, makes the division trap first). As a
 * rem it shares the division's gadget (backend: one division per dividend and constant) and
 * its range [0, C − 1] is known, which the gadgets reading it use.
 */
function asRemainder(i: Inst, def: ReadonlyMap<ValueId, Inst>, r: (v: ValueId) => ValueId): Inst {
  if (i.op !== 'binary' || i.code !== 'sub') return i;
  const mul = def.get(r(i.b));
  if (mul?.op !== 'binary' || mul.code !== 'mul') return i;
  const constOf = (v: ValueId): number | null => {
    const d = def.get(r(v));
    return d?.op === 'iconst' ? d.value | 0 : null;
  };
  for (const [q, k] of [[mul.a, mul.b], [mul.b, mul.a]] as const) {
    const div = def.get(r(q));
    const C = constOf(k);
    if (div?.op !== 'binary' || (div.code !== 'div_u' && div.code !== 'div_s') || C === null || C === 0) continue;
    if (r(div.a) !== r(i.a) || constOf(div.b) !== C) continue;
    return { op: 'binary', code: div.code === 'div_u' ? 'rem_u' : 'rem_s', dst: i.dst, a: i.a, b: div.b };
  }
  return i;
}

export function cseFunc(f: Func): Func {
  const rename = new Map<ValueId, ValueId>();
  const r = (v: ValueId): ValueId => rename.get(v) ?? v;
  let rewritten = false;
  const blocks: Block[] = f.blocks.map((b) => {
    const seen = new Map<string, ValueId>();
    const def = new Map<ValueId, Inst>();
    const insts: Inst[] = [];
    for (const i0 of b.insts) {
      const i = asRemainder(i0, def, r);
      if (i !== i0) rewritten = true;
      if ('dst' in i) def.set(i.dst, i);
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
  if (rename.size === 0) return rewritten ? { ...f, blocks } : f;
  return { ...f, blocks: blocks.map((b) => ({ params: b.params, insts: b.insts.map((i) => mapInst(i, r)), term: mapTerm(b.term, r) })) };
}

export function cseModule(m: Module): Module {
  return { ...m, funcs: m.funcs.map(cseFunc) };
}
