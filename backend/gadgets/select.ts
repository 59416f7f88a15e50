// backend/gadgets/select.ts — select (cond ? a : b) on canonical i32 values (DESIGN.md §10).
//
// s = [cond ≠ 0]: the condition itself when it is already 0/1 (a comparison result), else
// nonzero(cond) = step(lo + hi ≥ 1) (one sublayer, 2 units). Then per limb, one sublayer:
//   out = relu(a − 65535·(1 − s)) + relu(b − 65535·s)
// one vreg ∈ [0, 65535] (exactly one gate is open; a closed gate's pre-activation is <= 0;
// Σ|w|·max = 2·65535). A constant limb gates linearly (C·s), so a select between two
// constants with a 0/1 condition costs no sublayer at all.

import type { GraphBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { lcomb } from '../linear.js';
import { LIMB } from '../encoding.js';
import type { IValue } from './arith.js';
import { canon, limbValue, nonzero } from './arith.js';
import { isBool } from './bits.js';
import { gatedSum, onDemand } from './staircase.js';

/** The exact 0/1 truth of an i32 condition. */
export function truth(g: GraphBuilder, block: number, name: string, cond: IValue): LinForm {
  const c = canon(g, block, `${name}.cond`, cond);
  return isBool(g, c) ? c.lo : nonzero(g, block, name, c);
}

/** cond ? a : b given an exact 0/1 form s. One sublayer (none when both limbs are constants). */
export function selectBit(g: GraphBuilder, block: number, name: string, s: LinForm, a: IValue, b: IValue): IValue {
  const ca = canon(g, block, `${name}.a`, a);
  const cb = canon(g, block, `${name}.b`, b);
  const notS = lcomb([[s, -1]], 1);
  const m = onDemand(g, block, `${name}.select`);
  const limb = (x: LinForm, y: LinForm, k: number): LinForm =>
    gatedSum(g, m, `${name}.sel${k}`, [[x, s], [y, notS]], LIMB - 1);
  return limbValue(limb(ca.lo, cb.lo, 0), limb(ca.hi, cb.hi, 1));
}

/** select: cond ? a : b for an i32 condition (wasm `select` and `if` value merges). */
export function select(g: GraphBuilder, block: number, name: string, cond: IValue, a: IValue, b: IValue): IValue {
  return selectBit(g, block, name, truth(g, block, name, cond), a, b);
}
