// backend/gadgets/compare.ts — i32 comparisons: eqz, eq, ne, lt/gt/le/ge signed and unsigned (DESIGN.md §10).
//
// Every result is a canonical 0/1 value: one output vreg v ∈ {0, 1} (lo = v, hi = 0), exact on
// all canonical inputs. With t = b.hi − a.hi and u = b.lo − a.lo (both in [−65535, 65535]):
//   lt_u(a, b) = c + relu(e − c + l − 1),  c = step(t ≥ 1), e = step(t ≥ 0), l = step(u ≥ 1)
//     ([t = 0] = e − c, so the relu is [t = 0 ∧ u ≥ 1]);
//   lt_s(a, b) = lt_u(a, b) + sa − sb,  sa = step(a.hi ≥ 32768), sb likewise: when the signs
//     differ the unsigned order of the hi limbs is the reverse of the signed one, and the
//     correction makes the sum 1 (a < 0 <= b) or 0 (b < 0 <= a); c, sa, sb are copied into the
//     second sublayer's output (relu of a 0/1 value is itself).
//   eq(a, b) = relu(1 − |t| − |u|), |t| = relu(t) + relu(−t) (one vreg, Σ <= 131070);
//   ne = step(|t| + |u| ≥ 1); eqz(a) = relu(1 − a.lo − a.hi) (one sublayer, one unit).
// Two sublayers for eq/ne/lt: a one-sublayer test would need a linear form separating 2^33
// limb-difference pairs, far above 2^24. Constant operands often allow one sublayer:
//   [a <_u C] for 1 <= C <= 127: step(C − 1 − a.lo − C·a.hi ≥ 0) (Σ <= 128·65535 + 127 < 2^23);
//   [a <_u C] for C mod 65536 = 0: a tabulate of a.hi; the signed forms add step(a.hi ≥ 32768)
//   or tabulate the signed order of a.hi; [a = C] for C <= 127: [a.lo + (C+1)·a.hi = C] (3 units).
// le/gt/ge reduce to lt: gt(a,b) = lt(b,a), le(a,b) = 1 − lt(b,a), ge(a,b) = 1 − lt(a,b).

import type { GraphBuilder, MlpBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { isConst, lcomb, lconst, lvar } from '../linear.js';
import { LIMB } from '../encoding.js';
import type { IValue } from './arith.js';
import { canon, isConstValue, magnitude } from './arith.js';
import { boolValue, isBool } from './bits.js';
import { tabulate } from './staircase.js';

export type CmpOp = 'eq' | 'ne' | 'lt_s' | 'lt_u' | 'gt_s' | 'gt_u' | 'le_s' | 'le_u' | 'ge_s' | 'ge_u';

const u32 = (v: IValue) => (v.lo.c + LIMB * v.hi.c) >>> 0;
const signedHi = (h: number) => (h >= 32768 ? h - LIMB : h);

/** 1 − x for a 0/1 value x. */
function not(x: IValue): IValue {
  return boolValue(lcomb([[x.lo, -1]], 1));
}

/** Adds w·step(x ≥ k) for integer x ∈ [xMin, xMax] (2 units) to out. */
function addStep(m: MlpBuilder, x: LinForm, k: number, xMin: number, xMax: number, out: number, w: number): void {
  if (xMin >= k) return m.bias(out, w);
  if (xMax < k) return;
  tabulate(m, x, xMin, xMax, [{ v: out, f: (t) => (t >= k ? w : 0) }], [k - 1]);
}

/** eqz: relu(1 − lo − hi), one unit; free (1 − x) for a value already 0/1. */
export function eqz(g: GraphBuilder, block: number, name: string, a: IValue): IValue {
  const v = canon(g, block, name, a);
  if (isConstValue(v)) return boolValue(lconst(u32(v) === 0 ? 1 : 0));
  if (isBool(g, v)) return not(v);
  const m = g.mlp(block, `${name}.eqz`);
  const out = g.vreg(`${name}.eqz`, 0, 1);
  m.bias(out, 0);
  m.unit(lcomb([[v.lo, -1], [v.hi, -1]], 1), [[out, 1]], 1);
  return boolValue(lvar(out));
}

/** [a = b] (ne: 1 − eq computed as a step, same cost). */
function equal(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, wantNe: boolean): IValue {
  if (isConstValue(a) && !isConstValue(b)) return equal(g, block, name, b, a, wantNe);
  if (isConstValue(b)) {
    const C = u32(b);
    if (isConstValue(a)) return boolValue(lconst((u32(a) === C) !== wantNe ? 1 : 0));
    if (C === 0) {
      const z = eqz(g, block, name, a);
      return wantNe ? not(z) : z;
    }
    if (C <= 127 && magnitude(g, lcomb([[a.lo, 1], [a.hi, C + 1]])) + C < 2 ** 23) {
      // y = lo + (C+1)·hi >= 0 equals C iff hi = 0 and lo = C
      const m = g.mlp(block, `${name}.eq_const`);
      const out = g.vreg(`${name}.${wantNe ? 'ne' : 'eq'}`, 0, 1);
      const y = lcomb([[a.lo, 1], [a.hi, C + 1]]);
      const yMax = LIMB - 1 + (C + 1) * (LIMB - 1);
      tabulate(m, y, 0, yMax, [{ v: out, f: (t) => ((t === C) !== wantNe ? 1 : 0) }], [C - 1, C]);
      return boolValue(lvar(out));
    }
  }
  const t = lcomb([[b.hi, 1], [a.hi, -1]]);
  const u = lcomb([[b.lo, 1], [a.lo, -1]]);
  const m1 = g.mlp(block, `${name}.absdiff`);
  const abs = (f: LinForm, tag: string): LinForm => {
    if (isConst(f)) return lconst(Math.abs(f.c));
    const v = g.vreg(`${name}.${tag}`, 0, LIMB - 1);
    m1.bias(v, 0);
    m1.unit(f, [[v, 1]], LIMB - 1);
    m1.unit(lcomb([[f, -1]]), [[v, 1]], LIMB - 1);
    return lvar(v);
  };
  const s = lcomb([[abs(t, 'abs_hi'), 1], [abs(u, 'abs_lo'), 1]]);
  const m2 = g.mlp(block, `${name}.${wantNe ? 'ne' : 'eq'}`);
  const out = g.vreg(`${name}.${wantNe ? 'ne' : 'eq'}`, 0, 1);
  m2.bias(out, 0);
  if (wantNe) {
    m2.unit(s, [[out, 1]], 2 * (LIMB - 1));
    m2.unit(lcomb([[s, 1]], -1), [[out, -1]], 2 * (LIMB - 1) - 1);
  } else m2.unit(lcomb([[s, -1]], 1), [[out, 1]], 1);
  return boolValue(lvar(out));
}

export function eq(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue): IValue {
  return equal(g, block, name, canon(g, block, `${name}.a`, a), canon(g, block, `${name}.b`, b), false);
}

export function ne(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue): IValue {
  return equal(g, block, name, canon(g, block, `${name}.a`, a), canon(g, block, `${name}.b`, b), true);
}

/** [a < C] for a constant C, in one sublayer when C allows it (see the header); null otherwise. */
function lessConst(g: GraphBuilder, block: number, name: string, a: IValue, C: number, signed: boolean): IValue | null {
  const Cs = signed ? C | 0 : C >>> 0;
  if (signed ? Cs === -(2 ** 31) : Cs === 0) return boolValue(lconst(0));
  const Cl = C & 0xffff;
  const Ch = C >>> 16;
  if (Cl === 0) {
    // depends on hi alone
    const m = g.mlp(block, `${name}.lt_const`);
    const out = g.vreg(`${name}.lt`, 0, 1);
    const f = signed ? (h: number) => (signedHi(h) < signedHi(Ch) ? 1 : 0) : (h: number) => (h < Ch ? 1 : 0);
    tabulate(m, a.hi, 0, LIMB - 1, [{ v: out, f }], [Ch - 1, 32767]);
    return boolValue(lvar(out));
  }
  if (Cs >= 1 && Cs <= 127 && magnitude(g, lcomb([[a.lo, 1], [a.hi, Cs]])) + Cs < 2 ** 23) {
    const m = g.mlp(block, `${name}.lt_const`);
    const out = g.vreg(`${name}.lt`, 0, 1);
    const y = lcomb([[a.lo, -1], [a.hi, -Cs]], Cs - 1);
    addStep(m, y, 0, -(LIMB - 1) * (Cs + 1), Cs - 1, out, 1);
    if (signed) addStep(m, a.hi, 32768, 0, LIMB - 1, out, 1);
    else m.bias(out, 0);
    return boolValue(lvar(out));
  }
  return null;
}

/** [a < b], two sublayers (see the header). */
function less(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, signed: boolean): IValue {
  if (isConstValue(a) && isConstValue(b)) {
    const x = signed ? u32(a) | 0 : u32(a);
    const y = signed ? u32(b) | 0 : u32(b);
    return boolValue(lconst(x < y ? 1 : 0));
  }
  if (isConstValue(b)) {
    const r = lessConst(g, block, name, a, u32(b), signed);
    if (r) return r;
  }
  if (isConstValue(a)) {
    // [C < b] = 1 − [b < C + 1]
    const C = u32(a);
    if (signed ? (C | 0) === 2 ** 31 - 1 : C === 0xffffffff) return boolValue(lconst(0));
    const r = lessConst(g, block, name, b, (C + 1) >>> 0, signed);
    if (r) return not(r);
  }
  const t = lcomb([[b.hi, 1], [a.hi, -1]]);
  const u = lcomb([[b.lo, 1], [a.lo, -1]]);
  const R = LIMB - 1;
  const m1 = g.mlp(block, `${name}.cmp`);
  const c = g.vreg(`${name}.hi_gt`, 0, 1);
  const e = g.vreg(`${name}.hi_ge`, 0, 1);
  const l = g.vreg(`${name}.lo_gt`, 0, 1);
  tabulate(m1, t, -R, R, [
    { v: c, f: (x) => (x >= 1 ? 1 : 0) },
    { v: e, f: (x) => (x >= 0 ? 1 : 0) },
  ], [-1, 0]);
  tabulate(m1, u, -R, R, [{ v: l, f: (x) => (x >= 1 ? 1 : 0) }], [0]);
  const m2 = g.mlp(block, `${name}.lt`);
  const out = g.vreg(`${name}.lt`, 0, 1);
  m2.bias(out, 0);
  m2.unit(lvar(c), [[out, 1]], 1);
  m2.unit(lcomb([[lvar(e), 1], [lvar(c), -1], [lvar(l), 1]], -1), [[out, 1]], 1);
  if (signed) {
    const sa = g.vreg(`${name}.sign_a`, 0, 1);
    const sb = g.vreg(`${name}.sign_b`, 0, 1);
    const sign = (x: LinForm, v: number) => {
      if (isConst(x)) return lconst(x.c >= 32768 ? 1 : 0);
      tabulate(m1, x, 0, R, [{ v, f: (h) => (h >= 32768 ? 1 : 0) }], [32767]);
      return lvar(v);
    };
    const fa = sign(a.hi, sa);
    const fb = sign(b.hi, sb);
    for (const [f, w] of [[fa, 1], [fb, -1]] as Array<[LinForm, number]>) {
      if (isConst(f)) m2.bias(out, w * f.c);
      else m2.unit(f, [[out, w]], 1);
    }
  }
  return boolValue(lvar(out));
}

/** Any i32 comparison (canonical 0/1 result). */
export function compare(op: CmpOp, g: GraphBuilder, block: number, name: string, a0: IValue, b0: IValue): IValue {
  const a = canon(g, block, `${name}.a`, a0);
  const b = canon(g, block, `${name}.b`, b0);
  switch (op) {
    case 'eq':
      return equal(g, block, name, a, b, false);
    case 'ne':
      return equal(g, block, name, a, b, true);
    case 'lt_s':
    case 'lt_u':
      return less(g, block, name, a, b, op === 'lt_s');
    case 'gt_s':
    case 'gt_u':
      return less(g, block, name, b, a, op === 'gt_s');
    case 'le_s':
    case 'le_u':
      return not(less(g, block, name, b, a, op === 'le_s'));
    case 'ge_s':
    case 'ge_u':
      return not(less(g, block, name, a, b, op === 'ge_s'));
  }
}
