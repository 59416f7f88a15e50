// backend/gadgets/arith.ts — MLP gadgets for i32 arithmetic on 16-bit limbs.
//
// All inputs are affine forms of integer-valued vregs with known bounds; every
// pre-activation below is an integer of magnitude < 2^24 (float32-exact), and
// every gadget is built from `step(x >= k) = relu(x-k+1) - relu(x-k)`, which is
// exactly 0 or 1 on integers. DESIGN.md §Gadgets derives each one.

import { GraphBuilder } from '../graph.js';
import { LIMB, MAX_LIMB_BOUND } from '../encoding.js';
import type { LinForm, Vreg } from '../linear.js';
import { isConst, lcomb, lconst, lmax, lvar } from '../linear.js';

/** An i32 in the residual: value = (lo + 65536·hi) mod 2^32. */
export interface IValue {
  lo: LinForm;
  hi: LinForm;
}

export function constValue(v: number): IValue {
  const u = v >>> 0;
  return { lo: lconst(u & 0xffff), hi: lconst(u >>> 16) };
}

export function bounds(g: GraphBuilder, v: IValue): { lo: number; hi: number } {
  const r = (x: Vreg) => g.range(x);
  return { lo: lmax(v.lo, r), hi: lmax(v.hi, r) };
}

export function isCanonical(g: GraphBuilder, v: IValue): boolean {
  const b = bounds(g, v);
  return b.lo <= LIMB - 1 && b.hi <= LIMB - 1;
}

/** Lazy add: limbs add without carries (free: folds into the reader's weights). */
export function addLazy(a: IValue, b: IValue): IValue {
  return { lo: lcomb([[a.lo, 1], [b.lo, 1]]), hi: lcomb([[a.hi, 1], [b.hi, 1]]) };
}

export function fitsLazy(g: GraphBuilder, v: IValue): boolean {
  const b = bounds(g, v);
  return b.lo <= MAX_LIMB_BOUND && b.hi <= MAX_LIMB_BOUND;
}

/**
 * canon_lo: carry = ⌊lo/65536⌋ = Σ_k step(lo >= 65536k);
 * lo' = lo - 65536·carry ∈ [0,65535], hi' = hi + carry. One MLP sublayer.
 */
export function canonLo(g: GraphBuilder, block: number, name: string, v: IValue): IValue {
  const b = bounds(g, v);
  if (b.lo <= LIMB - 1) return v;
  if (isConst(v.lo) && isConst(v.hi)) return constValue(v.lo.c + LIMB * v.hi.c);
  const m = g.mlp(block, `${name}.canon_lo`);
  const lo = g.vreg(`${name}.lo`, 0, LIMB - 1);
  const carries = Math.floor(b.lo / LIMB);
  const hi = g.vreg(`${name}.hi`, 0, b.hi + carries);
  m.unit(v.lo, [[lo, 1]]);
  if (!isConst(v.hi)) m.unit(v.hi, [[hi, 1]]);
  else m.bias(hi, v.hi.c);
  for (let k = 1; k <= carries; k++) m.step(v.lo, k * LIMB, [[lo, -LIMB], [hi, 1]]);
  return { lo: lvar(lo), hi: lvar(hi) };
}

/** canon_hi: hi' = hi - 65536·⌊hi/65536⌋ (lo must already be canonical). One MLP sublayer. */
export function canonHi(g: GraphBuilder, block: number, name: string, v: IValue): IValue {
  const b = bounds(g, v);
  if (b.hi <= LIMB - 1) return v;
  if (isConst(v.hi)) return { lo: v.lo, hi: lconst(v.hi.c % LIMB) };
  const m = g.mlp(block, `${name}.canon_hi`);
  const hi = g.vreg(`${name}.hi`, 0, LIMB - 1);
  m.unit(v.hi, [[hi, 1]]);
  for (let k = 1; k <= Math.floor(b.hi / LIMB); k++) m.step(v.hi, k * LIMB, [[hi, -LIMB]]);
  return { lo: v.lo, hi: lvar(hi) };
}

/** Full canonicalisation (0, 1 or 2 MLP sublayers). */
export function canon(g: GraphBuilder, block: number, name: string, v: IValue): IValue {
  return canonHi(g, block, name, canonLo(g, block, name, v));
}

/** nonzero(v) = step(lo + hi >= 1) for canonical v: 1 iff v != 0. */
export function nonzero(g: GraphBuilder, block: number, name: string, v: IValue): LinForm {
  const s = lcomb([[v.lo, 1], [v.hi, 1]]);
  if (isConst(s)) return lconst(s.c !== 0 ? 1 : 0);
  const m = g.mlp(block, `${name}.nonzero`);
  const c = g.vreg(`${name}.cond`, 0, 1);
  m.step(s, 1, [[c, 1]]);
  return lvar(c);
}

/**
 * The four little-endian bytes of a canonical value, in two MLP sublayers per limb x:
 * q12 = ⌊x/4096⌋ (15 steps), then q8 = ⌊(x - 4096·q12)/256⌋ (15 steps);
 * high byte = 16·q12 + q8 and low byte = x - 256·(high byte) are linear forms.
 */
export function valueBytes(g: GraphBuilder, block: number, name: string, v: IValue): LinForm[] {
  if (isConst(v.lo) && isConst(v.hi)) {
    const u = (v.lo.c + LIMB * v.hi.c) >>> 0;
    return [0, 1, 2, 3].map((i) => lconst((u >>> (8 * i)) & 0xff));
  }
  const limbs = [v.lo, v.hi];
  const q12: LinForm[] = [];
  const m1 = g.mlp(block, `${name}.bytes_hi_nibble`);
  limbs.forEach((x, k) => {
    if (isConst(x)) return void q12.push(lconst(Math.floor(x.c / 4096)));
    const q = g.vreg(`${name}.limb${k}.q12`, 0, 15);
    m1.bias(q, 0);
    for (let j = 1; j <= 15; j++) m1.step(x, 4096 * j, [[q, 1]]);
    q12.push(lvar(q));
  });
  const m2 = g.mlp(block, `${name}.bytes_lo_nibble`);
  const out: LinForm[] = [];
  limbs.forEach((x, k) => {
    const r = lcomb([[x, 1], [q12[k], -4096]]);
    let hiByte: LinForm;
    if (isConst(r)) hiByte = lconst(16 * q12[k].c + Math.floor(r.c / 256));
    else {
      const q = g.vreg(`${name}.limb${k}.q8`, 0, 15);
      m2.bias(q, 0);
      for (let j = 1; j <= 15; j++) m2.step(r, 256 * j, [[q, 1]]);
      hiByte = lcomb([[q12[k], 16], [lvar(q), 1]]);
    }
    out.push(lcomb([[x, 1], [hiByte, -256]]), hiByte);
  });
  return out;
}

/**
 * round01: turns an attention average x ∈ [0, 2^-7] ∪ [1 - 2^-7, 1 + 2^-7] into an exact bit:
 * relu(2x - 0.5) - relu(2x - 1.5) is 0 for x <= 0.25 and exactly 1 for x >= 0.75.
 */
export function round01(m: ReturnType<GraphBuilder['mlp']>, x: Vreg, out: Vreg): void {
  m.unit({ terms: new Map([[x, 2]]), c: -0.5 }, [[out, 1]]);
  m.unit({ terms: new Map([[x, 2]]), c: -1.5 }, [[out, -1]]);
}
