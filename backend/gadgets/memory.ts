// backend/gadgets/memory.ts — address decoding (MLP) and the two-stage memory lookup (attention).
//
// Address decoding turns a canonical base + constant offset into (a) a trap
// signal that is 0 when the access is in bounds and >= 1 otherwise, and (b)
// the address bits of each of the N bytes touched, by exact staircases that
// peel one nibble per MLP sublayer (the four bits of a nibble share its 15
// step units).
//
// Lookup: stage 1 finds the newest epoch written at the address (ties
// between entries of that epoch average identical epoch bits, rounded back
// to exact bits by round01); stage 2 finds the newest tick within that epoch,
// a unique row, so its value byte comes out exactly. A sink row (cache row 0)
// answers 0 for never-written addresses. Scores and margins: DESIGN.md §Memory.

import { GraphBuilder, MlpBuilder } from '../graph.js';
import type { LinForm, Vreg } from '../linear.js';
import { isConst, lcomb, lconst, lmax, lvar } from '../linear.js';
import { BETA, EPOCH_BITS, LIMB, M1, M2, MemoryLayout, NEVER } from '../encoding.js';
import type { IValue } from './arith.js';
import { round01 } from './arith.js';

/**
 * Adds the staircase f(⌊x/period⌋) for q = 0..count to an MLP: each output gets
 * Σ_{m=1}^{count} (f(m) - f(m-1))·step(x >= m·period) plus the bias f(0).
 */
export function staircase(
  m: MlpBuilder,
  x: LinForm,
  period: number,
  count: number,
  outs: ReadonlyArray<{ v: Vreg; f: (q: number) => number }>,
): void {
  for (const o of outs) m.bias(o.v, o.f(0));
  for (let k = 1; k <= count; k++) {
    const w: Array<[Vreg, number]> = [];
    for (const o of outs) {
      const d = o.f(k) - o.f(k - 1);
      if (d !== 0) w.push([o.v, d]);
    }
    if (w.length) m.step(x, k * period, w);
  }
}

export interface DecodedAccess {
  /** 0 when in bounds, >= 1 when the access traps. */
  trap: LinForm;
  /** bits[i][j]: bit j of the address of byte i. */
  bits: LinForm[][];
}

/** Bits of a constant address, or of a concrete trap decision. */
function constAccess(mem: MemoryLayout, ea: number, n: number): DecodedAccess {
  const trap = ea + n > mem.memBytes ? 1 : 0;
  const bits = [];
  for (let i = 0; i < n; i++) {
    const a = trap ? 0 : ea + i;
    bits.push(Array.from({ length: mem.addrBits }, (_, j) => lconst(Math.floor(a / 2 ** j) % 2)));
  }
  return { trap: lconst(trap), bits };
}

/**
 * Decode the effective addresses a_i = base + offset + i (i < n) for a memory of at
 * most 64 KiB (16 address bits). base must be canonical. Four MLP sublayers peel one
 * nibble each, high to low: q = ⌊r/2^L⌋ = Σ_{k=1}^{15} step(r >= k·2^L) (15 shared
 * step units give q and the four bits of q), then r := r - 2^L·q. The first sublayer
 * also computes trap = step(hi >= 1) + step(lo >= limit + 1): 0 in bounds, 1 or 2 if not.
 * a_i = lo + offset + i < 2^18, so every pre-activation is an exact integer; an
 * out-of-range address saturates the staircases, so the bits are always exactly 0 or 1.
 */
export function decodeAccess(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  base: IValue,
  offset: number,
  n: number,
): DecodedAccess {
  if (isConst(base.lo) && isConst(base.hi)) return constAccess(mem, base.lo.c + LIMB * base.hi.c + offset, n);
  const limit = mem.memBytes - n - offset; // largest in-bounds base
  if (limit < 0) return constAccess(mem, mem.memBytes, n); // every base traps

  const rest: LinForm[] = [];
  const bits: LinForm[][] = [];
  for (let i = 0; i < n; i++) {
    rest.push(lcomb([[base.lo, 1]], offset + i));
    bits.push(new Array<LinForm>(mem.addrBits).fill(lconst(0)));
  }
  let trap: LinForm = lconst(0);
  for (let level = 12; level >= 0; level -= 4) {
    const m = g.mlp(block, `${name}.addr_nibble${level / 4}`);
    if (level === 12) {
      const trapV = g.vreg(`${name}.trap`, 0, 2);
      m.bias(trapV, 0);
      if (lmax(base.hi, (v) => g.range(v)) >= 1) m.step(base.hi, 1, [[trapV, 1]]);
      if (lmax(base.lo, (v) => g.range(v)) >= limit + 1) m.step(base.lo, limit + 1, [[trapV, 1]]);
      trap = lvar(trapV);
    }
    for (let i = 0; i < n; i++) {
      const outs: Array<{ v: Vreg; f: (q: number) => number }> = [];
      for (let k = 0; k < 4 && level + k < mem.addrBits; k++) {
        const b = g.vreg(`${name}.a${i}.bit${level + k}`, 0, 1);
        bits[i][level + k] = lvar(b);
        outs.push({ v: b, f: (q: number) => Math.floor(q / 2 ** k) % 2 });
      }
      if (level > 0) {
        const q = g.vreg(`${name}.a${i}.q${level}`, 0, 15);
        outs.push({ v: q, f: (x: number) => x });
        staircase(m, rest[i], 2 ** level, 15, outs);
        rest[i] = lcomb([[rest[i], 1], [lvar(q), -(2 ** level)]]);
      } else {
        staircase(m, rest[i], 1, 15, outs);
      }
    }
  }
  return { trap, bits };
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

/** Stage 1: newest epoch at this address. Returns approximate epoch bits (vregs). */
export function stage1(
  g: GraphBuilder,
  block: number,
  name: string,
  mem: MemoryLayout,
  addrBits: LinForm[],
  pending: LinForm[][],
): Vreg[] {
  const q: LinForm[] = Array.from({ length: mem.features }, () => lconst(0));
  matchQuery(q, mem.col.addr, addrBits, BETA * M1);
  for (let j = 0; j < EPOCH_BITS; j++) q[mem.col.epoch + j] = lconst(BETA * 2 ** j);
  q[mem.col.sink] = lcomb(addrBits.map((b) => [b, BETA * M1] as [LinForm, number]), -BETA * (M1 / 2));
  q[mem.col.pad] = lconst(NEVER);
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
