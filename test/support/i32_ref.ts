// test/support/i32_ref.ts — exact JS semantics of every i32 op (the oracle for the gadget tests).
//
// Values are unsigned 32-bit numbers (0..2^32−1). Division by zero and div_s INT_MIN / −1
// return the trap code instead of a value.

import { TrapCode } from '../../format/errors.js';
import type { I32BinaryCode, I32UnaryCode } from '../../backend/gadgets/i32.js';

export type RefResult = { value: number } | { trap: TrapCode };

const s32 = (x: number) => x | 0;
const u32 = (x: number) => x >>> 0;

export function refBinary(op: I32BinaryCode, a: number, b: number): RefResult {
  const x = u32(a);
  const y = u32(b);
  const v = (n: number | boolean): RefResult => ({ value: u32(typeof n === 'boolean' ? (n ? 1 : 0) : n) });
  const c = y & 31;
  switch (op) {
    case 'add': return v(x + y);
    case 'sub': return v(x - y);
    case 'mul': return v(Math.imul(x, y));
    case 'div_u': return y === 0 ? { trap: TrapCode.IntegerDivideByZero } : v(Math.floor(x / y));
    case 'rem_u': return y === 0 ? { trap: TrapCode.IntegerDivideByZero } : v(x % y);
    case 'div_s':
      if (y === 0) return { trap: TrapCode.IntegerDivideByZero };
      if (s32(x) === -(2 ** 31) && s32(y) === -1) return { trap: TrapCode.IntegerOverflow };
      return v(Math.trunc(s32(x) / s32(y)));
    case 'rem_s':
      if (y === 0) return { trap: TrapCode.IntegerDivideByZero };
      if (s32(y) === -1) return v(0);
      return v(s32(x) % s32(y));
    case 'and': return v(x & y);
    case 'or': return v(x | y);
    case 'xor': return v(x ^ y);
    case 'shl': return v(x << c);
    case 'shr_s': return v(s32(x) >> c);
    case 'shr_u': return v(x >>> c);
    case 'rotl': return v(c === 0 ? x : (x << c) | (x >>> (32 - c)));
    case 'rotr': return v(c === 0 ? x : (x >>> c) | (x << (32 - c)));
    case 'eq': return v(x === y);
    case 'ne': return v(x !== y);
    case 'lt_s': return v(s32(x) < s32(y));
    case 'lt_u': return v(x < y);
    case 'gt_s': return v(s32(x) > s32(y));
    case 'gt_u': return v(x > y);
    case 'le_s': return v(s32(x) <= s32(y));
    case 'le_u': return v(x <= y);
    case 'ge_s': return v(s32(x) >= s32(y));
    case 'ge_u': return v(x >= y);
  }
}

export function refUnary(op: I32UnaryCode, a: number): number {
  const x = u32(a);
  switch (op) {
    case 'eqz': return x === 0 ? 1 : 0;
    case 'clz': return Math.clz32(x);
    case 'ctz': return x === 0 ? 32 : 31 - Math.clz32(x & -x);
    case 'popcnt': {
      let n = 0;
      for (let i = 0; i < 32; i++) n += (x >>> i) & 1;
      return n;
    }
    case 'extend8_s': return u32((x << 24) >> 24);
    case 'extend16_s': return u32((x << 16) >> 16);
  }
}
