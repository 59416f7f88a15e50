// backend/gadgets/sub.ts — i32.sub and conditional negation (DESIGN.md §10).
//
// subLazy(a, b): a − b ≡ a + (2^32 − b) with non-negative limbs and no sublayer:
//   lo = a.lo − b.lo + 65536·Kl, hi = a.hi − b.hi + 65536·Kh − Kl,
// Kl = ⌈(b.loMax + 1)/65536⌉ and Kh = ⌈(b.hiMax + Kl)/65536⌉, so both limbs are >= 0 and the
// value changes by 65536·Kl + 65536·(65536·Kh − Kl) = 2^32·Kh ≡ 0. It is a lazy sum exactly like
// addLazy's (bounds loMax + 65536·Kl, hiMax + 65536·Kh): the reader canonicalises it (canon_lo,
// canon_hi) only where it must. sub = canon(subLazy): two sublayers for canonical operands.
//
// negIf(v, s): s ? −v : v for canonical v and an exact bit s, one sublayer, canonical result:
//   lo' = lo − 2·G1 + 65536·T,            G1 = relu(lo − M(1−s)) = s·lo, T = s ∧ [lo ≥ 1]
//   hi' = hi + 65535·s − 2·G2 + U − 65536·W, G2 = s·hi, U = s ∧ [lo = 0], W = s ∧ [lo = 0 ∧ hi = 0]
// (2^32 − v = (65536 − lo) + 65536·(65535 − hi) for lo >= 1, (0, 65536 − hi) for lo = 0, hi >= 1,
// and 0 for v = 0). T = relu(lo − K(1−s)) − relu(lo − 1 − K(1−s)), U = relu(1 − lo − K(1−s)),
// W = relu(1 − lo − hi − K(1−s)) with K = 65536: every unit's pre-activation is <= 0 when s = 0.

import type { GraphBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { isConst, lcomb, lvar } from '../linear.js';
import { LIMB } from '../encoding.js';
import type { IValue } from './arith.js';
import { canon, constValue, isConstValue, limbValue } from './arith.js';

export function subLazy(a: IValue, b: IValue): IValue {
  const Kl = Math.ceil((b.loMax + 1) / LIMB);
  const Kh = Math.ceil((b.hiMax + Kl) / LIMB);
  return {
    lo: lcomb([[a.lo, 1], [b.lo, -1]], LIMB * Kl),
    hi: lcomb([[a.hi, 1], [b.hi, -1]], LIMB * Kh - Kl),
    loMax: a.loMax + LIMB * Kl,
    hiMax: a.hiMax + LIMB * Kh,
  };
}

/** i32.sub with a canonical result (canon of the lazy difference: <= 2 sublayers). */
export function sub(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue): IValue {
  if (isConstValue(a) && isConstValue(b)) return constValue((a.lo.c + LIMB * a.hi.c - (b.lo.c + LIMB * b.hi.c)) >>> 0);
  const ca = canon(g, block, `${name}.a`, a);
  const cb = canon(g, block, `${name}.b`, b);
  return canon(g, block, name, subLazy(ca, cb));
}

/** s ? −v : v (mod 2^32) for canonical v and an exact 0/1 form s; one sublayer. */
export function negIf(g: GraphBuilder, block: number, name: string, v: IValue, s: LinForm): IValue {
  if (isConst(s)) {
    if (s.c === 0) return v;
    if (isConstValue(v)) return constValue((-(v.lo.c + LIMB * v.hi.c)) >>> 0);
  }
  const K = LIMB;
  const off = lcomb([[s, K]], -K); // −K(1 − s)
  const m = g.mlp(block, `${name}.neg`);
  const G1 = g.vreg(`${name}.neg.g1`, 0, LIMB - 1);
  const G2 = g.vreg(`${name}.neg.g2`, 0, LIMB - 1);
  const T = g.vreg(`${name}.neg.t`, 0, 1);
  const U = g.vreg(`${name}.neg.u`, 0, 1);
  const W = g.vreg(`${name}.neg.w`, 0, 1);
  for (const x of [G1, G2, T, U, W]) m.bias(x, 0);
  m.unit(lcomb([[v.lo, 1], [off, 1]]), [[G1, 1]], LIMB - 1);
  m.unit(lcomb([[v.hi, 1], [off, 1]]), [[G2, 1]], LIMB - 1);
  m.unit(lcomb([[v.lo, 1], [off, 1]]), [[T, 1]], LIMB - 1);
  m.unit(lcomb([[v.lo, 1], [off, 1]], -1), [[T, -1]], LIMB - 2);
  m.unit(lcomb([[v.lo, -1], [off, 1]], 1), [[U, 1]], 1);
  m.unit(lcomb([[v.lo, -1], [v.hi, -1], [off, 1]], 1), [[W, 1]], 1);
  return limbValue(
    lcomb([[v.lo, 1], [lvar(G1), -2], [lvar(T), LIMB]]),
    lcomb([[v.hi, 1], [s, LIMB - 1], [lvar(G2), -2], [lvar(U), 1], [lvar(W), -LIMB]]),
  );
}
