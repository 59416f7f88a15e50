// backend/gadgets/divide.ts — div_s, div_u, rem_s, rem_u with their trap signals (DESIGN.md §10).
//
// Long division, radix 2^k per stage (k alternating 2 and 3, see divStages), most significant
// digit first. Invariant: the partial remainder R is canonical and
// R < b'. Stage with digit d (k bits of the dividend, an affine form of its bits):
//   R' = 2^k·R + d < 2^k·b';  candidates D_j = R' − j·b' for j = 0..2^k − 1, each as limbs
//   L_j = 2^k·R.lo + d − j·b'.lo ∈ [−j·65535, 2^k·65535 + 2^k − 1] and H_j = 2^k·R.hi − j·b'.hi.
//   (A) c_j = ⌊L_j / 65536⌋ (<= 2^k + j mirrored steps, Σ <= 2·65536·Σ min(...) ≈ 7.3·10^6 for
//       k = 3; ≈ 2·10^6 for k = 2); so D_j = 65536·(H_j + c_j) + lo_j with lo_j = L_j − 65536·c_j ∈ [0, 65535].
//   (B) s_j = [D_j ≥ 0] = step(H_j + c_j ≥ 0); s is a thermometer code (b' >= 1 makes D_j
//       decreasing in j), the quotient digit is Σ s_j, and its bits are affine in s:
//       bit_m(digit) = Σ_j s_j·(bit_m(j) − bit_m(j−1)).
//   (C) the new R = D_q for the one-hot e_j = s_j − s_{j+1}: per limb Σ_j relu(x_j − M_j(1 − e_j))
//       (x_j = lo_j or H_j + c_j, M_j = max x_j; the selected candidate is in [0, b') so its limbs
//       are canonical; Σ over the hi limb <= 2^k·(2^k·65535 + 2^k) ≈ 4.2·10^6).
// Pipelined (longDivide): stage i's sublayer B also computes the next stage's carries for every
// candidate of stage i, and C selects them with R, so each stage costs two sublayers (B, C) and
// only the top stage has an A: 13 stages for 32 bits. The divisor b' = b + [b = 0] (the value of a
// division by zero is irrelevant, it traps, but every vreg must stay inside its proven range, so
// the division runs by 1 instead), copied into fresh vregs (compact forms for the j·b' terms).
// Signed: |a|, |b| from the bits by two's complement, one sublayer: |a|_i = a_i XOR (s ∧ a_0..a_{i−1}
// not all 0), each a 3-way AND of the sign, a_i and a prefix count done by one step pair
// (5 units per bit); the quotient is negated when the signs differ, the remainder when a < 0
// (sub.ts negIf, one sublayer). INT_MIN / −1 gives |a| = 2^31, q = 2^31, negated to 2^31: in
// range (it traps anyway); INT_MIN rem −1 = 0 exactly, as wasm requires (no trap).
// Traps (exact 0/1 forms): divByZero = [b = 0] = relu(1 − b.lo − b.hi) (one sublayer);
// overflow (div_s only) = [a = INT_MIN ∧ b = −1] = relu(1 − a.lo − |a.hi − 32768| − (65535 − b.lo)
// − (65535 − b.hi)) (two sublayers). Division by a constant power of two (unsigned) is a shift
// and a mask.

import type { GraphBuilder, MlpBuilder } from '../graph.js';
import type { LinForm } from '../linear.js';
import { isConst, lcomb, lconst, lvar } from '../linear.js';
import { LIMB } from '../encoding.js';
import type { IValue } from './arith.js';
import { addLazy, canon, constValue, isConstValue, limbValue } from './arith.js';
import type { BitCache } from './bits.js';
import { and, bitsOf, limbOfBits } from './bits.js';
import { shiftConst } from './shift.js';
import { negIf } from './sub.js';
import { floorDiv, gatedSum, onDemand, stepAt, tabulate } from './staircase.js';

/**
 * Digit sizes alternate 2 and 3 bits (radix 4 and 8), from bit 0 up: 13 stages for 32 bits. A
 * speculative carry's pre-activation is about P'·(4P − 2)·65536 for a stage of radix P followed
 * by one of radix P' (2^k·lo_j with lo_j = 2^k·R.lo + d − j·b'.lo − 65536·c_j), so a radix-8 stage
 * must neighbour radix-4 ones: 8·14·65536 ≈ 7.3·10^6 and 4·30·65536 ≈ 7.9·10^6, against
 * 8·30·65536 ≈ 1.6·10^7 (over 2^24 with the other terms) for two radix-8 stages.
 */
export function divStages(): Array<[number, number]> {
  const out: Array<[number, number]> = []; // [first bit, bit count]
  for (let p = 0, k = 2; p < 32; k = 5 - k) {
    const n = Math.min(k, 32 - p);
    out.push([p, n]);
    p += n;
  }
  return out.reverse(); // top first
}

export interface DivRem {
  quot: IValue;
  rem: IValue;
  /** 1 iff b = 0 (TrapCode.IntegerDivideByZero), exact. */
  divByZero: LinForm;
  /** 1 iff signed and a = INT_MIN and b = −1 (TrapCode.IntegerOverflow; only div_s traps on it). */
  overflow: LinForm;
}

const u32 = (v: IValue) => (v.lo.c + LIMB * v.hi.c) >>> 0;

/** relu(pre)·w into out (a bias when pre is constant). */
function reluTerm(m: MlpBuilder, pre: LinForm, out: number, w: number, max: number): void {
  if (isConst(pre)) m.bias(out, w * Math.max(0, pre.c));
  else m.unit(pre, [[out, w]], max);
}

/** Bits of |x| from the bits of x and its sign s (one sublayer; constants pass through). */
function absBits(g: GraphBuilder, block: number, name: string, bits: readonly LinForm[], s: LinForm): LinForm[] {
  if (isConst(s) && s.c === 0) return [...bits];
  const mk = onDemand(g, block, `${name}.abs`);
  const out: LinForm[] = [bits[0]];
  let S: LinForm = bits[0];
  for (let i = 1; i < 32; i++) {
    const ai = bits[i];
    const K = i + 1;
    const notS = lcomb([[s, -K]], K); // K(1 − s)
    const pre0 = lcomb([[S, 1], [notS, -1], [ai, -K]]); // S − K(1−s) − K·a_i
    const pre1 = lcomb([[S, 1], [notS, -1], [ai, K]], -K); // S − K(1−s) − K(1 − a_i)
    if ([ai, S, s].every(isConst)) {
      const flip = s.c === 1 && S.c >= 1 ? 1 : 0;
      out.push(lconst(ai.c ^ flip));
    } else {
      const m = mk();
      const v = g.vreg(`${name}.abs${i}`, 0, 1);
      m.bias(v, 0);
      reluTerm(m, ai, v, 1, 1);
      reluTerm(m, pre0, v, 1, i);
      reluTerm(m, lcomb([[pre0, 1]], -1), v, -1, i - 1);
      reluTerm(m, pre1, v, -1, i);
      reluTerm(m, lcomb([[pre1, 1]], -1), v, 1, i - 1);
      out.push(lvar(v));
    }
    S = lcomb([[S, 1], [ai, 1]]);
  }
  return out;
}

/** The divisor b' >= 1 as limb forms with proven limb bounds. */
interface Divisor {
  lo: LinForm;
  hi: LinForm;
  loMin: number;
  loMax: number;
  hiMin: number;
  hiMax: number;
}

/** ⌊x / 65536⌋ for x ∈ [xMin, xMax] (a constant when the range decides it). */
function carryOf(g: GraphBuilder, mk: () => MlpBuilder, name: string, x: LinForm, xMin: number, xMax: number): LinForm {
  const lo = Math.floor(xMin / LIMB);
  return lo === Math.floor(xMax / LIMB) ? lconst(lo) : floorDiv(g, mk(), name, x, xMin, xMax, LIMB);
}

/**
 * Unsigned long division of the 32-bit dividend (bits) by b' >= 1, pipelined to two sublayers
 * per stage: stage i's sign sublayer (B) also computes, for every candidate j of stage i and
 * every candidate j' of stage i+1, the carry c'_{j,j'} = ⌊(2^k·lo_j + d_{i+1} − j'·b'.lo)/65536⌋
 * (lo_j ∈ [0, 65535] is known after stage i's carries), and its select sublayer (C) selects
 * c'_{j'} = Σ_j e_j·c'_{j,j'} along with R; so stage i+1 needs no carry sublayer of its own.
 * Only the top stage has one (A).
 */
function longDivide(g: GraphBuilder, block: number, name: string, dividend: readonly LinForm[], b: Divisor, wantRem: boolean): { q: LinForm[]; rLo: LinForm; rHi: LinForm } {
  const stages = divStages();
  const digit = (si: number) => {
    const [p, n] = stages[si];
    return lcomb(dividend.slice(p, p + n).map((f, i) => [f, 2 ** i] as [LinForm, number]));
  };
  // range of L = P·lo + d − j·b'.lo for lo ∈ [0, loMax]
  const lRange = (P: number, loMax: number, j: number): [number, number] => [-j * b.loMax, P * loMax + P - 1 - j * b.loMin];
  let rLo: LinForm = lconst(0);
  let rHi: LinForm = lconst(0);
  // proven bounds of R's limbs (R < b', canonical); the forms' own fmax may be looser
  let rLoMax = 0;
  let rHiMax = 0;
  let carries: LinForm[] | null = null; // c_j of the current stage, selected by the previous one
  const q: LinForm[] = new Array<LinForm>(32).fill(lconst(0));
  stages.forEach(([p, n], si) => {
    const tag = `${name}.st${si}`;
    const P = 2 ** n;
    const d = digit(si);
    const mA = onDemand(g, block, `${tag}.carry`);
    const lo: LinForm[] = [];
    const hi: LinForm[] = [];
    const hiRange: Array<[number, number]> = [];
    for (let j = 0; j < P; j++) {
      const L = lcomb([[rLo, P], [d, 1], [b.lo, -j]]);
      const H = lcomb([[rHi, P], [b.hi, -j]]);
      const [lMin, lMax] = lRange(P, rLoMax, j);
      const c = carries ? carries[j] : carryOf(g, mA, `${tag}.c${j}`, L, lMin, lMax);
      lo.push(lcomb([[L, 1], [c, -LIMB]]));
      hi.push(lcomb([[H, 1], [c, 1]]));
      hiRange.push([-j * b.hiMax + Math.floor(lMin / LIMB), P * rHiMax - j * b.hiMin + Math.floor(lMax / LIMB)]);
    }
    const mB = onDemand(g, block, `${tag}.sign`);
    const s: LinForm[] = [lconst(1)];
    for (let j = 1; j < P; j++) {
      const x = hi[j];
      const [xMin, xMax] = hiRange[j];
      s.push(xMin >= 0 ? lconst(1) : xMax < 0 ? lconst(0) : stepAt(g, mB(), `${tag}.s${j}`, x, xMin, xMax, 0));
    }
    for (let m = 0; m < n; m++) {
      const parts: Array<[LinForm, number]> = [];
      for (let j = 1; j < P; j++) {
        const w = ((j >> m) & 1) - (((j - 1) >> m) & 1);
        if (w !== 0) parts.push([s[j], w]);
      }
      q[p + m] = lcomb(parts);
    }
    const last = si === stages.length - 1;
    if (last && !wantRem) return;
    // speculative carries of the next stage, one per (candidate j, next candidate j')
    const spec: Array<Array<{ x: LinForm; min: number; max: number }>> = [];
    if (!last) {
      const [, n2] = stages[si + 1];
      const P2 = 2 ** n2;
      const d2 = digit(si + 1);
      for (let j2 = 0; j2 < P2; j2++) {
        const [xMin, xMax] = lRange(P2, LIMB - 1, j2);
        const cMin = Math.floor(xMin / LIMB);
        const cMax = Math.floor(xMax / LIMB);
        spec.push(lo.map((loj, j) => {
          const x = lcomb([[loj, P2], [d2, 1], [b.lo, -j2]]);
          return { x: carryOf(g, mB, `${tag}.c${j}_${j2}`, x, xMin, xMax), min: cMin, max: cMax };
        }));
      }
    }
    const e = s.map((sj, j) => (j + 1 < P ? lcomb([[sj, 1], [s[j + 1], -1]]) : sj));
    const mC = onDemand(g, block, `${tag}.select`);
    rLo = gatedSum(g, mC, `${tag}.r_lo`, lo.map((x, j) => [x, e[j]] as [LinForm, LinForm]), LIMB - 1, undefined, true);
    rHi = gatedSum(g, mC, `${tag}.r_hi`, hi.map((x, j) => [x, e[j]] as [LinForm, LinForm]), b.hiMax, hiRange.map(([, mx]) => mx), true);
    rLoMax = LIMB - 1;
    rHiMax = b.hiMax;
    // c'_{j'} = Σ_j e_j·c'_{j,j'}: gate the shifted, non-negative c' − cMin, then add cMin back (Σ_j e_j = 1)
    carries = spec.map((cands, j2) => {
      const { min, max } = cands[0];
      const sel = gatedSum(g, mC, `${tag}.next_c${j2}`, cands.map((c, j) => [lcomb([[c.x, 1]], -min), e[j]] as [LinForm, LinForm]), max - min, undefined, true);
      return lcomb([[sel, 1]], min);
    });
  });
  return { q, rLo, rHi };
}

/** The stage width divideBySmall uses for C: the largest k <= 8 with 2^(2k)·C <= 2^21. */
function smallDivisorStage(C: number): number {
  let k = 2;
  while (k < 8 && 2 ** (2 * (k + 1)) * C <= 2 ** 21) k++;
  return k;
}

/**
 * Division of a 32-bit dividend by a constant 2 <= C < 65536, one sublayer per digit. The
 * remainder is a single number R ∈ [0, C − 1], so no carries are needed: with digit d of k bits,
 * x = 2^k·R + d ∈ [0, 2^k·C − 1], the digit's quotient ⌊x/C⌋ < 2^k is tabulated directly from x
 * (thresholds j·C, j < 2^k), and R' = x − C·⌊x/C⌋ is affine. The same sublayer copies x into a
 * fresh vreg xc (x >= 0), so the next R' = xc − C·digit has magnitude below 2^(k+1)·C whatever the
 * digit forms' own magnitudes (a byte digit rem() is a limb minus its high bits, about 2^17), and
 * the next pre-activation 2^k·R' + d about 2^(2k+1)·C + 2^17: k is the largest with
 * 2^(2k)·C <= 2^21 (k <= 8), i.e. 4 stages for C = 10, 5 for 100, 7 for 1000, 16 for C near
 * 65536. Output sums <= 2^(2k)·C.
 * A stage inside one limb tabulates its quotient digit as one value (it enters the limb as
 * 2^p·q, p its first bit there: one output per unit); a stage across the limb boundary, as bits.
 * digit(p, n) is the dividend's bits p..p+n−1 as a value (an affine form of its bits or bytes).
 */
function divideBySmall(g: GraphBuilder, block: number, name: string, digit: (p: number, n: number) => LinForm, C: number): { lo: LinForm; hi: LinForm; r: LinForm } {
  const k = smallDivisorStage(C);
  const stages: Array<[number, number]> = [];
  for (let p = 32; p > 0; ) {
    const n = p % k === 0 ? k : p % k;
    stages.push([p - n, n]);
    p -= n;
  }
  let R: LinForm = lconst(0);
  let rMax = 0;
  const limbs: Array<Array<[LinForm, number]>> = [[], []];
  stages.forEach(([p, n], si) => {
    const P = 2 ** n;
    const d = digit(p, n);
    const x = lcomb([[R, P], [d, 1]]);
    const xMax = P * rMax + P - 1;
    const qMax = Math.floor(xMax / C);
    const m = onDemand(g, block, `${name}.sd${si}`);
    let qv: LinForm = lconst(0);
    if (qMax > 0) {
      const points = Array.from({ length: qMax }, (_, j) => (j + 1) * C - 1);
      if (p >> 4 === (p + n - 1) >> 4) {
        const v = g.vreg(`${name}.sd${si}.q`, 0, qMax);
        tabulate(m(), x, 0, xMax, [{ v, f: (t: number) => Math.floor(t / C) }], points);
        qv = lvar(v);
        limbs[p >> 4].push([qv, 2 ** (p & 15)]);
      } else {
        const tables = Array.from({ length: n }, (_, b) => ({ v: g.vreg(`${name}.sd${si}.q${b}`, 0, 1), f: (t: number) => (Math.floor(t / C) >> b) & 1 }));
        tabulate(m(), x, 0, xMax, tables, points);
        qv = lcomb(tables.map((t, b) => [lvar(t.v), 2 ** b] as [LinForm, number]));
        tables.forEach((t, b) => limbs[(p + b) >> 4].push([lvar(t.v), 2 ** ((p + b) & 15)]));
      }
    }
    // (a stage whose digit is always 0 makes no sublayer: x passes on as it is)
    let xc: LinForm = x;
    if (qMax > 0) {
      const v = g.vreg(`${name}.sd${si}.x`, 0, xMax);
      m().unit(x, [[v, 1]], xMax);
      xc = lvar(v);
    }
    R = lcomb([[xc, 1], [qv, -C]]);
    rMax = Math.min(C - 1, xMax);
  });
  return { lo: lcomb(limbs[0]), hi: lcomb(limbs[1]), r: R };
}

/** [b = 0] (exact 0/1). */
function isZero(g: GraphBuilder, block: number, name: string, b: IValue): LinForm {
  if (isConstValue(b)) return lconst(u32(b) === 0 ? 1 : 0);
  const m = g.mlp(block, `${name}.div_zero`);
  const z = g.vreg(`${name}.div_zero`, 0, 1);
  m.bias(z, 0);
  m.unit(lcomb([[b.lo, -1], [b.hi, -1]], 1), [[z, 1]], 1);
  return lvar(z);
}

/** [a = INT_MIN ∧ b = −1] (exact 0/1). */
function isOverflow(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue): LinForm {
  if ((isConstValue(b) && u32(b) !== 0xffffffff) || (isConstValue(a) && u32(a) !== 0x80000000)) return lconst(0);
  let dist: LinForm = lcomb([[a.lo, 1], [b.lo, -1], [b.hi, -1]], 2 * (LIMB - 1));
  if (isConst(a.hi)) dist = lcomb([[dist, 1]], Math.abs(a.hi.c - 32768));
  else {
    const m = g.mlp(block, `${name}.ovf_abs`);
    const U = g.vreg(`${name}.ovf_abs`, 0, 32768);
    m.bias(U, 0);
    m.unit(lcomb([[a.hi, 1]], -32768), [[U, 1]], 32767);
    m.unit(lcomb([[a.hi, -1]], 32768), [[U, 1]], 32768);
    dist = lcomb([[dist, 1], [lvar(U), 1]]);
  }
  if (isConst(dist)) return lconst(dist.c === 0 ? 1 : 0);
  const m = g.mlp(block, `${name}.ovf`);
  const o = g.vreg(`${name}.ovf`, 0, 1);
  m.bias(o, 0);
  m.unit(lcomb([[dist, -1]], 1), [[o, 1]], 1);
  return lvar(o);
}

/**
 * Signed division by 2^k (1 <= k <= 30) without long division. σ = the sign of a:
 *   quot = (a + σ·(2^k − 1)) >> k (arithmetic shift: rounds toward zero), a lazy add, canon, shr_s;
 *   rem: m = a & (2^k − 1) (bits), t = σ ∧ [m ≠ 0] = step(m.lo + m.hi − K(1 − σ) ≥ 1) (one sublayer),
 *   rem = m + t·(2^32 − 2^k): for t = 1, m < 2^k so each limb sum stays below 65536 (no carry).
 */
function divPow2Signed(g: GraphBuilder, block: number, name: string, a: IValue, k: number, cache: BitCache | undefined, divByZero: LinForm, overflow: LinForm, wantQuot: boolean, wantRem: boolean): DivRem {
  const sigma = bitsOf(g, block, `${name}.a`, a, cache).sign();
  const bias = (2 ** k - 1) >>> 0;
  const biased = addLazy(a, { lo: lcomb([[sigma, bias & 0xffff]]), hi: lcomb([[sigma, bias >>> 16]]), loMax: bias & 0xffff, hiMax: bias >>> 16 });
  const quot = wantQuot ? shiftConst('shr_s', g, block, `${name}.q`, canon(g, block, `${name}.biased`, biased), k, cache) : constValue(0);
  if (!wantRem) return { quot, rem: constValue(0), divByZero, overflow };
  const m = and(g, block, `${name}.m`, a, constValue(bias), cache);
  const K = 2 * LIMB;
  const mm = g.mlp(block, `${name}.rem_sign`);
  const t = stepAt(g, mm, `${name}.rem_neg`, lcomb([[m.lo, 1], [m.hi, 1], [sigma, K]], -K), -K, 2 * (LIMB - 1), 1);
  const N = (2 ** 32 - 2 ** k) >>> 0;
  const rem = limbValue(lcomb([[m.lo, 1], [t, N & 0xffff]]), lcomb([[m.hi, 1], [t, N >>> 16]]));
  return { quot, rem, divByZero, overflow };
}

function jsDivRem(a: number, b: number, signed: boolean): [number, number] {
  if (b === 0) return [0, 0];
  if (signed) {
    const x = a | 0;
    const y = b | 0;
    if (x === -(2 ** 31) && y === -1) return [x >>> 0, 0];
    return [Math.trunc(x / y) >>> 0, (x % y) >>> 0];
  }
  return [Math.floor((a >>> 0) / (b >>> 0)) >>> 0, ((a >>> 0) % (b >>> 0)) >>> 0];
}

/** Division by a constant 2 <= C < 65536 (divideBySmall on the dividend's digits; signed: on |a|, then negIf). */
function smallDivision(g: GraphBuilder, block: number, name: string, a: IValue, C: number, signed: boolean, cache: BitCache | undefined, wantRem: boolean, wantQuot: boolean): { quot: IValue; rem: IValue } {
  const ab0 = bitsOf(g, block, `${name}.a`, a, cache);
  const sa0 = signed ? ab0.sign() : lconst(0);
  let digit: (p: number, n: number) => LinForm;
  if (!signed && smallDivisorStage(C) === 8 && !ab0.complete()) {
    // byte digits: a limb's high byte from its first bit sublayer, its low byte the affine rest
    // (no sublayer for bits 0..7 of either limb)
    const bytes = ab0.limbs.flatMap((l) => [l.rem(), limbOfBits(l.hi())]);
    digit = (p) => bytes[p >> 3];
  } else {
    const dividend0 = signed ? absBits(g, block, `${name}.a`, ab0.all(), sa0) : ab0.all();
    digit = (p, n) => limbOfBits(dividend0.slice(p, p + n));
  }
  const { lo, hi, r } = divideBySmall(g, block, name, digit, C);
  let quot = limbValue(lo, hi);
  let rem: IValue = { lo: r, hi: lconst(0), loMax: C - 1, hiMax: 0 };
  if (signed) {
    if (wantQuot) quot = negIf(g, block, `${name}.quot`, quot, sa0);
    if (wantRem) rem = negIf(g, block, `${name}.rem`, rem, sa0);
  }
  return { quot, rem };
}

/**
 * Quotient and remainder of a / b (signed or unsigned), with the trap signals. Both results are
 * canonical and inside their ranges on every input (on a trap their value is meaningless).
 * wantRem = false skips the last stage's remainder selection (div alone); wantQuot = false lets
 * the power-of-two paths skip the quotient (rem alone). A result not wanted may be returned as 0.
 */
export function divRem(g: GraphBuilder, block: number, name: string, a0: IValue, b0: IValue, signed: boolean, cache?: BitCache, wantRem = true, wantQuot = true): DivRem {
  const a = canon(g, block, `${name}.a`, a0);
  const b = canon(g, block, `${name}.b`, b0);
  // a / C and a % C of one a share one gadget (compilers spell a % C as a − (a / C)·C beside the
  // a / C, which lower_block.ts remainderSpelledOut lowers as the rem): it is built once with both
  // results, and the nodes only the result nobody reads needs are pruned with the graph (ir_to_graph.ts)
  if (cache && isConstValue(b) && !isConstValue(a)) return cache.derive(a, `${signed ? 'div_s' : 'div_u'}:${u32(b)}`, () => divRemOf(g, block, name, a, b, signed, cache, true, true));
  return divRemOf(g, block, name, a, b, signed, cache, wantRem, wantQuot);
}

/** divRem of canonical operands, not shared. */
function divRemOf(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, signed: boolean, cache: BitCache | undefined, wantRem: boolean, wantQuot: boolean): DivRem {
  const divByZero = isZero(g, block, name, b);
  const overflow = signed ? isOverflow(g, block, name, a, b) : lconst(0);
  if (isConstValue(a) && isConstValue(b)) {
    const [qv, rv] = jsDivRem(u32(a), u32(b), signed);
    return { quot: constValue(qv), rem: constValue(rv), divByZero, overflow };
  }
  if (signed && isConstValue(b)) {
    const C = u32(b);
    if (C >= 2 && C <= 2 ** 30 && (C & (C - 1)) === 0) return divPow2Signed(g, block, name, a, 31 - Math.clz32(C), cache, divByZero, overflow, wantQuot, wantRem);
  }
  if (!signed && isConstValue(b)) {
    const C = u32(b);
    if (C !== 0 && (C & (C - 1)) === 0) {
      const sh = 31 - Math.clz32(C);
      return { quot: shiftConst('shr_u', g, block, name, a, sh, cache), rem: and(g, block, name, a, constValue(C - 1), cache), divByZero, overflow };
    }
  }
  if (isConstValue(b) && !isConstValue(a) && u32(b) >= 2 && u32(b) < LIMB) {
    return { ...smallDivision(g, block, name, a, u32(b), signed, cache, wantRem, wantQuot), divByZero, overflow };
  }

  const ab = bitsOf(g, block, `${name}.a`, a, cache);
  let dividend = ab.all();
  let sa: LinForm = lconst(0);
  let sb: LinForm = lconst(0);
  let divisor: Divisor;
  if (signed) {
    sa = ab.sign();
    dividend = absBits(g, block, `${name}.a`, dividend, sa);
    const bb = bitsOf(g, block, `${name}.b`, b, cache);
    sb = bb.sign();
    const absB = absBits(g, block, `${name}.b`, bb.all(), sb);
    divisor = { lo: lcomb([[limbOfBits(absB.slice(0, 16)), 1], [divByZero, 1]]), hi: limbOfBits(absB.slice(16)), loMin: 0, loMax: LIMB - 1, hiMin: 0, hiMax: 32768 };
  } else if (isConstValue(b)) {
    const C = u32(b) === 0 ? 1 : u32(b); // a constant zero divisor traps; divide by 1 to stay in range
    const [cl, ch] = [C & 0xffff, C >>> 16];
    divisor = { lo: lconst(cl), hi: lconst(ch), loMin: cl, loMax: cl, hiMin: ch, hiMax: ch };
  } else {
    // compact copies of b's limbs (b.lo + [b = 0]), in the same sublayer as [b = 0]
    const m = g.mlp(block, `${name}.divisor`);
    const lo = g.vreg(`${name}.divisor_lo`, 0, LIMB - 1);
    const hi = g.vreg(`${name}.divisor_hi`, 0, LIMB - 1);
    m.bias(lo, 0);
    m.bias(hi, 0);
    m.unit(b.lo, [[lo, 1]], LIMB - 1);
    m.unit(lcomb([[b.lo, -1], [b.hi, -1]], 1), [[lo, 1]], 1);
    m.unit(b.hi, [[hi, 1]], LIMB - 1);
    divisor = { lo: lvar(lo), hi: lvar(hi), loMin: 0, loMax: LIMB - 1, hiMin: 0, hiMax: LIMB - 1 };
  }
  const { q, rLo, rHi } = longDivide(g, block, name, dividend, divisor, wantRem);
  let quot = limbValue(limbOfBits(q.slice(0, 16)), limbOfBits(q.slice(16)));
  let rem = limbValue(rLo, rHi);
  if (signed) {
    let sx: LinForm;
    if (isConst(sa) || isConst(sb)) sx = isConst(sa) ? (sa.c ? lcomb([[sb, -1]], 1) : sb) : sb.c ? lcomb([[sa, -1]], 1) : sa;
    else {
      const m = g.mlp(block, `${name}.sign_xor`);
      const both = g.vreg(`${name}.signs_and`, 0, 1);
      m.bias(both, 0);
      m.unit(lcomb([[sa, 1], [sb, 1]], -1), [[both, 1]], 1);
      sx = lcomb([[sa, 1], [sb, 1], [lvar(both), -2]]);
    }
    quot = negIf(g, block, `${name}.quot`, quot, sx);
    if (wantRem) rem = negIf(g, block, `${name}.rem`, rem, sa);
  }
  return { quot, rem, divByZero, overflow };
}

export interface DivResult {
  value: IValue;
  divByZero: LinForm;
  overflow: LinForm;
}

export function divS(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache): DivResult {
  const r = divRem(g, block, name, a, b, true, cache, false);
  return { value: r.quot, divByZero: r.divByZero, overflow: r.overflow };
}
export function divU(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache): DivResult {
  const r = divRem(g, block, name, a, b, false, cache, false);
  return { value: r.quot, divByZero: r.divByZero, overflow: r.overflow };
}
export function remS(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache): DivResult {
  const r = divRem(g, block, name, a, b, true, cache, true, false);
  return { value: r.rem, divByZero: r.divByZero, overflow: lconst(0) };
}
export function remU(g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache): DivResult {
  const r = divRem(g, block, name, a, b, false, cache, true, false);
  return { value: r.rem, divByZero: r.divByZero, overflow: lconst(0) };
}
