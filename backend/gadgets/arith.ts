// backend/gadgets/arith.ts — MLP gadgets for i32 arithmetic on 16-bit limbs.
//
// An IValue is two affine forms (lo, hi) over vregs with proven value bounds;
// value = (lo + 65536·hi) mod 2^32. Every gadget here is built from
// step(x >= k) = relu(x-k+1) - relu(x-k), exactly 0 or 1 on integers, and
// obeys the exactness rule checked by check_magnitudes.ts: for every
// pre-activation and every output accumulation, the sum of |term| over all
// terms stays below 2^24, so float32 computes it exactly in any order.
// Large weights never multiply unbounded activations: a gadget outputs small
// counts (carries, nibbles) and the factor 65536 or 256 appears only in the
// affine forms its readers fold into their own input weights.
// DESIGN.md §Gadgets derives each one.

import { GraphBuilder, MlpBuilder } from '../graph.js';
import { LIMB, MAX_FORM_MAGNITUDE, MAX_LIMB_BOUND } from '../encoding.js';
import type { LinForm, Vreg } from '../linear.js';
import { isConst, lcomb, lconst, lmagnitude, lvar } from '../linear.js';

/** An i32 in the residual: value = (lo + 65536·hi) mod 2^32, lo ∈ [0, loMax], hi ∈ [0, hiMax]. */
export interface IValue {
  lo: LinForm;
  hi: LinForm;
  loMax: number;
  hiMax: number;
}

export function constValue(v: number): IValue {
  const u = v >>> 0;
  return { lo: lconst(u & 0xffff), hi: lconst(u >>> 16), loMax: u & 0xffff, hiMax: u >>> 16 };
}

/** A canonical value read from two vregs (or forms) already known to be in [0, 65535]. */
export function limbValue(lo: LinForm, hi: LinForm): IValue {
  return { lo, hi, loMax: LIMB - 1, hiMax: LIMB - 1 };
}

export function isConstValue(v: IValue): boolean {
  return isConst(v.lo) && isConst(v.hi);
}

/** Lazy add: limbs add without carries (free: folds into the reader's weights). */
export function addLazy(a: IValue, b: IValue): IValue {
  return {
    lo: lcomb([[a.lo, 1], [b.lo, 1]]),
    hi: lcomb([[a.hi, 1], [b.hi, 1]]),
    loMax: a.loMax + b.loMax,
    hiMax: a.hiMax + b.hiMax,
  };
}

/** The largest partial sum a reader of f can meet (see check_magnitudes.ts). */
export function magnitude(g: GraphBuilder, f: LinForm): number {
  return lmagnitude(f, (v) => g.range(v));
}

/** Whether a lazy sum may stay lazy: value bounds for canon_lo, magnitudes for exact readers. */
export function fitsLazy(g: GraphBuilder, v: IValue): boolean {
  return v.loMax <= MAX_LIMB_BOUND && v.hiMax <= MAX_LIMB_BOUND && magnitude(g, v.lo) <= MAX_FORM_MAGNITUDE && magnitude(g, v.hi) <= MAX_FORM_MAGNITUDE;
}

/**
 * canon_lo: carry c = ⌊lo/65536⌋ = Σ_{k=1}^{K} step(lo >= 65536k), K = ⌊loMax/65536⌋,
 * plus copies L = relu(lo), H = relu(hi) (both >= 0) that make the result compact:
 * lo' = L - 65536·c ∈ [0, 65535] and hi' = H + c are affine forms of a few vregs,
 * whatever long sum lo and hi were. When hi is large too, the same sublayer also takes
 * w = ⌊hi/65536⌋ (the two staircases are independent) and hi' = H + c - 65536·w, so one
 * sublayer reduces both limbs: hi' <= 65535 + K. One MLP sublayer.
 */
export function canonLo(g: GraphBuilder, block: number, name: string, v: IValue): IValue {
  if (v.loMax <= LIMB - 1) return v;
  if (isConstValue(v)) return constValue(v.lo.c + LIMB * v.hi.c);
  const K = Math.floor(v.loMax / LIMB);
  const m = g.mlp(block, `${name}.canon_lo`);
  const c = g.vreg(`${name}.carry`, 0, K);
  const L = g.vreg(`${name}.lo_sum`, 0, v.loMax);
  m.bias(c, 0);
  m.unit(v.lo, [[L, 1]], v.loMax);
  for (let k = 1; k <= K; k++) m.step(v.lo, k * LIMB, [[c, 1]], v.loMax);
  let hi: LinForm = v.hi;
  let hiMax = v.hiMax;
  if (!isConst(v.hi)) {
    const H = g.vreg(`${name}.hi_sum`, 0, v.hiMax);
    m.unit(v.hi, [[H, 1]], v.hiMax);
    hi = lvar(H);
    const W = Math.floor(v.hiMax / LIMB);
    if (W > 0) {
      const w = g.vreg(`${name}.wrap`, 0, W);
      m.bias(w, 0);
      for (let k = 1; k <= W; k++) m.step(v.hi, k * LIMB, [[w, 1]], v.hiMax);
      hi = lcomb([[hi, 1], [lvar(w), -LIMB]]);
      hiMax = LIMB - 1;
    }
  } else if (v.hi.c > LIMB - 1) {
    hi = lconst(v.hi.c % LIMB);
    hiMax = v.hi.c % LIMB;
  }
  return {
    lo: lcomb([[lvar(L), 1], [lvar(c), -LIMB]]),
    hi: lcomb([[hi, 1], [lvar(c), 1]]),
    loMax: LIMB - 1,
    hiMax: hiMax + K,
  };
}

/** canon_hi: hi' = hi - 65536·⌊hi/65536⌋ (lo must already be canonical). One MLP sublayer. */
export function canonHi(g: GraphBuilder, block: number, name: string, v: IValue): IValue {
  if (v.hiMax <= LIMB - 1) return v;
  if (isConst(v.hi)) return { ...v, hi: lconst(v.hi.c % LIMB), hiMax: v.hi.c % LIMB };
  const K = Math.floor(v.hiMax / LIMB);
  const m = g.mlp(block, `${name}.canon_hi`);
  const q = g.vreg(`${name}.wrap`, 0, K);
  m.bias(q, 0);
  for (let k = 1; k <= K; k++) m.step(v.hi, k * LIMB, [[q, 1]], v.hiMax);
  return { ...v, hi: lcomb([[v.hi, 1], [lvar(q), -LIMB]]), hiMax: LIMB - 1 };
}

/**
 * The least work that lets a lazy sum keep growing: canon_lo when the lo limb is near its
 * bound, canon_hi when the hi limb is (hi only needs reducing mod 65536 for its own bound).
 */
export function reduceForAdd(g: GraphBuilder, block: number, name: string, v: IValue): IValue {
  let r = v;
  if (r.loMax > LIMB - 1) r = canonLo(g, block, name, r);
  if (r.hiMax > MAX_LIMB_BOUND / 2 || magnitude(g, r.hi) > MAX_FORM_MAGNITUDE / 2) r = canonHi(g, block, name, r);
  return r;
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
  m.bias(c, 0);
  m.step(s, 1, [[c, 1]], v.loMax + v.hiMax);
  return lvar(c);
}

/**
 * The four little-endian bytes of a canonical value, in two MLP sublayers per limb x:
 * q12 = ⌊x/4096⌋ (15 steps), then q8 = ⌊(x - 4096·q12)/256⌋ (15 steps);
 * high byte = 16·q12 + q8 and low byte = x - 256·(high byte) are affine forms.
 */
export function valueBytes(g: GraphBuilder, block: number, name: string, v: IValue): LinForm[] {
  if (isConstValue(v)) {
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
    for (let j = 1; j <= 15; j++) m1.step(x, 4096 * j, [[q, 1]], LIMB - 1);
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
      for (let j = 1; j <= 15; j++) m2.step(r, 256 * j, [[q, 1]], 4095);
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
export function round01(m: MlpBuilder, x: Vreg, out: Vreg): void {
  m.unit({ terms: new Map([[x, 2]]), c: -0.5 }, [[out, 1]], 2);
  m.unit({ terms: new Map([[x, 2]]), c: -1.5 }, [[out, -1]], 1);
}
