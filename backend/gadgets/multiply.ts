// backend/gadgets/multiply.ts — i32.mul: the low 32 bits of a·b, exact (DESIGN.md §10).
//
// With a = a0 + 2^16·a1, b = b0 + 2^16·b1 (limbs) and a's bits a_k:
//   a·b mod 2^32 = a0·b0 + 2^16·(a0·b1 + a1·b0) mod 2^32, and for each bit k of a0
//   2^k·a0_k·b0 = 2^k·a0_k·(b0 mod 2^(16−k)) + 2^16·a0_k·⌊b0 / 2^(16−k)⌋.
// So the product is LO + 2^16·(HI1 + HI2) mod 2^32 with three sums of bit-gated partial products,
// each gate relu(x − M(1 − bit)) = bit·x (x = an affine form of b's bits, M = max x):
//   LO  = Σ_k 2^k·a0_k·(b0 mod 2^(16−k))                          <= Σ_k 2^k(2^(16−k) − 1) = 983,041
//   HI1 = Σ_{k≥1} a0_k·⌊b0/2^(16−k)⌋ + Σ_k 2^k·a0_k·(b1 mod 2^(16−k)) <= 65,519 + 983,041 < 2^20
//   HI2 = Σ_k 2^k·a1_k·(b0 mod 2^(16−k))                          <= 983,041
// (terms of a0·b1 and a1·b0 at 2^32 and above are dropped: only their value mod 2^16 matters).
// Each is one output vreg of one sublayer (63 units; the weight 2^k is folded into the gated
// form, so every unit's activation is < 2^16 and each output's Σ|w|·max is the bound above).
// Next sublayer: c = ⌊LO/2^16⌋, w1 = ⌊HI1/2^16⌋, w2 = ⌊HI2/2^16⌋ (<= 15 mirrored steps each,
// Σ <= 2·65536·56 ≈ 7.3·10^6), giving the lazy value
//   lo = LO − 2^16·c ∈ [0, 65535],  hi = HI1 − 2^16·w1 + HI2 − 2^16·w2 + c <= 2·65535 + 15.
// mulLazy stops there (bits + 2 sublayers, like a lazy add it is canonicalised by its reader);
// mul adds canon_hi (one sublayer, 2 steps). A constant factor C: 0, 1, powers of two (a shift),
// C <= 16 (a lazy scale C·limb, no sublayer), otherwise the partial products are constants
// times bits, so LO, HI1, HI2 are affine forms and only the carry sublayer remains.

import type { GraphBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { lcomb } from '../linear.js';
import { LIMB, MAX_FORM_MAGNITUDE } from '../encoding.js';
import type { IValue } from './arith.js';
import { canon, constValue, fitsLazy, isConstValue } from './arith.js';
import type { BitCache } from './bits.js';
import { bitsOf, limbOfBits } from './bits.js';
import { shiftConst } from './shift.js';
import { floorDiv, fmax, fmin, gatedSum, onDemand } from './staircase.js';

const u32 = (v: IValue) => (v.lo.c + LIMB * v.hi.c) >>> 0;

/** The carry sublayer: (LO, HI1, HI2) → lazy value (lo canonical, hi <= 2·65535 + 15). */
function carries(g: GraphBuilder, block: number, name: string, LO: LinForm, HI1: LinForm, HI2: LinForm): IValue {
  const m = g.mlp(block, `${name}.mul_carry`);
  const fl = (x: LinForm, tag: string) => floorDiv(g, m, `${name}.${tag}`, x, fmin(g, x), fmax(g, x), LIMB);
  const c = fl(LO, 'carry');
  const w1 = fl(HI1, 'wrap1');
  const w2 = fl(HI2, 'wrap2');
  const hiMax = Math.min(fmax(g, HI1), LIMB - 1) + Math.min(fmax(g, HI2), LIMB - 1) + fmax(g, c);
  return {
    lo: lcomb([[LO, 1], [c, -LIMB]]),
    hi: lcomb([[HI1, 1], [w1, -LIMB], [HI2, 1], [w2, -LIMB], [c, 1]]),
    loMax: Math.min(fmax(g, LO), LIMB - 1),
    hiMax,
  };
}

/** a·C for a constant C (a canonical, not constant). */
function mulConst(g: GraphBuilder, block: number, name: string, a: IValue, C: number, cache?: BitCache): IValue {
  if (C === 0) return constValue(0);
  if (C === 1) return a;
  if ((C & (C - 1)) === 0) return shiftConst('shl', g, block, name, a, 31 - Math.clz32(C), cache);
  if (C <= 16) {
    const s: IValue = { lo: lcomb([[a.lo, C]]), hi: lcomb([[a.hi, C]]), loMax: C * a.loMax, hiMax: C * a.hiMax };
    if (fitsLazy(g, s)) return s;
  }
  const bits = bitsOf(g, block, name, a, cache).all();
  // (C·2^k) mod 2^32, split into limbs (BigInt: C·2^k exceeds 2^53)
  const term = (k: number): [number, number] => {
    const v = Number((BigInt(C) << BigInt(k)) & 0xffffffffn);
    return [v & 0xffff, v >>> 16];
  };
  const lo: Array<[LinForm, number]> = [];
  const h1: Array<[LinForm, number]> = [];
  const h2: Array<[LinForm, number]> = [];
  for (let k = 0; k < 32; k++) {
    const [tl, th] = term(k);
    if (k < 16) {
      lo.push([bits[k], tl]);
      h1.push([bits[k], th]);
    } else h2.push([bits[k], th]);
  }
  return carries(g, block, name, lcomb(lo), lcomb(h1), lcomb(h2));
}

/** i32.mul as a lazy value (lo canonical, hi <= 131085): bits + 2 sublayers (see the header). */
export function mulLazy(g: GraphBuilder, block: number, name: string, x: IValue, y: IValue, cache?: BitCache): IValue {
  const a = canon(g, block, `${name}.a`, x);
  const b = canon(g, block, `${name}.b`, y);
  if (isConstValue(a) && isConstValue(b)) return constValue(Math.imul(u32(a), u32(b)) >>> 0);
  if (isConstValue(a)) return mulConst(g, block, name, b, u32(a), cache);
  if (isConstValue(b)) return mulConst(g, block, name, a, u32(b), cache);
  const ab = bitsOf(g, block, `${name}.a`, a, cache).all();
  const bb = bitsOf(g, block, `${name}.b`, b, cache).all();
  const b0 = bb.slice(0, 16);
  const b1 = bb.slice(16, 32);
  const low = (bits: LinForm[], n: number) => limbOfBits(bits.slice(0, n)); // limb mod 2^n
  const top = (bits: LinForm[], n: number) => limbOfBits(bits.slice(16 - n, 16)); // ⌊limb / 2^(16−n)⌋
  const scale = (f: LinForm, w: number) => lcomb([[f, w]]);
  const mk = onDemand(g, block, `${name}.mul_partial`);
  const loTerms: Array<[LinForm, LinForm]> = [];
  const h1Terms: Array<[LinForm, LinForm]> = [];
  const h2Terms: Array<[LinForm, LinForm]> = [];
  for (let k = 0; k < 16; k++) {
    loTerms.push([scale(low(b0, 16 - k), 2 ** k), ab[k]]);
    if (k >= 1) h1Terms.push([top(b0, k), ab[k]]);
    h1Terms.push([scale(low(b1, 16 - k), 2 ** k), ab[k]]);
    h2Terms.push([scale(low(b0, 16 - k), 2 ** k), ab[16 + k]]);
  }
  const LO = gatedSum(g, mk, `${name}.mul_lo`, loTerms);
  const HI1 = gatedSum(g, mk, `${name}.mul_hi1`, h1Terms);
  const HI2 = gatedSum(g, mk, `${name}.mul_hi2`, h2Terms);
  if (Math.max(fmax(g, LO), fmax(g, HI1), fmax(g, HI2)) >= MAX_FORM_MAGNITUDE) throw new Error('mul: partial product bound');
  return carries(g, block, name, LO, HI1, HI2);
}

/** i32.mul with a canonical result: mulLazy + canon_hi (bits + 3 sublayers; fewer for constants). */
export function mul(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache): IValue {
  return canon(g, block, name, mulLazy(g, block, name, a, b, cache));
}


