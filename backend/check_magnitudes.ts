// backend/check_magnitudes.ts — the float32 exactness checker.
//
// Float32 adds integers exactly while every partial sum stays below 2^24, in
// whatever order the kernel (CPU or GPU, blocked or split-K) accumulates. So
// for every linear map the model computes on exact values we bound the sum of
// |term| over all its terms, using the proven vreg ranges and each hidden
// unit's proven activation bound:
//   - MLP pre-activations:   Σ|k·v| + |c|                 < 2^24
//   - MLP outputs (per vreg): Σ_units |w|·max(relu) + |b|   < 2^24
//   - attention queries and scores (unscaled: β is a power of two, so scaling is exact)
//   - pending rows and the readout.
// Raw attention averages (vregs marked inexact) feed only round01, whose
// exactness is argued by its plateaus instead; units reading them are skipped.

import type { Graph } from './graph.js';
import type { LinForm } from './linear.js';
import { lcomb, lmagnitude, lmax, termsMagnitude } from './linear.js';
import type { MemoryLayout } from './encoding.js';
import { BETA } from './encoding.js';

export const EXACT_LIMIT = 2 ** 24;

export function checkMagnitudes(graph: Graph, mem: MemoryLayout | null): { worst: number; where: string } {
  const exact = (f: LinForm) => {
    for (const v of f.terms.keys()) if (!graph.vregs[v].exact) return false;
    return true;
  };
  const ranges = graph.vregs.map((r) => [r.min, r.max] as const);
  const range = (v: number) => ranges[v];
  const mag = (f: LinForm) => lmagnitude(f, range);
  // a tabulate's units share their input's term map (staircase.ts applyPlan): its magnitude and
  // exactness are computed once a map
  const termMag = new Map<ReadonlyMap<number, number>, number>();
  const termExact = new Map<ReadonlyMap<number, number>, boolean>();
  const unitMag = (f: LinForm) => {
    let m = termMag.get(f.terms);
    if (m === undefined) termMag.set(f.terms, (m = termsMagnitude(f.terms, range)));
    return Math.abs(f.c) + m;
  };
  const unitExact = (f: LinForm) => {
    let e = termExact.get(f.terms);
    if (e === undefined) termExact.set(f.terms, (e = exact(f)));
    return e;
  };
  let worst = 0;
  let where = '';
  // what() names the sum (built only when it is the worst so far or fails)
  const check = (m: number, what: () => string) => {
    if (m > worst) {
      worst = m;
      where = what();
    }
    if (!(m < EXACT_LIMIT)) throw new Error(`exactness: ${what()} sums up to ${m} >= 2^24`);
  };
  for (const n of graph.nodes) {
    if (n.kind === 'mlp') {
      const outSum = new Map<number, number>();
      n.units.forEach((u, i) => {
        if (unitExact(u.pre)) check(unitMag(u.pre), () => `${n.role} unit ${i} pre-activation`);
        for (const [v, w] of u.out) outSum.set(v, (outSum.get(v) ?? 0) + Math.abs(w) * u.max);
      });
      for (const [v, b] of n.bias) outSum.set(v, (outSum.get(v) ?? 0) + Math.abs(b));
      for (const [v, s] of outSum) check(s, () => `${n.role} output ${graph.vregs[v].name}`);
    } else {
      if (!mem) throw new Error('exactness: attention without memory');
      const featMax = new Array<number>(mem.features).fill(1);
      featMax[mem.col.tick] = 2 ** 16;
      featMax[mem.col.value] = 255;
      let score = 0;
      n.query.forEach((f, k) => {
        if (k === mem.col.pad) return; // padding rows never win (−2^60), not an exact path
        // computing the query feature: its own partial sums
        check(mag(f) / BETA, () => `${n.role} query feature ${k}`);
        // the score sums the features' values (not their forms' terms): |q_k| ≤ max(|min|, |max|)
        const range = (v: number) => [graph.vregs[v].min, graph.vregs[v].max] as const;
        const qMax = Math.max(Math.abs(lmax(f, range)), Math.abs(lmax(lcomb([[f, -1]]), range)));
        score += (qMax / BETA) * featMax[k];
      });
      // a pending row's mask score adds to its q·k (exact: both are multiples of β)
      check(score + Math.max(0, ...(n.pendingScore ?? []).map((s) => Math.abs(s) / BETA)), () => `${n.role} score`);
      n.pending.forEach((row, r) => row.forEach((f, k) => check(mag(f), () => `${n.role} pending row ${r} feature ${k}`)));
    }
  }
  graph.readout.forEach((f, k) => check(mag(f), () => `readout feature ${k}`));
  for (const row of graph.ports) row.forEach((f, k) => check(mag(f), () => `readout entry feature ${k}`));
  return { worst, where };
}
