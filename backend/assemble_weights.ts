// backend/assemble_weights.ts — pass 4: scheduled, allocated graph → dense weight matrices.
//
// Conventions (row-vector x, as ONNX MatMul(x, W)):
//   embedding  x0 = token · Wemb                         Wemb [tokenIn × d]
//   attention  q = x·Wq + bq → [H, F]; pending rows p = x·Wp + bp → [Pn, F]
//              scores = q·[cache; p]ᵀ + [0 | mask]; w = softmax(scores)
//              x += reshape(w·[cache; p]) · Wo         Wo [H·F × d]
//   MLP        x += relu(x·W1 + b1)·W2 + b2
//   readout    next = x·Wout + bout; entries = reshape(x·Went + bent, [P, F])
// A LinForm c + Σ k·v becomes column entries W[slot(v)] += k and bias += c.

import type { Graph, HeadNode, MlpNode } from './graph.js';
import type { LinForm } from './linear.js';
import type { Schedule } from './schedule.js';
import type { Allocation } from './allocate.js';
import { NEVER } from './encoding.js';

export interface AttnWeights {
  heads: number;
  pendingRows: number;
  Wq: Float32Array; // [d, H*F]
  bq: Float32Array; // [H*F]
  Wp: Float32Array; // [d, Pn*F]
  bp: Float32Array; // [Pn*F]
  mask: Float32Array; // [H, Pn]
  Wo: Float32Array; // [H*F, d]
  roles: string[];
}

export interface MlpWeights {
  hidden: number;
  W1: Float32Array; // [d, hidden]
  b1: Float32Array;
  W2: Float32Array; // [hidden, d]
  b2: Float32Array; // [d]
  roles: string[];
}

export interface ModelWeights {
  d: number;
  features: number; // F (0 without memory)
  tokenIn: number;
  tokenOut: number;
  ports: number;
  Wemb: Float32Array;
  layers: Array<{ attn: AttnWeights | null; mlp: MlpWeights | null }>;
  Wout: Float32Array;
  bout: Float32Array;
  Went: Float32Array; // [d, P*F]
  bent: Float32Array;
}

function putForm(W: Float32Array, b: Float32Array, cols: number, col: number, f: LinForm, slot: (v: number) => number): void {
  for (const [v, k] of f.terms) {
    const s = slot(v);
    if (s < 0) throw new Error(`assemble: vreg v${v} read but not materialised`);
    W[s * cols + col] += k;
  }
  b[col] += f.c;
}

export function assembleWeights(graph: Graph, sched: Schedule, alloc: Allocation, features: number): ModelWeights {
  const d = alloc.dModel;
  const slot = (v: number) => alloc.slot[v];
  const tokenIn = graph.embed.length;
  const Wemb = new Float32Array(tokenIn * d);
  graph.embed.forEach((v, t) => {
    if (slot(v) >= 0) Wemb[t * d + slot(v)] = 1;
  });
  const layers: ModelWeights['layers'] = [];
  for (let l = 0; l < sched.layers; l++) {
    const heads = graph.nodes.filter((n, i) => n.kind === 'attn' && sched.nodePoint[i] === 2 * l) as HeadNode[];
    const mlps = graph.nodes.filter((n, i) => n.kind === 'mlp' && sched.nodePoint[i] === 2 * l + 1) as MlpNode[];
    const clears = alloc.clears.get(2 * l + 1) ?? [];
    layers.push({ attn: heads.length ? attnWeights(heads, d, features, slot) : null, mlp: mlps.length || clears.length ? mlpWeights(mlps, clears, d, slot) : null });
  }
  const tokenOut = graph.readout.length;
  const Wout = new Float32Array(d * tokenOut);
  const bout = new Float32Array(tokenOut);
  graph.readout.forEach((v, i) => putForm(Wout, bout, tokenOut, i, { terms: new Map([[v, 1]]), c: 0 }, slot));
  const P = graph.ports.length;
  const Went = new Float32Array(d * P * features);
  const bent = new Float32Array(P * features);
  graph.ports.forEach((row, p) => row.forEach((f, k) => putForm(Went, bent, P * features, p * features + k, f, slot)));
  return { d, features, tokenIn, tokenOut, ports: P, Wemb, layers, Wout, bout, Went, bent };
}

function attnWeights(heads: HeadNode[], d: number, F: number, slot: (v: number) => number): AttnWeights {
  const H = heads.length;
  // Pending rows are shared: a row (one byte of a store earlier in the step) appears once
  // per layer, and the head mask lets each head see exactly the rows its own load may see.
  const rowIndex = new Map<LinForm[], number>();
  const rows: LinForm[][] = [];
  for (const h of heads) {
    for (const row of h.pending) {
      if (!rowIndex.has(row)) {
        rowIndex.set(row, rows.length);
        rows.push(row);
      }
    }
  }
  const Pn = rows.length;
  const Wq = new Float32Array(d * H * F);
  const bq = new Float32Array(H * F);
  const Wp = new Float32Array(d * Pn * F);
  const bp = new Float32Array(Pn * F);
  const mask = new Float32Array(H * Pn).fill(NEVER);
  const Wo = new Float32Array(H * F * d);
  rows.forEach((row, r) => row.forEach((f, k) => putForm(Wp, bp, Pn * F, r * F + k, f, slot)));
  heads.forEach((h, hi) => {
    h.query.forEach((f, k) => putForm(Wq, bq, H * F, hi * F + k, f, slot));
    for (const row of h.pending) mask[hi * Pn + rowIndex.get(row)!] = 0;
    for (const [v, k] of h.reads) Wo[(hi * F + k) * d + slot(v)] += 1;
  });
  return { heads: H, pendingRows: Pn, Wq, bq, Wp, bp, mask, Wo, roles: heads.map((h) => h.role) };
}

function mlpWeights(nodes: MlpNode[], clears: number[], d: number, slot: (v: number) => number): MlpWeights {
  const hidden = nodes.reduce((s, n) => s + n.units.length, 0) + 2 * clears.length;
  const W1 = new Float32Array(d * hidden);
  const b1 = new Float32Array(hidden);
  const W2 = new Float32Array(hidden * d);
  const b2 = new Float32Array(d);
  let u = 0;
  for (const n of nodes) {
    for (const unit of n.units) {
      putForm(W1, b1, hidden, u, unit.pre, slot);
      for (const [v, k] of unit.out) if (slot(v) >= 0) W2[u * d + slot(v)] += k;
      u++;
    }
    for (const [v, c] of n.bias) if (slot(v) >= 0) b2[slot(v)] += c;
  }
  // clear units: x - relu(x) + relu(-x) = 0 exactly
  for (const v of clears) {
    const s = slot(v);
    W1[s * hidden + u] = 1;
    W2[u * d + s] = -1;
    W1[s * hidden + u + 1] = -1;
    W2[(u + 1) * d + s] = 1;
    u += 2;
  }
  return { hidden, W1, b1, W2, b2, roles: [...nodes.map((n) => n.role), ...(clears.length ? [`clear(${clears.length})`] : [])] };
}
