// backend/gadgets/memory.ts — address decoding (MLP) and the two-stage memory lookup (attention).
//
// Address decoding turns a canonical base + constant offset into (a) a trap
// signal that is 0 when the access is in bounds and >= 1 otherwise, and (b)
// the address bits of each of the N bytes touched, by exact staircases that
// peel one nibble per MLP sublayer (the four bits of a nibble share its 15
// step units).
//
// Lookup of a cache with one row per address ('unique', format/memory.ts LookupKind): one
// head per byte picks the address's row, or the newest of this step's stores to it (ranked by
// the head's mask scores), or the sink. Of a cache with any number of rows per address
// ('timed'): stage 1 finds the newest epoch written at the address (ties between entries of
// that epoch average identical epoch bits, rounded back to exact bits by round01); stage 2
// finds the newest tick within that epoch, a unique row, so its value byte comes out exactly.
// A sink row (cache row 0) answers 0 for never-written addresses. Scores and margins:
// DESIGN.md §5.

import { GraphBuilder, MlpBuilder } from '../graph.js';
import type { LinForm, Vreg } from '../linear.js';
import { lcomb, lconst, lvar } from '../linear.js';
import { BETA, EPOCH_BITS, LIMB, M1, M2, MemoryLayout, NEVER } from '../encoding.js';
import type { IValue } from './arith.js';
import { isConstValue, round01 } from './arith.js';
import { fmax, tabulate } from './staircase.js';
import { LimbBits } from './bits.js';

/**
 * Adds the staircase f(⌊x/period⌋) for q = 0..count to an MLP: each output gets
 * Σ_{m=1}^{count} (f(m) - f(m-1))·step(x >= m·period) plus the bias f(0).
 */
export function staircase(
  m: MlpBuilder,
  x: LinForm,
  xMax: number,
  period: number,
  count: number,
  outs: ReadonlyArray<{ v: Vreg; f: (q: number) => number }>,
): void {
  for (const o of outs) m.bias(o.v, o.f(0));
  // a sketch (graph.ts MlpBuilder) needs only whether some step has a weight: one unit of x's map
  if (m.sketch) {
    for (let k = 1; k <= count; k++) if (outs.some((o) => o.f(k) !== o.f(k - 1))) return m.unit(x, []);
    return;
  }
  for (let k = 1; k <= count; k++) {
    const w: Array<[Vreg, number]> = [];
    for (const o of outs) {
      const d = o.f(k) - o.f(k - 1);
      if (d !== 0) w.push([o.v, d]);
    }
    if (w.length) m.step(x, k * period, w, xMax);
  }
}

export interface DecodedAccess {
  /** 0 when in bounds, >= 1 when the access traps. */
  trap: LinForm;
  /** bits[i][j]: bit j of the address of byte i. */
  bits: LinForm[][];
}

/** Bits of a constant address, or of a concrete trap decision. */
function constAccess(mem: MemoryLayout, ea: number, n: number, space: number): DecodedAccess {
  const trap = ea + n > space ? 1 : 0;
  const bits = [];
  for (let i = 0; i < n; i++) {
    const a = trap ? 0 : ea + i;
    bits.push(Array.from({ length: mem.addrBits }, (_, j) => lconst(Math.floor(a / 2 ** j) % 2)));
  }
  return { trap: lconst(trap), bits };
}

/**
 * A lazy address's lo limb may reach this (a base's own carry into hi is then at most 1, and the
 * first staircase's output sums stay below 2^24: Σ_k 2·(2^17 + 2^16 − 4096·k) over 48 steps ≈ 2^23.1).
 */
export const LAZY_ADDRESS_LO = 2 ** 17 - 1;

/**
 * Decode the effective addresses a_i = base + offset + i (i < n), memory <= 256 pages (2^24 bytes).
 * base.lo may be a lazy sum below 2^17 (K = ⌊loMax/65536⌋ ≤ 1 carry of its own) and base.hi
 * one below 2^17 (two limbs added, or canon_lo's result): the first sublayer folds hi mod 65536
 * and lo's carry into its staircases, saving the canon_lo and canon_hi sublayers. The base's value
 * is (65536·h + lo) mod 2^32 with h = hi mod 65536; with h' = h − 65536·[h ≥ 65536 − K] ∈ [−K, 65535 − K]
 * it is X = 65536·h' + lo when X ≥ 0 (h' + ⌊lo/65536⌋ ≤ 65535: no wrap past 2^32) and X + 2^32,
 * an address that traps, when X < 0. With offset = 65536·oh + ol and s_i = lo + ol + i < 2^17 + 2^16:
 *   sublayer 1: q = ⌊s_i/4096⌋ ∈ [0, 48] (shared steps) gives bits 12..15 = q mod 16 and
 *               the carry c_i = ⌊q/16⌋; r := s_i − 4096·q. With limit = 65536·rh + rl the
 *               largest in-bounds base: above = [h' ≥ rh + 1], and for each v ∈ V = [−K, −1] ∪
 *               [rh − K, rh] the pair e_v = [h' = v] and f_v = [X traps given h' = v], a
 *               function of lo alone: [lo < −65536·v] + [lo ≥ rl + 1 + 65536·(rh − v)].
 *   sublayer 2: trap = above + Σ_v relu(e_v + f_v − 1) ∈ {0, 1} (at most one e_v is 1);
 *               bits 16.. = bits of u_i = h' + oh + c_i (saturating staircase: a negative u_i,
 *               an address that traps, gives bits of 0), and q = ⌊r/256⌋ (15 steps) → bits
 *               8..11, r := r − 256·q.
 *   sublayer 3: ⌊r/16⌋ → bits 4..7;  sublayer 4: r → bits 0..3.
 *   Memories of more than 16 pages clamp u_i to v_i = min(u_i, uMax + 1) in sublayer 2 and peel
 *   its nibbles like r's: ⌊v_i/16⌋ → bits 20.. in sublayer 3, v_i mod 16 → bits 16..19 in
 *   sublayer 4 (about 60 units a byte, where one staircase over the pages took 2·uMax).
 * Pre-activations are integers below 2^18 so every bit is exactly 0
 * or 1, even for an address that traps (the staircases saturate).
 */
export function decodeAccess(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  base: IValue,
  offset: number,
  n: number,
  /** Bytes addressable without a trap: linear memory, or the whole address space for frames. */
  space: number = mem.memBytes,
): DecodedAccess {
  if (isConstValue(base)) return constAccess(mem, (base.lo.c + LIMB * base.hi.c) % 2 ** 32 + offset, n, space);
  const limit = space - n - offset; // largest in-bounds base
  if (limit < 0) return constAccess(mem, space, n, space); // every base traps
  const oh = Math.floor(offset / LIMB);
  const ol = offset % LIMB;
  const uMax = Math.floor((Math.max(1, space) - 1) / LIMB); // largest in-bounds upper part

  const rest: LinForm[] = [];
  const carry: LinForm[] = [];
  const bits: LinForm[][] = [];
  for (let i = 0; i < n; i++) {
    rest.push(lcomb([[base.lo, 1]], ol + i));
    bits.push(new Array<LinForm>(mem.addrBits).fill(lconst(0)));
  }
  const bitOuts = (i: number, first: number, count: number, f: (q: number) => number) => {
    const outs: Array<{ v: Vreg; f: (q: number) => number }> = [];
    for (let k = 0; k < count && first + k < mem.addrBits; k++) {
      const b = g.vreg(`${name}.a${i}.bit${first + k}`, 0, 1);
      bits[i][first + k] = lvar(b);
      outs.push({ v: b, f: (q: number) => Math.floor(f(q) / 2 ** k) % 2 });
    }
    return outs;
  };
  if (base.hiMax > 2 * LIMB - 1 || base.loMax > LAZY_ADDRESS_LO) throw new Error(`internal: decodeAccess needs lo <= ${LAZY_ADDRESS_LO} and hi < 2^17, got ${base.loMax}, ${base.hiMax}`);
  const m1 = g.mlp(block, `${name}.addr_nibble3`);
  const rh = Math.floor(limit / LIMB);
  const rl = limit % LIMB;
  const K = Math.floor(base.loMax / LIMB);
  // step(h ≥ t) for h = hi mod 65536 (hi < 2^17: h = hi − 65536 from hi = 65536 on), t ≥ 1
  const wraps = base.hiMax >= LIMB;
  const hStep = (t: number, w: Array<[Vreg, number]>) => {
    const neg = w.map(([v, c]) => [v, -c] as [Vreg, number]);
    if (t <= base.hiMax) m1.step(base.hi, t, w, base.hiMax);
    if (wraps && t <= LIMB - 1) {
      m1.step(base.hi, LIMB, neg, base.hiMax);
      if (LIMB + t <= base.hiMax) m1.step(base.hi, LIMB + t, w, base.hiMax);
    }
  };
  // [h' = v] for v ∈ [−K, 65535 − K]: h = v, or h = 65536 + v for v < 0
  const hIs = (v: number, e: Vreg) => {
    const t = v < 0 ? LIMB + v : v;
    if (t === 0) m1.bias(e, 1);
    else hStep(t, [[e, 1]]);
    if (t + 1 <= LIMB - 1) hStep(t + 1, [[e, -1]]);
  };
  let hMod: LinForm = base.hi;
  if (wraps) {
    const w = g.vreg(`${name}.hi_wrap`, 0, 1);
    m1.bias(w, 0);
    m1.step(base.hi, LIMB, [[w, 1]], base.hiMax);
    hMod = lcomb([[base.hi, 1], [lvar(w), -LIMB]]);
  }
  let hPrime: LinForm = hMod;
  const above = g.vreg(`${name}.over`, 0, 1);
  m1.bias(above, 0);
  hStep(rh + 1, [[above, 1]]);
  if (K > 0) {
    const top = g.vreg(`${name}.hi_top`, 0, 1); // [h ≥ 65536 − K]: h' = h − 65536
    m1.bias(top, 0);
    hStep(LIMB - K, [[top, 1], [above, -1]]);
    hPrime = lcomb([[hMod, 1], [lvar(top), -LIMB]]);
  }
  const pairs: Array<[Vreg, LinForm]> = [];
  const values = new Set<number>();
  for (let v = -K; v <= -1; v++) values.add(v);
  for (let v = Math.max(0, rh - K); v <= rh; v++) values.add(v);
  for (const v of [...values].sort((a, b) => a - b)) {
    // f_v: lo below −65536·v (X < 0), or at or above rl + 1 + 65536·(rh − v) (X > limit)
    const under = v < 0 ? -LIMB * v : 0;
    const from = rl + 1 + LIMB * (rh - v);
    if (under === 0 && from > base.loMax) continue; // never traps at h' = v
    const e = g.vreg(`${name}.hi_is${v}`, 0, 1);
    m1.bias(e, 0);
    hIs(v, e);
    const f = g.vreg(`${name}.lo_traps${v}`, 0, 1);
    m1.bias(f, under > 0 ? 1 : 0);
    if (under > 0 && under <= base.loMax) m1.step(base.lo, under, [[f, -1]], base.loMax);
    if (from <= 0) m1.bias(f, 1);
    else if (from <= base.loMax) m1.step(base.lo, from, [[f, 1]], base.loMax);
    pairs.push([e, lvar(f)]);
  }
  for (let i = 0; i < n; i++) {
    const sMax = base.loMax + ol + i;
    const count = Math.floor(sMax / 4096); // ≤ 48
    const q = g.vreg(`${name}.a${i}.q12`, 0, count);
    const c = g.vreg(`${name}.a${i}.carry`, 0, Math.floor(count / 16));
    staircase(m1, rest[i], sMax, 4096, count, [
      { v: q, f: (x) => x },
      { v: c, f: (x) => Math.floor(x / 16) },
      ...bitOuts(i, 12, 4, (x) => x % 16),
    ]);
    rest[i] = lcomb([[rest[i], 1], [lvar(q), -4096]]);
    carry.push(lvar(c));
  }
  const cMax = Math.floor((base.loMax + ol + n - 1) / LIMB);
  // sublayers 2..4
  const trapV = g.vreg(`${name}.trap`, 0, 2);
  const clamped: LinForm[] = new Array<LinForm>(n).fill(lconst(0));
  for (const level of [8, 4, 0]) {
    const m = g.mlp(block, `${name}.addr_nibble${level / 4}`);
    if (level === 8) {
      m.unit(lvar(above), [[trapV, 1]]);
      for (const [e, f] of pairs) m.unit(lcomb([[lvar(e), 1], [f, 1]], -1), [[trapV, 1]]);
    }
    for (let i = 0; i < n; i++) {
      if (mem.addrBits > 16) {
        const u = lcomb([[hPrime, 1], [carry[i], 1]], oh);
        const uTop = LIMB - 1 + cMax + oh;
        if (uMax <= 15 && level === 8) {
          // small memories: one staircase over u itself (≤ 15 step pairs of activations ≤ 2^17)
          staircase(m, u, uTop, 1, uMax, bitOuts(i, 16, mem.addrBits - 16, (x) => x));
        } else if (uMax > 15 && level === 8) {
          // large memories: clamp first, v = min(u, uMax + 1) = relu(u) − relu(u − uMax − 1), so the
          // staircase of the next sublayer sees activations ≤ uMax + 1 (Σ ≤ 2·uMax·(uMax + 1) < 2^17)
          const v = g.vreg(`${name}.a${i}.page`, 0, uMax + 1);
          clamped[i] = lvar(v);
          m.bias(v, 0);
          m.unit(u, [[v, 1]], uTop);
          m.unit(lcomb([[u, 1]], -(uMax + 1)), [[v, -1]], uTop - uMax - 1);
        } else if (uMax > 15 && level === 4) {
          // the page's high nibble (bits 20..): ⌊v/16⌋ by ≤ 16 step pairs of activations ≤ uMax + 1
          const qh = g.vreg(`${name}.a${i}.page_hi`, 0, Math.floor((uMax + 1) / 16));
          staircase(m, clamped[i], uMax + 1, 16, Math.floor((uMax + 1) / 16), [{ v: qh, f: (x) => x }, ...bitOuts(i, 20, mem.addrBits - 20, (x) => x)]);
          clamped[i] = lcomb([[clamped[i], 1], [lvar(qh), -16]]);
        } else if (uMax > 15 && level === 0) {
          // its low nibble (bits 16..19): v − 16·⌊v/16⌋ ∈ [0, 15], 15 step pairs
          staircase(m, clamped[i], 15, 1, 15, bitOuts(i, 16, 4, (x) => x));
        }
      }
      const outs = bitOuts(i, level, 4, (x) => x);
      if (level > 0) {
        const q = g.vreg(`${name}.a${i}.q${level}`, 0, 15);
        outs.push({ v: q, f: (x: number) => x });
        staircase(m, rest[i], 2 ** (level + 4) - 1, 2 ** level, 15, outs);
        rest[i] = lcomb([[rest[i], 1], [lvar(q), -(2 ** level)]]);
      } else {
        staircase(m, rest[i], 15, 1, 15, outs);
      }
    }
  }
  return { trap: lvar(trapV), bits };
}

/** Bits needed for the frame numbers 0 … maxDepth − 1. */
export function depthBits(maxDepth: number): number {
  return Math.max(1, Math.ceil(Math.log2(maxDepth)));
}

/**
 * Whether a call stack is aligned: its stride P is a power of two and frameBase a multiple of
 * P·2^D (D = depthBits). Then the address of byte i < P of frame k < 2^D is frameBase + P·k + i,
 * whose bit j is bit j of i (j < log2 P), bit j − log2 P of k (the next D bits) or bit j of
 * frameBase (above): no carries, so every byte of a frame shares one decomposition of k.
 */
export function framesAligned(frameBase: number, stride: number, maxDepth: number): boolean {
  return Number.isInteger(Math.log2(stride)) && frameBase % (stride * 2 ** depthBits(maxDepth)) === 0;
}

/** The largest frame number whose bits decodeFrame takes from one sublayer (2^12: Σ|w|·max <= 2^23). */
const ONE_SUBLAYER_FRAMES = 4096;

/**
 * The decoded addresses of the first n bytes of frame k of an aligned call stack (framesAligned),
 * k an integer form in [0, kMax] (its declared bound), kMax <= 65535. The D bits of min(k, 2^D − 1) come from one
 * tabulate of k when 2^D <= 4096 (one sublayer, about 2^D merged units; each bit's
 * Σ|w|·max <= 2·Σ_t min(t + 1, 2^D − t) <= 2^(2D−1) < 2^24), else from the two-sublayer limb
 * decomposition (bits.ts, k being a canonical limb). Frame numbers never reach 2^D (calls trap
 * at maxDepth − 1), so the clamp only keeps every bit exact over k's declared range.
 * The trap signal is the constant 0: frame accesses are in bounds by construction.
 */
export function decodeFrame(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  frame: { base: number; stride: number; maxDepth: number },
  k: LinForm,
  n: number,
): DecodedAccess {
  const kMax = fmax(g, k);
  const D = depthBits(frame.maxDepth);
  const low = Math.log2(frame.stride);
  const top = 2 ** D - 1;
  let kb: LinForm[];
  if (2 ** D <= ONE_SUBLAYER_FRAMES) {
    const m = g.mlp(block, `${name}.frame_bits`);
    const vs = Array.from({ length: D }, (_, j) => g.vreg(`${name}.k.bit${j}`, 0, 1));
    tabulate(m, k, 0, kMax, vs.map((v, j) => ({ v, f: (t: number) => Math.floor(Math.min(t, top) / 2 ** j) % 2 })));
    kb = vs.map((v) => lvar(v));
  } else {
    kb = new LimbBits(g, block, `${name}.k`, k).all().slice(0, D);
  }
  const bitOf = (x: number, j: number) => lconst(Math.floor(x / 2 ** j) % 2);
  const bits = Array.from({ length: n }, (_, i) =>
    Array.from({ length: mem.addrBits }, (_, j) => (j < low ? bitOf(i, j) : j < low + D ? kb[j - low] : bitOf(frame.base, j))),
  );
  return { trap: lconst(0), bits };
}

/** A pending row (this step's store of one byte) in entry-feature space. */
export function pendingRow(mem: MemoryLayout, addrBits: LinForm[], epochBits: LinForm[], tick: LinForm, value: LinForm): LinForm[] {
  const row: LinForm[] = Array.from({ length: mem.features }, () => lconst(0));
  addrBits.forEach((b, j) => (row[mem.col.addr + j] = b));
  epochBits.forEach((b, j) => (row[mem.col.epoch + j] = b));
  row[mem.col.tick] = tick;
  row[mem.col.value] = value;
  return row;
}

function matchQuery(row: LinForm[], col: number, bits: LinForm[], scale: number): void {
  // (2b - 1)·scale: +scale for a 1 bit, -scale for a 0 bit; a full match scores scale·Σb.
  bits.forEach((b, j) => (row[col + j] = lcomb([[b, 2 * scale]], -scale)));
}

/**
 * A query matching the address (±β·M on its bits: a row at the address scores β·M·Σa, one
 * differing in d bits d·β·M less), the sink β·M·(Σa − 1/2), pad rows NEVER, every other feature 0.
 */
function addressQuery(mem: MemoryLayout, addrBits: LinForm[], M: number): LinForm[] {
  const q: LinForm[] = Array.from({ length: mem.features }, () => lconst(0));
  matchQuery(q, mem.col.addr, addrBits, BETA * M);
  q[mem.col.sink] = lcomb(addrBits.map((b) => [b, BETA * M] as [LinForm, number]), -BETA * (M / 2));
  q[mem.col.pad] = lconst(NEVER);
  return q;
}

/**
 * The one-stage lookup of a 'unique' cache (at most one row per address): the byte at the
 * address. Query: ±β·M2 on the address bits, the sink β·M2·(Σa − 1/2), pad rows NEVER, time
 * features 0. Pending row i (this step's i-th store row so far, in store order) scores β·(i + 1)
 * more from the head's mask, so with P < M2/2 pending rows (P ≤ 4·storeSlots ≤ 2^14) and before
 * β: a pending row at the address scores M2·Σa + i + 1, the cache row M2·Σa, the sink
 * M2·Σa − M2/2, any other row at most M2·(Σa − 1) + P. Every gap is ≥ 1 (≥ 256 after β), so
 * the softmax is an exact one-hot on the newest write (DESIGN.md §5).
 */
export function lookupByte(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  addrBits: LinForm[],
  pending: LinForm[][],
): Vreg {
  if (pending.length >= M2 / 2) throw new Error(`internal: ${pending.length} pending rows outrank an address match`);
  const q = addressQuery(mem, addrBits, M2);
  const out = g.vreg(`${name}.byte`, 0, 255);
  g.head({ block, role: `${name}.lookup`, query: q, pending, pendingScore: pending.map((_, i) => BETA * (i + 1)), reads: [[out, mem.col.value]], outputs: [out] });
  return out;
}

/** Stage 1: newest epoch at this address. Returns approximate epoch bits (vregs). */
export function stage1(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  addrBits: LinForm[],
  pending: LinForm[][],
): Vreg[] {
  const q = addressQuery(mem, addrBits, M1);
  for (let j = 0; j < EPOCH_BITS; j++) q[mem.col.epoch + j] = lconst(BETA * 2 ** j);
  const outs: Vreg[] = [];
  for (let j = 0; j < EPOCH_BITS; j++) outs.push(g.vreg(`${name}.epoch_avg${j}`, 0, 1.01, false));
  g.head({ block, role: `${name}.stage1`, query: q, pending, reads: outs.map((v, j) => [v, mem.col.epoch + j]), outputs: outs });
  return outs;
}

/** Rounds stage-1 averages to exact bits (adds units to an MLP). */
export function roundBits(g: GraphBuilder, m: MlpBuilder, name: string, approx: Vreg[]): LinForm[] {
  return approx.map((x, j) => {
    const b = g.vreg(`${name}.epoch${j}`, 0, 1);
    round01(m, x, b);
    return lvar(b);
  });
}

/** Stage 2: the value byte of the newest write at (address, epoch). */
export function stage2(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  addrBits: LinForm[],
  epochBits: LinForm[],
  pending: LinForm[][],
): Vreg {
  const q: LinForm[] = Array.from({ length: mem.features }, () => lconst(0));
  matchQuery(q, mem.col.addr, addrBits, BETA * M2);
  matchQuery(q, mem.col.epoch, epochBits, BETA * M2);
  q[mem.col.tick] = lconst(BETA);
  q[mem.col.sink] = lcomb([...addrBits, ...epochBits].map((b) => [b, BETA * M2] as [LinForm, number]), -BETA * (M2 / 2));
  q[mem.col.pad] = lconst(NEVER);
  const out = g.vreg(`${name}.byte`, 0, 255);
  g.head({ block, role: `${name}.stage2`, query: q, pending, reads: [[out, mem.col.value]], outputs: [out] });
  return out;
}
