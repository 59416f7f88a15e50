// test/support/graph_eval.ts — a reference evaluator of the gadget graph (plain JS, no ONNX).
//
// It models the math each node stands for, independently of the weight
// assembly and ONNX emission passes:
//   - MLP node:  each output vreg = Σ_units w·relu(pre) + bias;
//   - head node: scores = query · row over the given cache rows and then the
//     head's own pending rows, softmax, and each read vreg := Σ weight·row[feature].
// Nodes are evaluated in graph order (ir_to_graph and GraphBuilder record them
// in dependency order). In float64 mode everything is plain JS arithmetic; in
// float32 mode every product, sum, exp and quotient is rounded with
// Math.fround and exp weights below e^-103 flush to 0 (float32 underflow), a
// model of what ONNX Runtime's float32 kernels can do.

import type { Graph, HeadNode } from '../../backend/graph.js';
import type { LinForm, Vreg } from '../../backend/linear.js';

export interface EvalOptions {
  /** Cache rows (each of length F) every head attends over before its pending rows. */
  cache?: ReadonlyArray<ArrayLike<number>>;
  /** Round every operation to float32 (Math.fround) and flush exp underflow to 0. */
  float32?: boolean;
  /** Sees each head's scores and softmax weights (cache rows first, then pending rows). */
  onHead?: (node: HeadNode, weights: number[], scores: number[]) => void;
}

export interface EvalResult {
  /** Value of every vreg (NaN for vregs neither embedded nor written by a node). */
  values: Float64Array;
  /** Evaluate an affine form over the computed vreg values. */
  form(f: LinForm): number;
  /** The readout vector (graph.readout forms, in order). */
  readout: number[];
  /** The new cache rows the readout produces: [port][feature]. */
  ports: number[][];
}

/** float32 exp underflow: e^x is flushed to 0 below this exponent. */
export const EXP_UNDERFLOW = -103;

/**
 * Evaluate `graph` given the embedding values (in graph.embed order).
 * Throws when a node reads a vreg that has no value yet (dependency order broken).
 */
export function evalGraph(graph: Graph, embedValues: ArrayLike<number>, opts: EvalOptions = {}): EvalResult {
  if (embedValues.length !== graph.embed.length) {
    throw new Error(`evalGraph: ${embedValues.length} embedding values for ${graph.embed.length} embedding vregs`);
  }
  const r = opts.float32 ? Math.fround : (x: number) => x;
  const values = new Float64Array(graph.vregs.length).fill(Number.NaN);
  graph.embed.forEach((v, i) => (values[v] = r(embedValues[i])));
  const read = (v: Vreg): number => {
    const x = values[v];
    if (Number.isNaN(x)) throw new Error(`evalGraph: v${v} (${graph.vregs[v]?.name}) read before it has a value`);
    return x;
  };
  const form = (f: LinForm): number => {
    let s = r(f.c);
    for (const [v, k] of f.terms) s = r(s + r(k * read(v)));
    return s;
  };

  for (const n of graph.nodes) {
    if (n.kind === 'mlp') {
      const acc = new Map<Vreg, number>();
      for (const v of n.outputs) acc.set(v, 0);
      for (const u of n.units) {
        const a = Math.max(0, form(u.pre));
        for (const [v, w] of u.out) acc.set(v, r((acc.get(v) ?? 0) + r(w * a)));
      }
      for (const [v, b] of n.bias) acc.set(v, r((acc.get(v) ?? 0) + r(b)));
      for (const [v, x] of acc) values[v] = x;
    } else {
      const q = n.query.map(form);
      const rows: ArrayLike<number>[] = [...(opts.cache ?? []), ...n.pending.map((row) => row.map(form))];
      const cached = opts.cache?.length ?? 0;
      const scores = rows.map((row, i) => {
        if (row.length !== q.length) throw new Error(`evalGraph: ${n.role}: row of ${row.length} features, query of ${q.length}`);
        let s = 0;
        for (let k = 0; k < q.length; k++) s = r(s + r(q[k] * row[k]));
        // a pending row's score from the head's mask (one-stage lookups rank this step's stores)
        return i >= cached ? r(s + (n.pendingScore?.[i - cached] ?? 0)) : s;
      });
      const max = Math.max(...scores);
      const e = scores.map((s) => {
        const d = r(s - max);
        if (opts.float32 && d < EXP_UNDERFLOW) return 0;
        return r(Math.exp(d));
      });
      let sum = 0;
      for (const x of e) sum = r(sum + x);
      const weights = e.map((x) => r(x / sum));
      opts.onHead?.(n, weights, scores);
      for (const [v, col] of n.reads) {
        let s = 0;
        rows.forEach((row, i) => {
          if (weights[i] !== 0) s = r(s + r(weights[i] * row[col]));
        });
        values[v] = s;
      }
    }
  }
  return {
    values,
    form,
    readout: graph.readout.map(form),
    ports: graph.ports.map((row) => row.map(form)),
  };
}
