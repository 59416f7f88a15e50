// backend/graph.ts — the gadget graph: what ir_to_graph produces and every later pass reads.
//
// A graph is a set of virtual registers (scalars, each later given one
// residual slot) and nodes. Each node is work for exactly one sublayer:
//   - MlpNode: ReLU hidden units; unit k adds out_k·relu(pre_k) to its output vregs.
//   - HeadNode: one attention head over the memory cache plus this step's
//     pending rows; it writes chosen features of the attended row(s) to vregs.
// Vregs are written once (by one node, or by the embedding) and read by
// later nodes or by the readout.

import type { LinForm, Vreg } from './linear.js';
import { lmax } from './linear.js';

export interface VregInfo {
  id: Vreg;
  name: string; // e.g. "b2.v7.lo", "b0.load3.byte1"
  min: number;
  max: number;
  /** false for raw attention averages (approximately, not exactly, an integer). */
  exact: boolean;
}

export interface Unit {
  pre: LinForm;
  out: Array<[Vreg, number]>;
  /** Proven upper bound of the pre-activation value on in-range inputs (so relu(pre) <= max). */
  max: number;
}

export interface MlpNode {
  kind: 'mlp';
  id: number;
  block: number | null; // the expert (pc) it belongs to; null for tests' free-standing graphs
  role: string; // e.g. "b1.canon_lo(v3)"
  units: Unit[];
  bias: Array<[Vreg, number]>;
  outputs: Vreg[];
}

export interface HeadNode {
  kind: 'attn';
  id: number;
  block: number;
  role: string;
  /** Query in entry-feature space (length F), β already applied. */
  query: LinForm[];
  /** Rows this head sees besides the cache (each length F). */
  pending: LinForm[][];
  /** Additive score of each pending row (in `pending` order; default 0): a one-stage lookup ranks this step's stores by it. */
  pendingScore?: number[];
  /** (vreg, feature column): vreg := Σ_rows weight·row[feature]. */
  reads: Array<[Vreg, number]>;
  outputs: Vreg[];
}

export type GNode = MlpNode | HeadNode;

export interface Graph {
  vregs: VregInfo[];
  nodes: GNode[];
  /** The embedding vreg holding the constant 1 (the bias input of every map), if any. */
  one?: Vreg;
  /** Vregs written by the embedding, in token order (token index = position). */
  embed: Vreg[];
  /** Affine forms the readout emits as the next state token, in output order. */
  readout: LinForm[];
  /** Vregs (or constants) the readout reads for each new cache row: [port][feature]. */
  ports: LinForm[][];
}

const inputsCache = new WeakMap<GNode, Vreg[]>();

/** The vregs a node reads (memoized: nodes are immutable once a graph is built and pruned). */
export function nodeInputs(n: GNode): Vreg[] {
  let r = inputsCache.get(n);
  if (!r) {
    r = computeInputs(n);
    inputsCache.set(n, r);
  }
  return r;
}

/** A copy of n numbered `id` (its inputs, memoized, carried over). */
export function renumberedNode<T extends GNode>(n: T, id: number): T {
  const copy = { ...n, id };
  const r = inputsCache.get(n);
  if (r) inputsCache.set(copy, r);
  return copy;
}

function computeInputs(n: GNode): Vreg[] {
  const s = new Set<Vreg>();
  // a tabulate's units share their input's terms (staircase.ts applyPlan): visit each map once
  const seen = new Set<ReadonlyMap<Vreg, number>>();
  const add = (f: LinForm) => {
    if (seen.has(f.terms)) return;
    seen.add(f.terms);
    for (const v of f.terms.keys()) s.add(v);
  };
  if (n.kind === 'mlp') {
    for (const u of n.units) add(u.pre);
  } else {
    for (const f of n.query) add(f);
    for (const row of n.pending) for (const f of row) add(f);
  }
  return [...s];
}

/** Build-time helper: allocates vregs and records nodes in program order. */
export class GraphBuilder {
  readonly vregs: VregInfo[] = [];
  readonly nodes: GNode[] = [];

  /**
   * cheapBits: bit decompositions (gadgets/bits.ts LimbBits, by name) to build a nibble a
   * sublayer (backend/bit_slack.ts). sketch: build a sketch, a graph for measuring only (see
   * MlpBuilder.unit): every vreg, node, input and output as the full graph has them, but an MLP
   * node keeps one unit per distinct input map instead of every unit.
   */
  constructor(
    readonly cheapBits: ReadonlySet<string> = new Set(),
    readonly sketch = false,
  ) {}

  vreg(name: string, min: number, max: number, exact = true): Vreg {
    const id = this.vregs.length;
    this.vregs.push({ id, name, min, max, exact });
    return id;
  }

  range(v: Vreg): readonly [number, number] {
    const info = this.vregs[v];
    return [info.min, info.max];
  }

  mlp(block: number | null, role: string): MlpBuilder {
    const node: MlpNode = { kind: 'mlp', id: this.nodes.length, block, role, units: [], bias: [], outputs: [] };
    this.nodes.push(node);
    return new MlpBuilder(node, (f) => lmax(f, (v) => this.range(v)), this.sketch);
  }

  head(node: Omit<HeadNode, 'id' | 'kind'>): HeadNode {
    const n: HeadNode = { kind: 'attn', id: this.nodes.length, ...node };
    this.nodes.push(n);
    return n;
  }
}

/**
 * Accumulates hidden units of one MLP node.
 *
 * A sketch (GraphBuilder.sketch) is what the block splitter and the step merger measure: the
 * schedule, the slot allocation and the step shape read a node's inputs (the union of its units'
 * input maps, nodeInputs), its outputs and whether it has units, never the units themselves. So
 * a sketch node registers every output in the same order and keeps a unit only for an input map
 * it has not seen (the hundreds of units of a tabulate share one map: staircase.ts applyPlan),
 * with no outputs or bound: a sketch has the full graph's inputs, outputs, schedule and
 * allocation at a fraction of its units. Only full graphs are checked, assembled and emitted.
 */
export class MlpBuilder {
  private readonly seen: Set<ReadonlyMap<Vreg, number>> | null;

  constructor(
    readonly node: MlpNode,
    private readonly bound: (f: LinForm) => number,
    readonly sketch = false,
  ) {
    this.seen = sketch ? new Set() : null;
  }

  output(v: Vreg): Vreg {
    if (!this.node.outputs.includes(v)) this.node.outputs.push(v);
    return v;
  }

  /** One hidden unit; max bounds pre (default: from the vreg ranges). */
  unit(pre: LinForm, out: Array<[Vreg, number]>, max?: number): void {
    for (const [v] of out) this.output(v);
    if (this.seen) {
      if (!this.seen.has(pre.terms)) (this.seen.add(pre.terms), this.node.units.push({ pre, out: [], max: 0 }));
      return;
    }
    this.node.units.push({ pre, out, max: Math.max(0, max ?? this.bound(pre)) });
  }

  bias(v: Vreg, c: number): void {
    this.output(v);
    if (c !== 0) this.node.bias.push([v, c]);
  }

  /**
   * step(x >= k) for integer-valued x: relu(x-k+1) - relu(x-k) is 0 for x <= k-1
   * and exactly 1 for x >= k. Adds w·step to each output.
   */
  step(x: LinForm, k: number, out: Array<[Vreg, number]>, xMax?: number): void {
    if (this.seen) return this.unit(x, out);
    const top = xMax ?? this.bound(x);
    const shift = (d: number): LinForm => ({ terms: x.terms, c: x.c - d });
    this.unit(shift(k - 1), out, top - k + 1);
    this.unit(shift(k), out.map(([v, w]) => [v, -w] as [Vreg, number]), top - k);
  }
}
