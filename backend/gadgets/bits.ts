// backend/gadgets/bits.ts — bit decomposition and the bitwise i32 gadgets (DESIGN.md §10).
//
// Bits of a canonical limb x ∈ [0, 65535], in two MLP sublayers:
//   1. hi(): bits 8..15 by one tabulate of x (⌊x/256⌋ changes at the 255 multiples of 256;
//      ~510 merged units shared by the 8 outputs). Each output's Σ|w|·max is at most
//      2·Σ_k min(256k, 65536 − 256k) ≈ 8.4·10^6 < 2^24 (mirrored steps, staircase.ts).
//   2. lo(): r = x − Σ_{j≥8} 2^j·b_j ∈ [0, 255] (an affine form), then bits 0..7 by a
//      tabulate of r (~255 units; Σ per output < 2^16). Built only when a reader asks for it,
//      so readers of the high byte only (x & 0xff00, x >> 8, sign tests) stay one sublayer deep.
// A loaded value's limbs come with their bytes (x = b0 + 256·b1, BitCache.seedBytes): then hi()
// is one tabulate of b1 over [0, 255] (~255 units) and lo() one of b0, both in the sublayer
// after the lookup (lo() does not wait for hi()), so `load; and` takes one sublayer less.
// Every bit is a vreg that is exactly 0 or 1 on every canonical input, so bit forms have
// magnitude <= 65535 per limb whatever the input form's magnitude was.
// A decomposition named in the graph's `cheapBits` (backend/bit_slack.ts: one whose bits are
// needed later than the two sublayers give them) peels a nibble per sublayer instead, from the
// top: q = ⌊x/4096⌋ gives bits 12..15 (sublayer 1, as hi() does), ⌊(x − 4096q)/256⌋ bits 8..11
// (sublayer 2), then lo() takes ⌊r/16⌋ and r mod 16 of r = x mod 256 (sublayers 3 and 4): 15
// change points a sublayer, about 105 units and 500 entries a limb against 765 units and 5,000.
// Its steps are mirrored like hi()'s, so an output's Σ|w|·max is at most
// 2·Σ_k min(4096k, 65536 − 4096k) = 2·4096·64 = 2^19 (the quotient; each bit changes at fewer points).
//
// Bitwise ops on two variable operands take one more sublayer, per bit j, with weight 2^j into
// one output vreg per limb (Σ <= 3·65535): and_j = relu(a_j + b_j − 1),
// or_j = relu(a_j + b_j) − relu(a_j + b_j − 1), xor_j = relu(a_j + b_j) − 2·relu(a_j + b_j − 1).
// With one constant operand the result is an affine form of the other's bits (no extra
// sublayer), and limb masks 0 / 0xffff need no bits at all. 0/1 operands (comparison results)
// use one unit-level gadget without any decomposition.
//
// Chains of bit operations share bits instead of decomposing every intermediate result: a
// result whose bits are already known is seeded into the BitCache with them (KnownBits), so
// a reader of its bits pays no decomposition of its own:
//   - one constant operand: result bit j is an affine form of the other's bit j (and: x_j or 0;
//     or: x_j or 1; xor: x_j or 1 − x_j), read from the other's bits when asked;
//   - both variable: bit j is an extra output of the same units (and: relu(s − 1); or:
//     relu(s) − relu(s − 1); xor: relu(s) − 2·relu(s − 1)), one 0/1 vreg per bit, added only
//     when some reader asks for the bits (no extra units; each output's Σ|w|·max <= 3);
//   - constant shifts and rotations (shift.ts): result bit i is source bit src(i) or 0.
// Every such form is exactly 0 or 1, as the decomposition's bits are, and is ready no later:
// the source's bits never come after the result (a chain of 9 variable `or`s takes 9 + 2
// sublayers instead of 3 per op).

import type { GraphBuilder } from '../graph.js';
import type { LinForm, Vreg } from '../linear.js';
import { isConst, lcomb, lconst, lvar } from '../linear.js';
import { LIMB } from '../encoding.js';
import type { IValue } from './arith.js';
import { canon, isConstValue, limbValue } from './arith.js';
import { applyPlan, floorPoints, fmin, stepAt, tabulate, tabulatePlan } from './staircase.js';
import type { TabulatePlan } from './staircase.js';

const bitOf = (x: number, j: number) => (Math.floor(x / 2 ** j) & 1);

/** Bits 8..15 of a limb: one tabulate of x ∈ [0, 65535] that changes at the multiples of 256 (built once). */
function hiPlan(): TabulatePlan {
  const points: number[] = [];
  for (let k = 1; k < 256; k++) points.push(256 * k - 1);
  return tabulatePlan(0, LIMB - 1, [0, 1, 2, 3, 4, 5, 6, 7].map((j) => (t: number) => bitOf(t, j + 8)), points);
}
let HI_PLAN: TabulatePlan | undefined;
/** Bits 0..7 of r = x mod 256 ∈ [0, 255], or of a byte (built once). */
let LO_PLAN: TabulatePlan | undefined;
const loPlan = () => tabulatePlan(0, 255, [0, 1, 2, 3, 4, 5, 6, 7].map((j) => (t: number) => bitOf(t, j)));

/** Bits of a limb that need no decomposition of their own (see the file header). */
export interface KnownBits {
  /** Bits 8..15 (index 0 = bit 8). */
  hi(): LinForm[];
  /** Bits 0..7. */
  lo(): LinForm[];
  /** Whether reading lo() adds no sublayer. */
  hasLo(): boolean;
}

/** The bits of one canonical limb, built lazily (see the file header). */
export class LimbBits {
  private hiBits: LinForm[] | null = null;
  private loBits: LinForm[] | null = null;
  private signBit: LinForm | null = null;
  /** Cheap decompositions: the four bits from bit k, by k. */
  private readonly nibbles: LinForm[][] = [];

  constructor(
    private readonly g: GraphBuilder,
    private readonly block: number,
    readonly name: string,
    readonly x: LinForm,
    private readonly known?: KnownBits,
    /** x's two bytes (x = b0 + 256·b1, each in [0, 255]) where a load gave them. */
    private readonly bytes?: readonly [LinForm, LinForm],
  ) {}

  /** Bits 8..15 (index 0 = bit 8). One sublayer. */
  hi(): LinForm[] {
    if (this.hiBits) return this.hiBits;
    if (isConst(this.x)) return (this.hiBits = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => lconst(bitOf(this.x.c, j + 8))));
    if (this.known) return (this.hiBits = this.known.hi());
    if (this.g.cheapBits.has(this.name)) {
      const r = this.nibble(`${this.name}.bits_n3`, this.x, LIMB - 1, 12, true)!;
      this.nibble(`${this.name}.bits_n2`, r, 4095, 8, false);
      return (this.hiBits = [...this.nibbles[8], ...this.nibbles[12]]);
    }
    const m = this.g.mlp(this.block, `${this.name}.bits_hi`);
    const vs = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => this.g.vreg(`${this.name}.bit${j + 8}`, 0, 1));
    if (this.bytes) {
      if (isConst(this.bytes[1])) return (this.hiBits = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => lconst(bitOf(this.bytes![1].c, j))));
      applyPlan(m, this.bytes[1], (LO_PLAN ??= loPlan()), vs); // the high byte's bits: half hi()'s units
    } else applyPlan(m, this.x, (HI_PLAN ??= hiPlan()), vs);
    return (this.hiBits = vs.map((v) => lvar(v)));
  }

  /**
   * Bits first..first+3 of the limb from x ∈ [0, xMax], the limb's value below bit first + 4: one
   * sublayer tabulating ⌊x/2^first⌋ (15 change points); with `rest`, also returns
   * x − 2^first·⌊x/2^first⌋ (the quotient is one more output of the same units).
   */
  private nibble(role: string, x: LinForm, xMax: number, first: number, rest: boolean): LinForm | null {
    const P = 2 ** first;
    const m = this.g.mlp(this.block, role);
    const bits = [0, 1, 2, 3].map((j) => this.g.vreg(`${this.name}.bit${first + j}`, 0, 1));
    const q = rest ? this.g.vreg(`${this.name}.q${first}`, 0, Math.floor(xMax / P)) : null;
    const outs = bits.map((v, j) => ({ v, f: (t: number) => bitOf(Math.floor(t / P), j) }));
    tabulate(m, x, 0, xMax, q ? [...outs, { v: q, f: (t: number) => Math.floor(t / P) }] : outs, floorPoints(0, xMax, P));
    this.nibbles[first] = bits.map((v) => lvar(v));
    return q ? lcomb([[x, 1], [lvar(q), -P]]) : null;
  }

  /** x mod 256 as an affine form (after hi(), or the low byte itself). */
  rem(): LinForm {
    if (this.bytes) return this.bytes[0];
    return lcomb([[this.x, 1], ...this.hi().map((b, j) => [b, -(2 ** (j + 8))] as [LinForm, number])]);
  }

  /** Whether bits 0..7 already exist (readers may prefer them to a dedicated gadget). */
  hasLo(): boolean {
    return this.loBits !== null || (this.known?.hasLo() ?? false);
  }

  /** Bits 0..7. Two sublayers. */
  lo(): LinForm[] {
    if (this.loBits) return this.loBits;
    if (isConst(this.x)) return (this.loBits = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => lconst(bitOf(this.x.c, j))));
    if (this.known) return (this.loBits = this.known.lo());
    if (this.g.cheapBits.has(this.name)) {
      const r = this.nibble(`${this.name}.bits_n1`, this.rem(), 255, 4, true)!;
      this.nibble(`${this.name}.bits_n0`, r, 15, 0, false);
      return (this.loBits = [...this.nibbles[0], ...this.nibbles[4]]);
    }
    const r = this.rem();
    const m = this.g.mlp(this.block, `${this.name}.bits_lo`);
    const vs = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => this.g.vreg(`${this.name}.bit${j}`, 0, 1));
    applyPlan(m, r, (LO_PLAN ??= loPlan()), vs);
    return (this.loBits = vs.map((v) => lvar(v)));
  }

  /** All 16 bits, little-endian. */
  all(): LinForm[] {
    return [...this.lo(), ...this.hi()];
  }

  /** Bit 15 alone: from hi() when it exists, else one step (2 units, one sublayer). */
  sign(): LinForm {
    if (this.hiBits) return this.hiBits[7];
    if (!this.signBit) {
      if (isConst(this.x)) this.signBit = lconst(bitOf(this.x.c, 15));
      else this.signBit = stepAt(this.g, this.g.mlp(this.block, `${this.name}.sign`), `${this.name}.sign`, this.x, 0, LIMB - 1, 32768);
    }
    return this.signBit;
  }
}

/** The bits of a canonical i32 (limb 0 = bits 0..15, limb 1 = bits 16..31). */
export class ValueBits {
  readonly limbs: readonly [LimbBits, LimbBits];
  constructor(g: GraphBuilder, block: number, name: string, readonly value: IValue, known: readonly [KnownBits?, KnownBits?] = [], bytes?: readonly LinForm[]) {
    const pair = (k: number): [LinForm, LinForm] | undefined => (bytes ? [bytes[2 * k] ?? lconst(0), bytes[2 * k + 1] ?? lconst(0)] : undefined);
    this.limbs = [new LimbBits(g, block, `${name}.lo`, value.lo, known[0], pair(0)), new LimbBits(g, block, `${name}.hi`, value.hi, known[1], pair(1))];
  }
  /** Bit i alone (bits 8..15 of a limb need only its first sublayer). */
  bit(i: number): LinForm {
    const lb = this.limbs[i >> 4];
    const j = i & 15;
    return j >= 8 ? lb.hi()[j - 8] : lb.lo()[j];
  }
  /** Whether all 32 bits already exist (no new sublayer needed to read them). */
  complete(): boolean {
    return this.limbs.every((l) => l.hasLo() || isConst(l.x));
  }
  /** All 32 bits, little-endian (two sublayers). */
  all(): LinForm[] {
    return [...this.limbs[0].all(), ...this.limbs[1].all()];
  }
  sign(): LinForm {
    return this.limbs[1].sign();
  }
}

/**
 * Memoises ValueBits per canonical IValue object, so and/or/xor/shifts/mul/div of one value
 * share one decomposition. Keyed by object identity: pass the same IValue for the same value
 * (ir_to_graph's canonOf cache does). One cache per graph.
 */
export class BitCache {
  private readonly m = new WeakMap<IValue, ValueBits>();
  private readonly bytes = new WeakMap<IValue, readonly LinForm[]>();
  get(g: GraphBuilder, block: number, name: string, v: IValue): ValueBits {
    let b = this.m.get(v);
    if (!b) {
      b = new ValueBits(g, block, name, v, [], this.bytes.get(v));
      this.m.set(v, b);
    }
    return b;
  }

  /**
   * Records the bytes a load gave v (little-endian, each in [0, 255]; missing high bytes are 0):
   * its decomposition then takes each limb's bits from its two bytes, one sublayer for all 16
   * (a limb's lo() no longer waits for hi()), and hi() from the high byte (half the units).
   */
  seedBytes(v: IValue, bytes: readonly LinForm[]): void {
    if (!this.m.has(v)) this.bytes.set(v, bytes);
  }

  /** Records the bits a gadget's result already has (a no-op if v has bits already). */
  seed(g: GraphBuilder, block: number, name: string, v: IValue, known: readonly [KnownBits?, KnownBits?]): void {
    if (!this.m.has(v)) this.m.set(v, new ValueBits(g, block, name, v, known));
  }
  peek(v: IValue): ValueBits | undefined {
    return this.m.get(v);
  }

  private readonly derived = new WeakMap<IValue, Map<string, unknown>>();
  /**
   * A result a gadget computes from v once per graph, under `key` (a division of v by a
   * constant: its quotient and remainder share one gadget, divide.ts).
   */
  derive<T>(v: IValue, key: string, build: () => T): T {
    let m = this.derived.get(v);
    if (!m) this.derived.set(v, (m = new Map()));
    if (!m.has(key)) m.set(key, build());
    return m.get(key) as T;
  }
}

/** Bits of v (canonicalised first: v must be a canonical value for the cache to apply). */
export function bitsOf(g: GraphBuilder, block: number, name: string, v: IValue, cache?: BitCache): ValueBits {
  const c = canon(g, block, name, v);
  return cache ? cache.get(g, block, name, c) : new ValueBits(g, block, name, c);
}

/** A canonical value that is known to be 0 or 1 (lo ∈ [0, 1], hi the constant 0). */
export function isBool(g: GraphBuilder, v: IValue): boolean {
  return isConst(v.hi) && v.hi.c === 0 && v.loMax <= 1 && fmin(g, v.lo) >= 0;
}

/** The 0/1 value of a bool form. */
export function boolValue(f: LinForm): IValue {
  return { lo: f, hi: lconst(0), loMax: 1, hiMax: 0 };
}

/** Σ 2^j·bits[j] as a limb form. */
export function limbOfBits(bits: readonly LinForm[]): LinForm {
  return lcomb(bits.map((b, j) => [b, 2 ** j] as [LinForm, number]));
}

export type BitOp = 'and' | 'or' | 'xor';

const apply = (op: BitOp, x: number, y: number) => (op === 'and' ? x & y : op === 'or' ? x | y : x ^ y);

/**
 * One limb of a op C (C a constant limb) as an affine form of x's bits: per bit, and keeps x_j
 * where C_j = 1, or sets it where C_j = 1, xor flips it there. Limbs C = 0 / 0xffff need no
 * bits; a low byte of C that is 0 or 0xff needs only x mod 256 = rem() (no lo() sublayer).
 */
function limbConst(op: BitOp, lb: LimbBits, C: number): LinForm {
  if (C === 0) return op === 'and' ? lconst(0) : lb.x;
  if (C === LIMB - 1) return op === 'and' ? lb.x : op === 'or' ? lconst(C) : lcomb([[lb.x, -1]], C);
  const parts: Array<[LinForm, number]> = [];
  let c = 0;
  const perBit = (xj: LinForm, cj: number, w: number) => {
    if (op === 'and') {
      if (cj) parts.push([xj, w]);
    } else if (op === 'or') {
      if (cj) c += w;
      else parts.push([xj, w]);
    } else if (cj) {
      c += w;
      parts.push([xj, -w]);
    } else parts.push([xj, w]);
  };
  const hiB = lb.hi();
  for (let j = 8; j < 16; j++) perBit(hiB[j - 8], bitOf(C, j), 2 ** j);
  const cl = C & 0xff;
  if (cl === 0 || cl === 0xff) {
    const r = lb.rem();
    if (cl === 0) {
      if (op !== 'and') parts.push([r, 1]);
    } else if (op === 'and') parts.push([r, 1]);
    else if (op === 'or') c += 0xff;
    else {
      c += 0xff;
      parts.push([r, -1]);
    }
  } else {
    const loB = lb.lo();
    for (let j = 0; j < 8; j++) perBit(loB[j], bitOf(C, j), 2 ** j);
  }
  return lcomb(parts, c);
}

/**
 * One limb of a op b, both variable: one sublayer after both bit sets, one output vreg; its
 * bits are extra outputs of the same units, added when a reader first asks for them.
 */
function limbVar(g: GraphBuilder, block: number, name: string, op: BitOp, a: LimbBits, b: LimbBits): { x: LinForm; bits: KnownBits } {
  const ab = a.all();
  const bb = b.all();
  const m = g.mlp(block, `${name}.${op}`);
  const v = g.vreg(`${name}.${op}`, 0, LIMB - 1);
  m.bias(v, 0);
  // per bit j: the units' output lists (weight of bit j in each), kept to add bit outputs later
  const perBit: Array<Array<[Array<[Vreg, number]>, number]>> = [];
  for (let j = 0; j < 16; j++) {
    const s = lcomb([[ab[j], 1], [bb[j], 1]]);
    const w = 2 ** j;
    const both = lcomb([[s, 1]], -1);
    if (op === 'and') {
      const o: Array<[Vreg, number]> = [[v, w]];
      m.unit(both, o, 1);
      perBit.push([[o, 1]]);
    } else {
      const o1: Array<[Vreg, number]> = [[v, w]];
      const o2: Array<[Vreg, number]> = [[v, op === 'or' ? -w : -2 * w]];
      m.unit(s, o1, 2);
      m.unit(both, o2, 1);
      perBit.push([[o1, 1], [o2, op === 'or' ? -1 : -2]]);
    }
  }
  let bits: LinForm[] | null = null;
  const all = (): LinForm[] => {
    if (!bits) {
      bits = perBit.map((units, j) => {
        const bv = g.vreg(`${name}.${op}.bit${j}`, 0, 1);
        m.bias(bv, 0);
        for (const [out, w] of units) out.push([bv, w]);
        return lvar(bv);
      });
    }
    return bits;
  };
  return { x: lvar(v), bits: { hi: () => all().slice(8), lo: () => all().slice(0, 8), hasLo: () => true } };
}

/** Result bit j of (x op C) per bit of x, as a KnownBits over x's bits. */
function constBits(op: BitOp, lb: LimbBits, C: number): KnownBits {
  const f = (x: LinForm, j: number): LinForm => {
    const cj = bitOf(C, j);
    if (op === 'and') return cj ? x : lconst(0);
    if (op === 'or') return cj ? lconst(1) : x;
    return cj ? lcomb([[x, -1]], 1) : x;
  };
  return {
    hi: () => lb.hi().map((x, k) => f(x, k + 8)),
    lo: () => lb.lo().map((x, j) => f(x, j)),
    hasLo: () => lb.hasLo() || isConst(lb.x),
  };
}

/** a op b on two 0/1 values: one unit (and) or two (or, xor), one output vreg, one sublayer. */
function boolOp(g: GraphBuilder, block: number, name: string, op: BitOp, a: LinForm, b: LinForm): IValue {
  const m = g.mlp(block, `${name}.${op}`);
  const v = g.vreg(`${name}.${op}`, 0, 1);
  m.bias(v, 0);
  const s = lcomb([[a, 1], [b, 1]]);
  const both = lcomb([[s, 1]], -1);
  if (op === 'and') m.unit(both, [[v, 1]], 1);
  else {
    m.unit(s, [[v, 1]], 2);
    m.unit(both, [[v, op === 'or' ? -1 : -2]], 1);
  }
  return boolValue(lvar(v));
}

/**
 * x op C without bits when x's proven limb bounds decide it (a remainder mod 10 or a byte): per
 * limb with x ≤ M, m = 2^bitlength(M) − 1 covers every bit x may set, so `and` keeps x where C has
 * all of m and gives 0 where C has none of it, and `or` / `xor` add C where C has none of m
 * (disjoint bits: x | C = x ^ C = x + C <= 65535). Null when some limb is not decided.
 */
function byRange(op: BitOp, x: IValue, c: IValue): IValue | null {
  const limbs: Array<[LinForm, number]> = [];
  for (const [f, M, C] of [[x.lo, x.loMax, c.lo.c], [x.hi, x.hiMax, c.hi.c]] as const) {
    const m = M <= 0 ? 0 : 2 ** Math.ceil(Math.log2(M + 1)) - 1;
    if (op === 'and' && (C & m) === m) limbs.push([f, M]);
    else if (op === 'and' && (C & m) === 0) limbs.push([lconst(0), 0]);
    else if (op !== 'and' && (C & m) === 0) limbs.push([lcomb([[f, 1]], C), M + C]);
    else return null;
  }
  return { lo: limbs[0][0], hi: limbs[1][0], loMax: limbs[0][1], hiMax: limbs[1][1] };
}

/**
 * i32.and / i32.or / i32.xor. Costs: both variable: bits (2 sublayers, shared through the
 * cache) + 1; one constant: the other's bits only (0 after cached bits; a constant limb of
 * 0 or 0xffff needs nothing, and a constant whose low byte is 0 — or 0xff for or — needs only
 * the one-sublayer high byte); both 0/1: 1 sublayer.
 */
export function bitwise(op: BitOp, g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache): IValue {
  if (isConstValue(a) && isConstValue(b)) {
    const x = (a.lo.c + LIMB * a.hi.c) >>> 0;
    const y = (b.lo.c + LIMB * b.hi.c) >>> 0;
    const r = apply(op, x, y) >>> 0;
    return { lo: lconst(r & 0xffff), hi: lconst(r >>> 16), loMax: r & 0xffff, hiMax: r >>> 16 };
  }
  if (isConstValue(a)) return bitwise(op, g, block, name, b, a, cache);
  const ca = canon(g, block, `${name}.a`, a);
  const cb = canon(g, block, `${name}.b`, b);
  if (isBool(g, ca) && (isBool(g, cb) || isConstValue(cb))) {
    if (isConstValue(cb)) {
      const C = (cb.lo.c + LIMB * cb.hi.c) >>> 0;
      const c1 = C & 1;
      if (op === 'and') return c1 ? ca : boolValue(lconst(0));
      const lo = op === 'or' ? (c1 ? lconst(C & 0xffff) : lcomb([[ca.lo, 1]], C & 0xffff)) : lcomb([[ca.lo, c1 ? -1 : 1]], C & 0xffff);
      const hi = lconst(C >>> 16);
      return { lo, hi, loMax: (C & 0xffff) | 1, hiMax: C >>> 16 };
    }
    return boolOp(g, block, name, op, ca.lo, cb.lo);
  }
  if (isConstValue(cb)) {
    const r = byRange(op, ca, cb);
    if (r) return r;
  }
  const ba = bitsOf(g, block, `${name}.a`, ca, cache);
  const seeded = (limbs: Array<{ x: LinForm; bits: KnownBits }>): IValue => {
    const r = limbValue(limbs[0].x, limbs[1].x);
    cache?.seed(g, block, name, r, [limbs[0].bits, limbs[1].bits]);
    return r;
  };
  if (isConstValue(cb)) {
    const C = [cb.lo.c, cb.hi.c];
    return seeded(ba.limbs.map((lb, k) => ({ x: limbConst(op, lb, C[k]), bits: constBits(op, lb, C[k]) })));
  }
  const bb = bitsOf(g, block, `${name}.b`, cb, cache);
  return seeded(
    [0, 1].map((k) => {
      const ax = ba.limbs[k].x;
      const bx = bb.limbs[k].x;
      if (isConst(ax)) return { x: limbConst(op, bb.limbs[k], ax.c), bits: constBits(op, bb.limbs[k], ax.c) };
      if (isConst(bx)) return { x: limbConst(op, ba.limbs[k], bx.c), bits: constBits(op, ba.limbs[k], bx.c) };
      return limbVar(g, block, `${name}.l${k}`, op, ba.limbs[k], bb.limbs[k]);
    }),
  );
}

export const and = (g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache) => bitwise('and', g, block, name, a, b, cache);
export const or = (g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache) => bitwise('or', g, block, name, a, b, cache);
export const xor = (g: GraphBuilder, block: number, name: string, a: IValue, b: IValue, cache?: BitCache) => bitwise('xor', g, block, name, a, b, cache);

// ---------------------------------------------------------------- counting and sign extension

const clz16 = (x: number) => (x === 0 ? 16 : 15 - Math.floor(Math.log2(x)));

/** A small count as a canonical IValue (lo ∈ [0, max], hi = 0). */
function countValue(lo: LinForm, max: number): IValue {
  return { lo, hi: lconst(0), loMax: max, hiMax: 0 };
}

function constI32(u: number): IValue {
  const r = u >>> 0;
  return { lo: lconst(r & 0xffff), hi: lconst(r >>> 16), loMax: r & 0xffff, hiMax: r >>> 16 };
}

const valueOf = (v: IValue) => (v.lo.c + LIMB * v.hi.c) >>> 0;

/**
 * i32.clz without bits, two sublayers: (1) ch = clz16(hi), cl = clz16(lo) (tabulates that change
 * only at the 16 powers of two: ~32 units each, Σ < 2^17) and z = [hi = 0] = [ch = 16] (same
 * thresholds); (2) clz = relu(ch) + relu(cl − 16·(1 − z)) (2 units, one vreg ∈ [0, 32]).
 */
export function clz(g: GraphBuilder, block: number, name: string, a: IValue): IValue {
  const v = canon(g, block, name, a);
  if (isConstValue(v)) return constI32(Math.clz32(valueOf(v)));
  const m1 = g.mlp(block, `${name}.clz16`);
  const pts = Array.from({ length: 16 }, (_, i) => 2 ** i - 1);
  const part = (x: LinForm, tag: string): LinForm => {
    if (isConst(x)) return lconst(clz16(x.c));
    const c = g.vreg(`${name}.${tag}`, 0, 16);
    tabulate(m1, x, 0, LIMB - 1, [{ v: c, f: clz16 }], pts);
    return lvar(c);
  };
  const ch = part(v.hi, 'clz_hi');
  const cl = part(v.lo, 'clz_lo');
  const z = isConst(v.hi) ? lconst(v.hi.c === 0 ? 1 : 0) : stepAt(g, m1, `${name}.hi_zero`, lcomb([[v.hi, -1]]), -(LIMB - 1), 0, 0);
  const m2 = g.mlp(block, `${name}.clz`);
  const out = g.vreg(`${name}.clz`, 0, 32);
  m2.bias(out, 0);
  if (isConst(ch)) m2.bias(out, ch.c);
  else m2.unit(ch, [[out, 1]], 16);
  if (isConst(z)) {
    if (z.c === 1) {
      if (isConst(cl)) m2.bias(out, cl.c);
      else m2.unit(cl, [[out, 1]], 16);
    }
  } else m2.unit(lcomb([[cl, 1], [z, 16]], -16), [[out, 1]], 16);
  return countValue(lvar(out), 32);
}

/**
 * i32.ctz from bits, one sublayer after them: ctz = Σ_{p=1}^{32} [bits 0..p−1 all zero]
 * = Σ_p relu(1 − Σ_{j<p} a_j) (32 units, one vreg ∈ [0, 32]; each pre-activation is an integer <= 1).
 */
export function ctz(g: GraphBuilder, block: number, name: string, a: IValue, cache?: BitCache): IValue {
  const v = canon(g, block, name, a);
  if (isConstValue(v)) {
    const u = valueOf(v);
    return constI32(u === 0 ? 32 : 31 - Math.clz32(u & -u));
  }
  const bits = bitsOf(g, block, name, v, cache).all();
  const m = g.mlp(block, `${name}.ctz`);
  const out = g.vreg(`${name}.ctz`, 0, 32);
  m.bias(out, 0);
  let prefix: LinForm = lconst(0);
  for (let p = 1; p <= 32; p++) {
    prefix = lcomb([[prefix, 1], [bits[p - 1], 1]]);
    const pre = lcomb([[prefix, -1]], 1);
    if (isConst(pre)) m.bias(out, Math.max(0, pre.c));
    else m.unit(pre, [[out, 1]], 1);
  }
  return countValue(lvar(out), 32);
}

/** i32.popcnt = Σ bits: an affine form of the bits (no sublayer after them). */
export function popcnt(g: GraphBuilder, block: number, name: string, a: IValue, cache?: BitCache): IValue {
  const v = canon(g, block, name, a);
  if (isConstValue(v)) {
    let u = valueOf(v);
    let n = 0;
    while (u) {
      n += u & 1;
      u >>>= 1;
    }
    return constI32(n);
  }
  const bits = bitsOf(g, block, name, v, cache).all();
  return countValue(lcomb(bits.map((b) => [b, 1] as [LinForm, number])), 32);
}

/**
 * i32.extend8_s: r = lo mod 256 = rem() (hi() of the lo limb: one sublayer), s = bit 7 =
 * step(r ≥ 128) (one more sublayer, 2 units; bit 7 of lo() when that already exists):
 * result lo = r + 0xff00·s, hi = 0xffff·s (affine; lo ∈ [0, 65535] since r <= 255).
 */
export function extend8s(g: GraphBuilder, block: number, name: string, a: IValue, cache?: BitCache): IValue {
  const v = canon(g, block, name, a);
  if (isConstValue(v)) return constI32((valueOf(v) << 24) >> 24);
  const lb = bitsOf(g, block, name, v, cache).limbs[0];
  const r = lb.rem();
  const s = lb.hasLo() ? lb.lo()[7] : stepAt(g, g.mlp(block, `${name}.bit7`), `${name}.bit7`, r, 0, 255, 128);
  return limbValue(lcomb([[r, 1], [s, 0xff00]]), lcomb([[s, 0xffff]]));
}

/** i32.extend16_s: s = bit 15 = step(lo ≥ 32768) (one sublayer, 2 units); lo, 0xffff·s. */
export function extend16s(g: GraphBuilder, block: number, name: string, a: IValue, cache?: BitCache): IValue {
  const v = canon(g, block, name, a);
  if (isConstValue(v)) return constI32((valueOf(v) << 16) >> 16);
  const s = bitsOf(g, block, name, v, cache).limbs[0].sign();
  return limbValue(v.lo, lcomb([[s, 0xffff]]));
}
