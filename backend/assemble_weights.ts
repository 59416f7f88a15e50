// backend/assemble_weights.ts — pass 4: each expert's scheduled, allocated graph → sparse maps.
//
// Every linear map of a step is stored by its nonzero structure, per expert (row-vector x,
// as ONNX MatMul(x, W)):
//   embedding  x0[t] = token[t]                 (shared by all experts: component t → slot t)
//   attention  q = x·Wq → [H, F]; pending rows p = x·Wp → [Pn, F]
//              scores = q·[cache; p]ᵀ + [0 | mask]; w = softmax(scores)
//              x += reshape(w·[cache; p]) · Wo
//   MLP        x += relu(x·W1)·W2               (MLP output biases ride on a unit relu(1) = 1)
//   readout    next = x·Wout; entries = reshape(x·Went, [P, F])
// Slot 0 holds the constant 1 (token component `one`), so a bias is just a weight on slot 0
// and no map stores a dense bias vector. A SparseMap is the list of (input index, output
// index, value) of W. All
// experts share the model's dimensions (ModelDims: the widest expert per layer); an expert
// smaller than a dimension leaves the rest empty: its extra heads see only the cache and are
// read by nobody, its extra pending rows are masked out, its extra memory rows are all zero
// (KEEP = 0: dropped, format/memory.ts).
// A LinForm c + Σ k·v becomes entries (slot(v) → column, k) and (slot 0 → column, c).

import type { Graph, HeadNode, MlpNode } from './graph.js';
import type { LinForm } from './linear.js';
import type { Schedule } from './schedule.js';
import type { Allocation } from './allocate.js';
import { headWidths, NEVER, type HeadWidths, type MemoryLayout } from './encoding.js';

export interface SparseMap {
  nIn: number;
  nOut: number;
  src: number[];
  dst: number[];
  val: number[];
}

/** The residual slot of the constant 1 (token component `one`, pinned by the allocator). */
export const ONE_SLOT = 0;

export interface ExpertAttn {
  q: SparseMap;
  pending: SparseMap | null;
  /** [H × Pn]: the head's score for a pending row it may see (0, or its pendingScore), NEVER elsewhere. */
  mask: Float32Array;
  out: SparseMap;
  roles: string[];
  /** Pending rows this expert's heads read (the first ones of the layer's Pn). */
  pendingUsed: number;
}

export interface ExpertMlp {
  up: SparseMap;
  down: SparseMap;
  roles: string[];
}

export interface ExpertWeights {
  layers: Array<{ attn: ExpertAttn | null; mlp: ExpertMlp | null }>;
  next: SparseMap;
  entries: SparseMap | null;
}

/** The dimensions every expert is laid out in. */
export interface ModelDims {
  d: number;
  layers: number;
  features: number; // F (0 without memory)
  /** A head's query width and the feature range it reads (format/memory.ts headWidths). */
  head: HeadWidths;
  tokenIn: number;
  tokenOut: number;
  ports: number; // memory rows per step
  heads: number[]; // per layer (0: no attention sublayer)
  pendingRows: number[]; // per layer
  hidden: number[]; // per layer (0: no MLP sublayer)
}

/**
 * How many layers an expert's step needs: one past the last layer whose output maps (attention
 * out, MLP down: the maps that add into the residual stream) hold any of its entries. The layers
 * after it leave the stream unchanged for this expert.
 */
export function expertDepth(e: ExpertWeights): number {
  let depth = 0;
  e.layers.forEach((l, k) => {
    if ((l.attn?.out.src.length ?? 0) > 0 || (l.mlp?.down.src.length ?? 0) > 0) depth = k + 1;
  });
  return depth;
}

export interface ModelWeights {
  dims: ModelDims;
  experts: ExpertWeights[];
}

export interface PlacedExpert {
  graph: Graph;
  sched: Schedule;
  alloc: Allocation;
}

class MapBuilder {
  // the terms as added: key src·nOut + dst and value, in typed arrays (no Map entry a term: the
  // compile of a large program made millions, most of its garbage collection)
  private keys = new Float64Array(16);
  private vals = new Float64Array(16);
  private n = 0;
  constructor(
    readonly nIn: number,
    readonly nOut: number,
  ) {}

  add(src: number, dst: number, k: number): void {
    if (k === 0) return;
    if (src < 0 || src >= this.nIn || dst < 0 || dst >= this.nOut) throw new Error(`assemble: entry (${src} → ${dst}) outside ${this.nIn}×${this.nOut}`);
    if (this.n === this.keys.length) {
      const keys = new Float64Array(2 * this.n);
      const vals = new Float64Array(2 * this.n);
      keys.set(this.keys);
      vals.set(this.vals);
      this.keys = keys;
      this.vals = vals;
    }
    this.keys[this.n] = src * this.nOut + dst;
    this.vals[this.n++] = k;
  }

  form(f: LinForm, dst: number, slot: (v: number) => number): void {
    f.terms.forEach((k, v) => {
      const s = slot(v);
      if (s < 0) throw new Error(`assemble: vreg v${v} read but not materialised`);
      this.add(s, dst, k);
    });
    if (f.c !== 0) this.add(ONE_SLOT, dst, f.c);
  }

  build(): SparseMap {
    // entries in (src, dst) order: the terms sorted by key, then by the order they were added
    // (key·2^24 + index, exact below 2^53: keys < 2^29), each key's terms summed in that order
    // (as a running sum per key would), entries that sum to 0 dropped
    const n = this.n;
    const at = this.termOrder();
    const src: number[] = [];
    const dst: number[] = [];
    const val: number[] = [];
    for (let j = 0; j < n; ) {
      const key = this.keys[at(j)];
      let sum = 0;
      for (; j < n && this.keys[at(j)] === key; j++) sum += this.vals[at(j)];
      if (sum === 0) continue;
      const s = Math.floor(key / this.nOut);
      src.push(s);
      dst.push(key - s * this.nOut);
      val.push(sum);
    }
    return { nIn: this.nIn, nOut: this.nOut, src, dst, val };
  }

  /**
   * The terms' indices by key (src·nOut + dst), then by index: for few terms a typed sort of
   * key·2^24 + index; else two stable counting sorts, by dst and then by src (O(n + nIn + nOut)),
   * where the rows fit counting arrays; else a comparison sort.
   */
  private termOrder(): (j: number) => number {
    const n = this.n;
    if (n < 2 ** 24 && this.nIn * this.nOut < 2 ** 29 && 4 * n < this.nIn + this.nOut) {
      // few terms for the rows: a typed sort of key·2^24 + index (exact below 2^53)
      const order = new Float64Array(n);
      for (let j = 0; j < n; j++) order[j] = this.keys[j] * 2 ** 24 + j;
      order.sort();
      return (j) => order[j] % 2 ** 24;
    }
    if (this.nIn <= 2 ** 24 && this.nOut <= 2 ** 24) {
      const { nOut } = this;
      const src = new Int32Array(n);
      const dst = new Int32Array(n);
      for (let j = 0; j < n; j++) {
        const s = Math.floor(this.keys[j] / nOut);
        src[j] = s;
        dst[j] = this.keys[j] - s * nOut;
      }
      const byDst = countingOrder(dst, nOut, null);
      const order = countingOrder(src, this.nIn, byDst);
      return (j) => order[j];
    }
    const keys = this.keys;
    const idx = Array.from({ length: n }, (_, j) => j).sort((a, b) => keys[a] - keys[b] || a - b);
    return (j) => idx[j];
  }
}

/** The indices in `order` (0..n−1 in order when null) stably sorted by key[i] ∈ [0, range). */
function countingOrder(key: Int32Array, range: number, order: Int32Array | null): Int32Array {
  const n = key.length;
  const start = new Int32Array(range + 1);
  for (let j = 0; j < n; j++) start[key[j] + 1]++;
  for (let r = 0; r < range; r++) start[r + 1] += start[r];
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const j = order ? order[k] : k;
    out[start[key[j]]++] = j;
  }
  return out;
}

function nodesAt<T extends MlpNode | HeadNode>(e: PlacedExpert, kind: T['kind'], point: number): T[] {
  return e.graph.nodes.filter((n, i) => n.kind === kind && e.sched.nodePoint[i] === point) as T[];
}

function pendingRowsOf(heads: HeadNode[]): LinForm[][] {
  // A pending row (one byte of an earlier store) appears once per layer; masks pick per head.
  const rows: LinForm[][] = [];
  const seen = new Set<LinForm[]>();
  for (const h of heads) for (const row of h.pending) if (!seen.has(row)) (seen.add(row), rows.push(row));
  return rows;
}

function mlpUnits(e: PlacedExpert, l: number): number {
  const nodes = nodesAt<MlpNode>(e, 'mlp', 2 * l + 1);
  const units = nodes.reduce((s, n) => s + n.units.length, 0);
  const clears = e.alloc.clears.get(2 * l + 1)?.length ?? 0;
  const biasUnit = nodes.some((n) => n.bias.some(([v, c]) => c !== 0 && e.alloc.slot[v] >= 0)) ? 1 : 0;
  return units + 2 * clears + biasUnit;
}

/** The widest expert per dimension. */
export function modelDims(experts: PlacedExpert[], tokenIn: number, tokenOut: number, mem: MemoryLayout | null): ModelDims {
  const features = mem?.features ?? 0;
  const layers = Math.max(1, ...experts.map((e) => e.sched.layers));
  const per = (f: (e: PlacedExpert, l: number) => number) => Array.from({ length: layers }, (_, l) => Math.max(0, ...experts.map((e) => f(e, l))));
  return {
    d: Math.max(1, tokenIn, ...experts.map((e) => e.alloc.dModel)),
    layers,
    features,
    head: mem ? headWidths(mem) : { keys: 0, valueStart: 0, valueEnd: 0 },
    tokenIn,
    tokenOut,
    ports: Math.max(0, ...experts.map((e) => e.graph.ports.length)),
    heads: per((e, l) => nodesAt<HeadNode>(e, 'attn', 2 * l).length),
    pendingRows: per((e, l) => pendingRowsOf(nodesAt<HeadNode>(e, 'attn', 2 * l)).length),
    hidden: per(mlpUnits),
  };
}

export function assembleExpert(e: PlacedExpert, dims: ModelDims): ExpertWeights {
  const slot = (v: number) => e.alloc.slot[v];
  const { d, features: F } = dims;
  const layers: ExpertWeights['layers'] = [];
  for (let l = 0; l < dims.layers; l++) {
    const H = dims.heads[l];
    const Pn = dims.pendingRows[l];
    let attn: ExpertAttn | null = null;
    if (H > 0) {
      const heads = nodesAt<HeadNode>(e, 'attn', 2 * l);
      const rows = pendingRowsOf(heads);
      const { keys: K, valueStart: V0, valueEnd: V1 } = dims.head;
      const q = new MapBuilder(d, H * K);
      const pending = Pn > 0 ? new MapBuilder(d, Pn * F) : null;
      const out = new MapBuilder(H * (V1 - V0), d);
      const mask = new Float32Array(H * Pn).fill(NEVER);
      rows.forEach((row, r) => row.forEach((f, k) => pending!.form(f, r * F + k, slot)));
      heads.forEach((h, hi) => {
        h.query.forEach((f, k) => {
          if (k < K) q.form(f, hi * K + k, slot);
          else if (f.terms.size > 0 || f.c !== 0) throw new Error(`assemble: ${h.role} weighs feature ${k}, past its layout's ${K} key features`);
        });
        h.pending.forEach((row, i) => (mask[hi * Pn + rows.indexOf(row)] = h.pendingScore?.[i] ?? 0));
        for (const [v, k] of h.reads) {
          if (k < V0 || k >= V1) throw new Error(`assemble: ${h.role} reads feature ${k}, outside its layout's [${V0}, ${V1})`);
          out.add(hi * (V1 - V0) + k - V0, slot(v), 1);
        }
      });
      attn = { q: q.build(), pending: pending?.build() ?? null, mask, out: out.build(), roles: heads.map((h) => h.role), pendingUsed: rows.length };
    }
    let mlp: ExpertMlp | null = null;
    const U = dims.hidden[l];
    if (U > 0) {
      const nodes = nodesAt<MlpNode>(e, 'mlp', 2 * l + 1);
      const up = new MapBuilder(d, U);
      const down = new MapBuilder(U, d);
      let u = 0;
      const biases: Array<[number, number]> = [];
      for (const n of nodes) {
        for (const unit of n.units) {
          up.form(unit.pre, u, slot);
          for (const [v, k] of unit.out) if (slot(v) >= 0) down.add(u, slot(v), k);
          u++;
        }
        for (const [v, c] of n.bias) if (c !== 0 && slot(v) >= 0) biases.push([slot(v), c]);
      }
      const clears = e.alloc.clears.get(2 * l + 1) ?? [];
      // clear units: x − relu(x) + relu(−x) = 0 exactly
      for (const v of clears) {
        up.add(slot(v), u, 1);
        down.add(u, slot(v), -1);
        up.add(slot(v), u + 1, -1);
        down.add(u + 1, slot(v), 1);
        u += 2;
      }
      if (biases.length) {
        // MLP output biases: one unit with pre-activation 1, relu(1) = 1, times each bias
        up.add(ONE_SLOT, u, 1);
        for (const [s, c] of biases) down.add(u, s, c);
        u++;
      }
      const roles = [...nodes.map((n) => n.role), ...(clears.length ? [`clear(${clears.length})`] : [])];
      mlp = { up: up.build(), down: down.build(), roles };
    }
    layers.push({ attn, mlp });
  }
  const next = new MapBuilder(d, dims.tokenOut);
  e.graph.readout.forEach((f, i) => next.form(f, i, slot));
  let entries: SparseMap | null = null;
  if (dims.ports > 0) {
    const m = new MapBuilder(d, dims.ports * F);
    e.graph.ports.forEach((row, p) => row.forEach((f, k) => m.form(f, p * F + k, slot)));
    entries = m.build();
  }
  return { layers, next: next.build(), entries };
}

/** Every map of an expert, for counting. */
export function expertMaps(w: ExpertWeights): SparseMap[] {
  const maps: SparseMap[] = [w.next];
  if (w.entries) maps.push(w.entries);
  for (const l of w.layers) {
    if (l.attn) maps.push(l.attn.q, l.attn.out, ...(l.attn.pending ? [l.attn.pending] : []));
    if (l.mlp) maps.push(l.mlp.up, l.mlp.down);
  }
  return maps;
}

/** A dense copy of a map: [nIn × nOut] row-major (for the dense model form and tests). */
export function denseOf(m: SparseMap): Float32Array {
  const W = new Float32Array(m.nIn * m.nOut);
  m.src.forEach((s, i) => (W[s * m.nOut + m.dst[i]] += m.val[i]));
  return W;
}
