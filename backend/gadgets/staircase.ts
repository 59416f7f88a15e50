// backend/gadgets/staircase.ts — the shared building blocks of the i32 gadget library (DESIGN.md §10).
//
// tabulate: any integer function of one integer form x ∈ [xMin, xMax], as one MLP node's units.
// For integer x, f(x) = f(xMin) + Σ_t d_t·step(x ≥ t+1) with d_t = f(t+1) − f(t), and
//   step(x ≥ t+1) = relu(x − t) − relu(x − t − 1)      (upper half of the range: max xMax − t)
//                 = 1 − relu(t + 1 − x) + relu(t − x)  (lower half, mirrored: max t + 1 − xMin)
// Mirroring keeps every unit's activation bound at most half the range (min(t+1 − xMin, xMax − t)),
// which halves Σ_units |w|·max, the output sum the exactness rule bounds. Units with the same
// pre-activation are merged (adjacent steps share relu(x − t)), so a function that changes at
// every integer of [0, n] costs about n units, not 2n.
// gate: relu(x − M·(1 − bit)) = bit·x for x ∈ [0, M] and an exact bit (1 unit).
// Every helper passes each unit's proven activation bound to MlpBuilder.unit, so
// check_magnitudes.ts sees exactly the sums argued in the docstrings.

import type { GraphBuilder, MlpBuilder } from '../graph.js';
import type { LinForm, Vreg } from '../linear.js';
import { isConst, lcomb, lconst, lmax } from '../linear.js';

/** Largest value of f over the declared vreg ranges. */
export function fmax(g: GraphBuilder, f: LinForm): number {
  return lmax(f, (v) => g.range(v));
}

/** Smallest value of f over the declared vreg ranges. */
export function fmin(g: GraphBuilder, f: LinForm): number {
  return -lmax(lcomb([[f, -1]]), (v) => g.range(v));
}

export interface Table {
  /** Output vreg. */
  v: Vreg;
  /** The integer function it receives (weight-1 accumulation: the output is f(x) exactly). */
  f: (x: number) => number;
}

/**
 * The units of a tabulate, independent of x: unit k is out_k·relu(dir_k·(x − s_k)) (dir = 1:
 * relu(x − s), bound xMax − s; dir = −1: relu(s − x), bound s − xMin), with out_k as pairs
 * (output index, weight), and bias[i] the constant part of output i. Gadgets that tabulate the
 * same functions over the same range many times (the limb bits) build the plan once.
 */
export interface TabulatePlan {
  bias: number[];
  units: Array<{ dir: 1 | -1; s: number; max: number; out: Array<[number, number]> }>;
}

/** The plan of tabulate(…, xMin, xMax, fs, points) (see tabulate). */
export function tabulatePlan(xMin: number, xMax: number, fs: ReadonlyArray<(x: number) => number>, points?: Iterable<number>): TabulatePlan {
  const units = new Map<number, { dir: 1 | -1; s: number; max: number; out: Map<number, number> }>();
  const bias = fs.map((f) => f(xMin));
  const add = (dir: 1 | -1, s: number, o: number, w: number) => {
    const max = dir === 1 ? xMax - s : s - xMin;
    if (max <= 0 || w === 0) return; // identically 0 on the range
    const key = 2 * s + (dir === 1 ? 1 : 0);
    let u = units.get(key);
    if (!u) {
      u = { dir, s, max, out: new Map() };
      units.set(key, u);
    }
    u.out.set(o, (u.out.get(o) ?? 0) + w);
  };
  const ts = points ? [...new Set(points)].filter((t) => t >= xMin && t < xMax).sort((p, q) => p - q) : null;
  const at = (t: number) => {
    for (let o = 0; o < fs.length; o++) {
      const d = fs[o](t + 1) - fs[o](t);
      if (d === 0) continue;
      if (xMax - t <= t + 1 - xMin) {
        add(1, t, o, d);
        add(1, t + 1, o, -d);
      } else {
        bias[o] += d;
        add(-1, t + 1, o, -d);
        add(-1, t, o, d);
      }
    }
  };
  if (ts) ts.forEach(at);
  else for (let t = xMin; t < xMax; t++) at(t);
  const out: TabulatePlan['units'] = [];
  for (const u of units.values()) {
    const w = [...u.out].filter(([, k]) => k !== 0);
    if (w.length > 0) out.push({ dir: u.dir, s: u.s, max: u.max, out: w });
  }
  return { bias, units: out };
}

/** Adds a plan's units to m for the form x, output i into vs[i]. Units share x's term maps. */
export function applyPlan(m: MlpBuilder, x: LinForm, plan: TabulatePlan, vs: readonly Vreg[]): void {
  plan.bias.forEach((b, i) => m.bias(vs[i], b));
  // a sketch keeps one unit for x's map (graph.ts MlpBuilder: every output is registered above)
  if (m.sketch) return plan.units.length > 0 ? m.unit(x, []) : undefined;
  const neg = lcomb([[x, -1]]).terms;
  for (const u of plan.units) {
    const pre: LinForm = u.dir === 1 ? { terms: x.terms, c: x.c - u.s } : { terms: neg, c: u.s - x.c };
    m.unit(pre, u.out.map(([o, w]) => [vs[o], w]), u.max);
  }
}

/**
 * Adds units to m so that each out.v receives f(x), for integer x ∈ [xMin, xMax].
 * `points`, when given, lists every t at which some f may change (f(t+1) ≠ f(t)); otherwise
 * every integer of the range is examined.
 */
export function tabulate(m: MlpBuilder, x: LinForm, xMin: number, xMax: number, outs: Table[], points?: Iterable<number>): void {
  applyPlan(m, x, tabulatePlan(xMin, xMax, outs.map((o) => o.f), points), outs.map((o) => o.v));
}

/** Thresholds t (f changes between t and t+1) of ⌊x/P⌋ on [xMin, xMax]. */
export function floorPoints(xMin: number, xMax: number, P: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil((xMin + 1) / P); k * P <= xMax; k++) out.push(k * P - 1);
  return out;
}

/** A fresh vreg receiving ⌊x/P⌋ for integer x ∈ [xMin, xMax] (same node m). */
export function floorDiv(g: GraphBuilder, m: MlpBuilder, name: string, x: LinForm, xMin: number, xMax: number, P: number): LinForm {
  const qMin = Math.floor(xMin / P);
  const qMax = Math.floor(xMax / P);
  if (qMin === qMax) return lconst(qMin);
  const q = g.vreg(name, qMin, qMax);
  tabulate(m, x, xMin, xMax, [{ v: q, f: (t) => Math.floor(t / P) }], floorPoints(xMin, xMax, P));
  return { terms: new Map([[q, 1]]), c: 0 };
}

/** A fresh 0/1 vreg receiving step(x ≥ k) for integer x ∈ [xMin, xMax]; constant when decided. */
export function stepAt(g: GraphBuilder, m: MlpBuilder, name: string, x: LinForm, xMin: number, xMax: number, k: number): LinForm {
  if (xMin >= k) return lconst(1);
  if (xMax < k) return lconst(0);
  const s = g.vreg(name, 0, 1);
  tabulate(m, x, xMin, xMax, [{ v: s, f: (t) => (t >= k ? 1 : 0) }], [k - 1]);
  return { terms: new Map([[s, 1]]), c: 0 };
}

/**
 * Σ_i bit_i·x_i as a LinForm: one output vreg accumulates relu(x_i − M_i·(1 − bit_i)) for the
 * terms that need a unit (M_i = max x_i, so bit_i = 0 gives a pre-activation <= 0, and bit_i = 1
 * gives relu(x_i) = x_i: the caller guarantees x_i >= 0 whenever bit_i = 1, and every bit_i is an
 * exact 0/1 form). Terms with a constant x_i or bit_i are linear and need no unit.
 * vmax: the proven bound of the unit part (e.g. 65535 when the bits are one-hot); default Σ max x_i.
 * xMax: proven upper bounds of the x_i where tighter than their forms' declared ranges.
 * compact: every term that is not a constant goes through a unit (the result is one vreg plus a
 * constant), so its magnitude stays that of one vreg however long the terms' forms are.
 */
export function gatedSum(g: GraphBuilder, mk: () => MlpBuilder, name: string, terms: ReadonlyArray<readonly [LinForm, LinForm]>, vmax?: number, xMax?: readonly number[], compact = false): LinForm {
  const linear: Array<[LinForm, number]> = [];
  const units: Array<[LinForm, LinForm, number]> = [];
  for (const [i, [x, bit]] of terms.entries()) {
    if (compact && !(isConst(x) && isConst(bit))) {
      if (isConst(bit) && bit.c === 0) continue;
      const M = Math.min(fmax(g, x), xMax?.[i] ?? Infinity);
      if (M > 0) units.push([x, bit, M]);
    } else if (isConst(bit)) {
      if (bit.c !== 0) linear.push([x, bit.c]);
    } else if (isConst(x)) {
      if (x.c !== 0) linear.push([bit, x.c]);
    } else {
      const M = Math.min(fmax(g, x), xMax?.[i] ?? Infinity);
      if (M > 0) units.push([x, bit, M]);
    }
  }
  if (units.length > 0) {
    const m = mk();
    const total = units.reduce((s, [, , M]) => s + M, 0);
    const v = g.vreg(name, 0, Math.min(total, vmax ?? total));
    m.output(v);
    for (const [x, bit, M] of units) m.unit(lcomb([[x, 1], [bit, M]], -M), [[v, 1]], M);
    linear.push([{ terms: new Map([[v, 1]]), c: 0 }, 1]);
  }
  return lcomb(linear);
}

/** An MLP node created on first use (a gadget whose terms all fold into weights adds no sublayer). */
export function onDemand(g: GraphBuilder, block: number, role: string): () => MlpBuilder {
  let m: MlpBuilder | null = null;
  return () => (m ??= g.mlp(block, role));
}

/** A 0/1 LinForm is "bool" when its declared bound says so. */
export function isBoolForm(g: GraphBuilder, f: LinForm): boolean {
  return fmin(g, f) >= 0 && fmax(g, f) <= 1;
}
