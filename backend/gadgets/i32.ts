// backend/gadgets/i32.ts — one table of i32 gadgets per IR op code, with a uniform signature (DESIGN.md §10).
//
// Codes are the wasm mnemonic tails. Every entry takes canonical or lazy IValues (each gadget
// canonicalises its operands itself; canon of a canonical value costs nothing) and returns a
// canonical value plus the trap signals it raises: exact 0/1 affine forms, one per TrapCode.
// The BitCache (optional) shares bit decompositions between ops of one graph: pass the same
// cache, and the same IValue object for the same value, to every call.

import type { GraphBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { TrapCode } from '../../format/errors.js';
import type { IValue } from './arith.js';
import { addLazy, canon } from './arith.js';
import type { BitCache } from './bits.js';
import { bitwise, clz, ctz, extend16s, extend8s, popcnt } from './bits.js';
import { compare, eqz } from './compare.js';
import { divRem } from './divide.js';
import { mul } from './multiply.js';
import { shift } from './shift.js';
import { sub } from './sub.js';

export interface I32Result {
  value: IValue;
  /** Trap signals raised by this op (empty for ops that cannot trap). */
  traps: Array<{ code: TrapCode; signal: LinForm }>;
}

export type I32BinaryCode =
  | 'add' | 'sub' | 'mul' | 'div_s' | 'div_u' | 'rem_s' | 'rem_u'
  | 'and' | 'or' | 'xor' | 'shl' | 'shr_s' | 'shr_u' | 'rotl' | 'rotr'
  | 'eq' | 'ne' | 'lt_s' | 'lt_u' | 'gt_s' | 'gt_u' | 'le_s' | 'le_u' | 'ge_s' | 'ge_u';
export type I32UnaryCode = 'eqz' | 'clz' | 'ctz' | 'popcnt' | 'extend8_s' | 'extend16_s';

export type I32BinaryGadget = (g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache) => I32Result;
export type I32UnaryGadget = (g: GraphBuilder, block: number, name: string, a: IValue, cache?: BitCache) => I32Result;

const plain = (value: IValue): I32Result => ({ value, traps: [] });

function division(signed: boolean, rem: boolean): I32BinaryGadget {
  return (g, block, name, a, b, cache) => {
    const r = divRem(g, block, name, a, b, signed, cache, rem, !rem);
    const traps = [{ code: TrapCode.IntegerDivideByZero, signal: r.divByZero }];
    if (signed && !rem) traps.push({ code: TrapCode.IntegerOverflow, signal: r.overflow });
    return { value: rem ? r.rem : r.quot, traps };
  };
}

export const I32_BINARY: Readonly<Record<I32BinaryCode, I32BinaryGadget>> = {
  add: (g, block, name, a, b) => plain(canon(g, block, name, addLazy(canon(g, block, `${name}.a`, a), canon(g, block, `${name}.b`, b)))),
  sub: (g, block, name, a, b) => plain(sub(g, block, name, a, b)),
  mul: (g, block, name, a, b, cache) => plain(mul(g, block, name, a, b, cache)),
  div_s: division(true, false),
  div_u: division(false, false),
  rem_s: division(true, true),
  rem_u: division(false, true),
  and: (g, block, name, a, b, cache) => plain(bitwise('and', g, block, name, a, b, cache)),
  or: (g, block, name, a, b, cache) => plain(bitwise('or', g, block, name, a, b, cache)),
  xor: (g, block, name, a, b, cache) => plain(bitwise('xor', g, block, name, a, b, cache)),
  shl: (g, block, name, a, b, cache) => plain(shift('shl', g, block, name, a, b, cache)),
  shr_s: (g, block, name, a, b, cache) => plain(shift('shr_s', g, block, name, a, b, cache)),
  shr_u: (g, block, name, a, b, cache) => plain(shift('shr_u', g, block, name, a, b, cache)),
  rotl: (g, block, name, a, b, cache) => plain(shift('rotl', g, block, name, a, b, cache)),
  rotr: (g, block, name, a, b, cache) => plain(shift('rotr', g, block, name, a, b, cache)),
  eq: (g, block, name, a, b) => plain(compare('eq', g, block, name, a, b)),
  ne: (g, block, name, a, b) => plain(compare('ne', g, block, name, a, b)),
  lt_s: (g, block, name, a, b) => plain(compare('lt_s', g, block, name, a, b)),
  lt_u: (g, block, name, a, b) => plain(compare('lt_u', g, block, name, a, b)),
  gt_s: (g, block, name, a, b) => plain(compare('gt_s', g, block, name, a, b)),
  gt_u: (g, block, name, a, b) => plain(compare('gt_u', g, block, name, a, b)),
  le_s: (g, block, name, a, b) => plain(compare('le_s', g, block, name, a, b)),
  le_u: (g, block, name, a, b) => plain(compare('le_u', g, block, name, a, b)),
  ge_s: (g, block, name, a, b) => plain(compare('ge_s', g, block, name, a, b)),
  ge_u: (g, block, name, a, b) => plain(compare('ge_u', g, block, name, a, b)),
};

export const I32_UNARY: Readonly<Record<I32UnaryCode, I32UnaryGadget>> = {
  eqz: (g, block, name, a) => plain(eqz(g, block, name, a)),
  clz: (g, block, name, a) => plain(clz(g, block, name, a)),
  ctz: (g, block, name, a, cache) => plain(ctz(g, block, name, a, cache)),
  popcnt: (g, block, name, a, cache) => plain(popcnt(g, block, name, a, cache)),
  extend8_s: (g, block, name, a, cache) => plain(extend8s(g, block, name, a, cache)),
  extend16_s: (g, block, name, a, cache) => plain(extend16s(g, block, name, a, cache)),
};
