// backend/gadgets/shift.ts — shl, shr_s, shr_u, rotl, rotr (count mod 32) on canonical i32 (DESIGN.md §10).
//
// Every shift is a permutation of bits: result bit i = a_src(i, s), src = i − s (shl), i + s
// (shr_u), min(i + s, 31) (shr_s: the sign bit repeats), (i ∓ s) mod 32 (rotl / rotr); a missing
// source is 0. For each count s the shifted limbs X_s = Σ 2^i·a_src(i,s) are affine forms of
// a's bits with magnitude <= 65535.
//   Constant count: the result is X_s itself (no sublayer after the bits, and only the bits it
//   reads are built: shr by >= 24 reads bits 24..31 only, one sublayer). Counts 0 and, for
//   shl / shr_u / rotl / rotr, 16 need no bits at all (limbs move whole); shl by 1..5 and
//   shr_u / shr_s by 11..15 take one sublayer without bits (shiftFieldConst) unless the bits
//   already exist.
//   Variable count n: c = n mod 32 is the low 5 bits of n.lo; its one-hot e_s = [r mod 32 = s]
//   is one tabulate of r = n.lo mod 256 (the same r the bit decomposition of n has after its
//   first sublayer; ~255 shared units, Σ per output <= 8·2·255), so e is ready in sublayer 2,
//   together with a's bits. Then one sublayer selects per limb:
//     out = Σ_s relu(X_s − 65535·(1 − e_s))   (64 units, one vreg ∈ [0, 65535]: one-hot)
//   Σ|w|·max <= 32·65535 < 2^21. Total: 3 sublayers (2 + 1), ~1,900 units with a's bits.

import type { GraphBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { isConst, lcomb, lconst, lvar } from '../linear.js';
import { LIMB } from '../encoding.js';
import type { IValue } from './arith.js';
import { canon, constValue, isConstValue, limbValue } from './arith.js';
import type { BitCache, KnownBits, ValueBits } from './bits.js';
import { bitsOf, limbOfBits } from './bits.js';
import { floorPoints, gatedSum, onDemand, tabulate } from './staircase.js';

export type ShiftOp = 'shl' | 'shr_s' | 'shr_u' | 'rotl' | 'rotr';

/** Source bit index of result bit i for shift count s (0..31), or null for a zero bit. */
export function shiftSource(op: ShiftOp, i: number, s: number): number | null {
  switch (op) {
    case 'shl':
      return i - s >= 0 ? i - s : null;
    case 'shr_u':
      return i + s <= 31 ? i + s : null;
    case 'shr_s':
      return Math.min(i + s, 31);
    case 'rotl':
      return (i - s + 32) % 32;
    case 'rotr':
      return (i + s) % 32;
  }
}

function shiftConstJs(op: ShiftOp, x: number, s: number): number {
  switch (op) {
    case 'shl':
      return (x << s) >>> 0;
    case 'shr_u':
      return x >>> s;
    case 'shr_s':
      return (x >> s) >>> 0;
    case 'rotl':
      return ((x << s) | (x >>> ((32 - s) % 32))) >>> 0;
    case 'rotr':
      return ((x >>> s) | (x << ((32 - s) % 32))) >>> 0;
  }
}

/** The shifted limbs X_s as forms of the bits (bit(j) is asked only for the source bits used). */
function shifted(op: ShiftOp, bit: (j: number) => LinForm, s: number): [LinForm, LinForm] {
  const out = [0, 1].map((k) => {
    const part: LinForm[] = [];
    for (let i = 16 * k; i < 16 * k + 16; i++) {
      const j = shiftSource(op, i, s);
      part.push(j === null ? lconst(0) : bit(j));
    }
    return limbOfBits(part);
  });
  return [out[0], out[1]];
}

/**
 * One-sublayer constant shifts that move a field of at most 5 bits across the limb boundary:
 * shl by s ∈ [1, 5]: q = ⌊x/2^(16−s)⌋ per limb (2^s − 1 steps), L, H = relu copies;
 *   lo' = 2^s·L − 65536·q_lo, hi' = 2^s·H + q_lo − 65536·q_hi (magnitude < 2^(s+17) <= 2^22);
 * shr_u / shr_s by s ∈ [11, 15]: q = ⌊x/2^s⌋ (2^(16−s) − 1 steps), sign σ = step(hi ≥ 32768)
 *   lo' = q_lo + 2^(16−s)·(H − 2^s·q_hi), hi' = q_hi (+ σ·(65536 − 2^(16−s)) for shr_s).
 * Returns null when the count is not one of these.
 */
function shiftFieldConst(op: ShiftOp, g: GraphBuilder, block: number, name: string, v: IValue, s: number): IValue | null {
  const left = op === 'shl' && s >= 1 && s <= 5;
  const right = (op === 'shr_u' || op === 'shr_s') && s >= 11 && s <= 15;
  if (!left && !right) return null;
  const m = g.mlp(block, `${name}.${op}${s}`);
  const P = left ? 2 ** (16 - s) : 2 ** s;
  const part = (x: LinForm, tag: string, sign: boolean) => {
    if (isConst(x)) return { copy: x, q: lconst(Math.floor(x.c / P)), sg: lconst(x.c >= 32768 ? 1 : 0) };
    const copy = g.vreg(`${name}.${tag}.copy`, 0, LIMB - 1);
    m.unit(x, [[copy, 1]], LIMB - 1);
    const q = g.vreg(`${name}.${tag}.q`, 0, Math.floor((LIMB - 1) / P));
    const tables = [{ v: q, f: (t: number) => Math.floor(t / P) }];
    let sg: LinForm = lconst(0);
    if (sign) {
      const sv = g.vreg(`${name}.${tag}.sign`, 0, 1);
      tables.push({ v: sv, f: (t: number) => (t >= 32768 ? 1 : 0) });
      sg = lvar(sv);
    }
    tabulate(m, x, 0, LIMB - 1, tables, [...floorPoints(0, LIMB - 1, P), 32767]);
    return { copy: lvar(copy), q: lvar(q), sg };
  };
  const lo = part(v.lo, 'lo', false);
  const hi = part(v.hi, 'hi', op === 'shr_s');
  if (left) {
    return limbValue(lcomb([[lo.copy, 2 ** s], [lo.q, -LIMB]]), lcomb([[hi.copy, 2 ** s], [lo.q, 1], [hi.q, -LIMB]]));
  }
  const w = 2 ** (16 - s);
  return limbValue(
    lcomb([[lo.q, 1], [hi.copy, w], [hi.q, -w * P]]),
    lcomb([[hi.q, 1], [hi.sg, LIMB - w]]),
  );
}

/** a op (n mod 32) for a constant count. */
export function shiftConst(op: ShiftOp, g: GraphBuilder, block: number, name: string, a: IValue, count: number, cache?: BitCache): IValue {
  const s = ((count % 32) + 32) % 32;
  const v = canon(g, block, name, a);
  if (isConstValue(v)) return constValue(shiftConstJs(op, (v.lo.c + LIMB * v.hi.c) >>> 0, s));
  if (s === 0) return v;
  const vb = bitsOf(g, block, name, v, cache);
  // the result's bits are a's bits moved (bits.ts header): a later bit reader decomposes nothing new
  const seeded = (r: IValue): IValue => {
    cache?.seed(g, block, name, r, [movedBits(op, vb, s, 0), movedBits(op, vb, s, 1)]);
    return r;
  };
  // a value small enough to stay in its limb shifted left: a multiple of it (no bits, no sublayer)
  if (op === 'shl' && isConst(v.hi) && v.hi.c === 0 && v.loMax * 2 ** s <= LIMB - 1) {
    return seeded({ lo: lcomb([[v.lo, 2 ** s]]), hi: lconst(0), loMax: v.loMax * 2 ** s, hiMax: 0 });
  }
  if (s === 16 && op !== 'shr_s') {
    if (op === 'shl') return seeded(limbValue(lconst(0), v.lo));
    if (op === 'shr_u') return seeded(limbValue(v.hi, lconst(0)));
    return seeded(limbValue(v.hi, v.lo));
  }
  if (!vb.complete()) {
    const r = shiftFieldConst(op, g, block, name, v, s);
    if (r) return seeded(r);
  }
  const [lo, hi] = shifted(op, (j) => vb.bit(j), s);
  return seeded(limbValue(lo, hi));
}

/** Bits of limb k of (a op s): source bits of a, or 0 (read only when asked). */
function movedBits(op: ShiftOp, vb: ValueBits, s: number, k: 0 | 1): KnownBits {
  const bit = (i: number): LinForm => {
    const j = shiftSource(op, 16 * k + i, s);
    return j === null ? lconst(0) : vb.bit(j);
  };
  return {
    hi: () => [8, 9, 10, 11, 12, 13, 14, 15].map(bit),
    lo: () => [0, 1, 2, 3, 4, 5, 6, 7].map(bit),
    hasLo: () => vb.complete(),
  };
}

/** a op (n mod 32) for any count n. */
export function shift(op: ShiftOp, g: GraphBuilder, block: number, name: string, a: IValue, n: IValue, cache?: BitCache): IValue {
  const cn = canon(g, block, `${name}.count`, n);
  if (isConstValue(cn)) return shiftConst(op, g, block, name, a, cn.lo.c % 32, cache);
  const v = canon(g, block, name, a);
  const r = bitsOf(g, block, `${name}.count`, cn, cache).limbs[0].rem();
  const m1 = g.mlp(block, `${name}.count_onehot`);
  const e: LinForm[] = [];
  const tables = [];
  for (let s = 0; s < 32; s++) {
    const x = g.vreg(`${name}.count_is${s}`, 0, 1);
    tables.push({ v: x, f: (t: number) => (t % 32 === s ? 1 : 0) });
    e.push(lvar(x));
  }
  tabulate(m1, r, 0, 255, tables);
  if (isConstValue(v)) {
    // a constant shifted by a variable count: the one-hot weights the 32 constants linearly
    const u = (v.lo.c + LIMB * v.hi.c) >>> 0;
    const parts = [0, 1].map((k) =>
      lcomb(e.map((es, s) => [es, k === 0 ? shiftConstJs(op, u, s) & 0xffff : shiftConstJs(op, u, s) >>> 16] as [LinForm, number])),
    );
    return limbValue(parts[0], parts[1]);
  }
  const bits = bitsOf(g, block, name, v, cache).all();
  const mk = onDemand(g, block, `${name}.${op}`);
  const X = Array.from({ length: 32 }, (_, s) => shifted(op, (j) => bits[j], s));
  const limb = (k: 0 | 1) => gatedSum(g, mk, `${name}.${op}.l${k}`, X.map((x, s) => [x[k], e[s]] as [LinForm, LinForm]), LIMB - 1);
  return limbValue(limb(0), limb(1));
}
