// ir/poison.ts — reject IR in which the program observes a value the compiler does not compute.
//
// frontend/lower_words.ts turns float arithmetic, float comparisons, int/float
// conversions and the quotient of i64 div/rem into `poison` values. Poison is
// pure, so the IR passes delete every one whose value nothing uses (a dropped
// f32.add, an f64 local never read). What is left after simplification is
// observed: one CompileError lists each instruction (with its count and first
// function and offset), so nothing is ever approximated.

import { CompileError } from '../format/errors.js';
import type { Module } from './ir.js';

interface Use {
  what: string;
  func: string;
  offset: number;
}

/** Throws a CompileError when any poison value survived simplification. */
export function rejectObservedPoison(m: Module): void {
  const uses: Use[] = [];
  for (const f of m.funcs) {
    for (const b of f.blocks) for (const i of b.insts) if (i.op === 'poison') uses.push({ what: i.what, func: f.name, offset: i.offset });
  }
  if (uses.length === 0) return;
  uses.sort((a, b) => a.offset - b.offset);
  const groups = new Map<string, Use[]>();
  for (const u of uses) groups.set(u.what, [...(groups.get(u.what) ?? []), u]);
  const list = [...groups.entries()].map(([what, us]) => {
    const first = us[0] as Use;
    return `${what} (${us.length === 1 ? '' : `${us.length} times, first `}in function ${first.func}, byte offset 0x${first.offset.toString(16)})`;
  }).join('; ');
  const first = uses[0] as Use;
  throw new CompileError(
    `unsupported: the program uses the result of ${list}; wasmformer computes i64 exactly but f32/f64 values only as bits ` +
      '(const, load, store, select, locals, globals, calls, abs, neg, copysign, reinterpret), and i64 div/rem only for their traps',
    { instruction: first.what, func: first.func, offset: first.offset },
  );
}
