// backend/emit_onnx.ts — pass 5: expert weights → one self-describing ONNX model (bytes).
//
// The graph is an ordinary decoder step whose weights are chosen by the program counter,
// as in a top-1 mixture of experts (DESIGN.md §8). The residual stream is [slots, B]: one
// column per execution. Two execution forms of the same transformer:
//   - routed ('gather'): input `pc` (int64 [1]): the runtime dispatches the executions at the
//     same pc together, as an MoE layer dispatches the tokens routed to one expert. Each
//     sparse map stores every expert's (source, target, value) entries one after another in
//     flat tables; a step gathers the active expert's start and end by pc, slices exactly its
//     entries, gathers the rows they read, multiplies, and scatter-adds them (ScatterND,
//     reduction add) into zeros or into the residual stream itself. Work and storage are the
//     active expert's nonzeros, not the widest expert's, and not dModel².
//   - dense ('onehot'): input `route` (one-hot float [B, E]); every map is a stack of dense
//     matrices [E, nIn·nOut], each row's picked by MatMul(route, stack). Only MatMul, Add,
//     Relu, Softmax and shape ops: for small programs and for checking the routed form.
// Index inputs (Gather, ScatterND) and slice bounds come only from initializers and pc.
// Routed models also read the step's outputs out after fewer layers for the experts that need
// fewer (`exit<N>.*`, layout.experts[].exit): the readout maps' entries are sliced once and
// applied to the residual stream at each such depth; the runtime runs a step of such an
// expert on the graph cut at its exit's outputs (mixture-of-depths routing by pc).
// Nodes and initializers are named by layer and role ("layer3.mlp.up.src"); the layout
// goes into metadata_props["wasmformer.layout"]. Output is deterministic.

import onnxProto from 'onnx-proto';
import type { ExpertWeights, ModelWeights, SparseMap } from './assemble_weights.js';
import { denseOf } from './assemble_weights.js';
import { exitDepths, LAYOUT_KEY, traceOutputNames, type ModelLayout, type Routing } from '../format/layout.js';
import { CACHE_KEYS, CACHE_VALUES } from '../format/memory.js';
import { int64Raw } from '../format/fold.js';

const { onnx } = onnxProto;

/** Every op an emitted model may use. Index inputs of the gathers: initializers and pc only. */
export const ALLOWED_OPS = new Set([
  'MatMul', 'Add', 'Relu', 'Softmax', 'Transpose', 'Reshape', 'Concat', 'Slice', 'Mul',
  'Gather', 'ScatterND', 'Expand', 'Split',
]);

/** Ops that take an index input (input 1), whose provenance the op-set test checks. */
export const INDEX_OPS = new Set(['Gather', 'ScatterND']);

type Dim = number | string;

function valueInfo(name: string, dims: Dim[], elemType: number = onnx.TensorProto.DataType.FLOAT) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'string'
              ? onnx.TensorShapeProto.Dimension.create({ dimParam: d })
              : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

type Attr = number | number[] | string;

class GraphWriter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inits: onnxProto.onnx.ITensorProto[] = [];
  params = 0;

  float(name: string, data: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(bytes) }));
    this.params += data.length;
    return name;
  }

  int64(name: string, data: ArrayLike<number>, dims: number[] = [data.length]): string {
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims, rawData: int64Raw(data) }));
    if (name.endsWith('.table')) this.params += data.length;
    return name;
  }

  op(opType: string, name: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const attribute = Object.entries(attrs).map(([k, v]) =>
      typeof v === 'string'
        ? onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) })
        : Array.isArray(v)
          ? onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
          : onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INT, i: v }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType, name, input: inputs, output: [name], attribute }));
    return name;
  }

  /** A node with several outputs (Split): named `name`, its outputs named by the caller. */
  multi(opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, number>): string[] {
    const attribute = Object.entries(attrs).map(([k, v]) => onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INT, i: v }));
    this.nodes.push(onnx.NodeProto.create({ opType, name, input: inputs, output: outputs, attribute }));
    return outputs;
  }

  reshape(name: string, x: string, shape: number[]): string {
    return this.op('Reshape', name, [x, this.int64(`${name}.shape`, shape)]);
  }
}

/** The first `end` rows of t (a bound: the active expert's width), node `${name}.active`. */
function firstRows(gw: GraphWriter, name: string, t: string, end: string): string {
  return gw.op('Slice', `${name}.active`, [t, gw.int64(`${name}.zero`, [0]), end, gw.int64(`${name}.axes`, [0])]);
}

/** How one linear map is applied: the routed and dense forms differ only here. */
interface MapEmitter {
  /** y = x·W_e for the active expert e; added onto `into` when given. */
  map(name: string, x: string, maps: SparseMap[], into: string | null): string;
  /** The same map (its entries sliced once) applied to several inputs: `at[k].x` → a result named after `at[k].name`. */
  mapEach(name: string, at: Array<{ name: string; x: string }>, maps: SparseMap[]): string[];
  /** The active expert's rows of a per-expert float table [E, ...rowDims]. */
  table(name: string, rows: Float32Array[], rowDims: number[]): string;
  /** A [1] int64 bound: the active expert's count (routed), or the widest count (dense, padded). */
  bound(name: string, counts: number[]): string;
  /** y = x·W_e into a fresh tensor of the active expert's width widths[e] (its map writes only rows below it). */
  mapSized(name: string, x: string, maps: SparseMap[], widths: number[]): string;
  /** into + x·W_e where x has the active expert's width inWidths[e] (its map reads only rows below it). */
  mapFrom(name: string, x: string, maps: SparseMap[], inWidths: number[], into: string): string;
  /** The embedding's columns [tokenIn, w_e] for the active expert e: the residual stream as wide as it needs. */
  embedding(W: string, widths: number[]): string;
  /** x + down(relu(up(x))) for the active expert: an MLP block with its residual add. */
  mlp(name: string, x: string, ups: SparseMap[], downs: SparseMap[]): string;
}

/**
 * How a routed map stores an expert's part: its nonzero entries (source row, target row, value),
 * or, for a *compact* map, the rows it reads (k), the rows it writes (m) and the dense [m, k]
 * block between them. A compact map costs k·m multiply-adds in one MatMul instead of a Gather,
 * a Mul and a scatter-add per entry (measured: about 15 ns an entry against well under 1 ns a
 * multiply-add at batch 1), so it is chosen where the blocks are dense enough that they store at
 * most COMPACT_STORAGE times the bytes of the entries (20 bytes an entry, 4 a block cell).
 */
export const COMPACT_STORAGE = 2;

/** The most outputs of a float Split (a WebGPU shader binds at most 8 storage buffers). */
const SPLIT_FANOUT = 7;

/** xs cut into runs of n. */
function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

interface MapPart {
  src: number[];
  dst: number[];
  /** sparse: one value per entry; compact: the [dst.length, src.length] block, row-major. */
  val: number[];
}

/** An expert's part of a compact map, or null when two entries share a cell (kept sparse: their sum could round). */
function compactPart(m: SparseMap): MapPart | null {
  // an expert without entries here gets a [1, 1] zero block (as a sparse part gets one zero entry)
  if (m.src.length === 0) return { src: [0], dst: [0], val: [0] };
  const ins = sortedUnique(m.src, m.nIn);
  const outs = sortedUnique(m.dst, m.nOut);
  const col = new Int32Array(m.nIn);
  const row = new Int32Array(m.nOut);
  ins.forEach((r, k) => (col[r] = k));
  outs.forEach((r, k) => (row[r] = k));
  const block = new Array<number>(ins.length * outs.length).fill(0);
  const seen = new Uint8Array(ins.length * outs.length);
  for (let k = 0; k < m.src.length; k++) {
    const cell = row[m.dst[k]] * ins.length + col[m.src[k]];
    if (seen[cell]) return null;
    seen[cell] = 1;
    block[cell] = m.val[k];
  }
  return { src: ins, dst: outs, val: block };
}

/** The distinct values of xs (integers in [0, n)), ascending. */
function sortedUnique(xs: readonly number[], n: number): number[] {
  const seen = new Uint8Array(n);
  for (let k = 0; k < xs.length; k++) seen[xs[k]] = 1;
  const out: number[] = [];
  for (let v = 0; v < n; v++) if (seen[v]) out.push(v);
  return out;
}

/** How many distinct values xs (integers in [0, n)) holds. */
function distinct(xs: readonly number[], n: number): number {
  const seen = new Uint8Array(n);
  let c = 0;
  for (let k = 0; k < xs.length; k++) if (!seen[xs[k]]) (seen[xs[k]] = 1), c++;
  return c;
}

/** Every expert's part of a map: compact where that stores at most COMPACT_STORAGE × the entries. */
function partsOf(maps: SparseMap[]): { compact: boolean; parts: MapPart[] } {
  // an expert without entries here gets one zero entry (row 0 times 0 added to row 0, exact):
  // no part, and no tensor a map computes, is empty (WebGPU's Softmax refuses empty tensors;
  // empty Split parts, MatMuls and Reshapes there are untested)
  const sparse = { compact: false, parts: maps.map((m) => (m.src.length ? { src: m.src, dst: m.dst, val: m.val } : { src: [0], dst: [0], val: [0] })) };
  const nnz = maps.reduce((n, m) => n + m.src.length, 0);
  const cells = maps.reduce((n, m) => n + distinct(m.src, m.nIn) * distinct(m.dst, m.nOut), 0);
  if (4 * cells > COMPACT_STORAGE * 20 * nnz) return sparse;
  const parts = maps.map(compactPart);
  return parts.every((p) => p !== null) ? { compact: true, parts: parts as MapPart[] } : sparse;
}

/**
 * Every expert's part of a compact map whose rows on one side are all of the expert's rows
 * there, in order: `dst` 0..widths[e]−1 (its product is the whole result) or `src` (its input is
 * the whole tensor). Null when the map is not compact (partsOf) or the padding (zero rows or
 * columns the map does not use) would more than double its blocks' cells.
 */
function wholeParts(maps: SparseMap[], widths: number[], side: 'src' | 'dst'): MapPart[] | null {
  const { compact, parts } = partsOf(maps);
  if (!compact) return null;
  let cells = 0;
  let padded = 0;
  const whole = parts.map((p, e) => {
    const all = Array.from({ length: widths[e] }, (_, k) => k);
    const [src, dst] = side === 'dst' ? [p.src, all] : [all, p.dst];
    // the rows kept from the compact part: their places in it
    const kept = new Map<number, number>((side === 'dst' ? p.src : p.dst).map((r, k) => [r, k]));
    const val = new Array<number>(src.length * dst.length).fill(0);
    const m = maps[e];
    for (let k = 0; k < m.src.length; k++) {
      const [i, o] = side === 'dst' ? [kept.get(m.src[k])!, m.dst[k]] : [m.src[k], kept.get(m.dst[k])!];
      val[o * src.length + i] = m.val[k];
    }
    cells += p.val.length;
    padded += val.length;
    return { src, dst, val };
  });
  return padded <= 2 * cells + 64 * parts.length ? whole : null;
}

class RoutedEmitter implements MapEmitter {
  private readonly zeros = new Map<number, string>();
  private zeroRowName = '';
  /** The residual stream as embedded (depth 0): the zero row is made from it (see zeroRowOf). */
  private stream0 = '';
  /** Every int64 bound of the graph: its name and per-expert values, `width` of them (see finish()). */
  private readonly bounds: Array<{ name: string; width: number; rows: number[][] }> = [];
  /** Every map with entries, in graph order, and its parts (see finish()). */
  private readonly maps: Array<{ name: string; compact: boolean; parts: MapPart[]; scatters: boolean; gathers: boolean }> = [];
  constructor(private readonly gw: GraphWriter) {}

  /**
   * The active expert's index rows of every map at once: its region of the source and target
   * tables (every expert's parts, one region after another, map by map) is one Slice per table,
   * Split into the maps' parts by its per-map counts; the values likewise, a compact map's part
   * being its block's cells, reshaped to [m, k]: one Split output and one shape bound a block,
   * not a Slice node and three bound outputs (measured, 4–8% less per session.run at batch 1,
   * though a block is copied twice). So a sparse map costs 3 nodes (Gather, Mul, ScatterND) and a
   * compact one 4 (Reshape, Gather, MatMul, ScatterND), besides the shared Slice and Split(s) per
   * table (DESIGN.md §8).
   */
  private finishEntries(E: number): void {
    const { gw } = this;
    if (this.maps.length === 0) return;
    const axes = gw.int64('entries.axes', [0]);
    const region = (what: 'src' | 'dst' | 'val', members: Array<{ name: string; parts: MapPart[] }>, shape: (T: number) => number[]) => {
      if (members.length === 0) return;
      let total = 0;
      for (const m of members) for (const p of m.parts) total += p[what].length;
      const data = what === 'val' ? new Float32Array(total) : new Float64Array(total);
      const starts: number[] = [];
      const ends: number[] = [];
      const counts: number[][] = [];
      let at = 0;
      for (let e = 0; e < E; e++) {
        starts.push(at);
        counts.push(members.map((m) => {
          const part = m.parts[e][what];
          data.set(part, at);
          at += part.length;
          return part.length;
        }));
        ends.push(at);
      }
      const st = this.bound(`entries.${what}.start`, starts);
      const en = this.bound(`entries.${what}.end`, ends);
      const table = data instanceof Float32Array ? gw.float('entries.val.table', data, shape(data.length)) : gw.int64(`entries.${what}.table`, data, shape(data.length));
      const cut = gw.op('Slice', `entries.${what}.region`, [table, st, en, axes]);
      // float Splits run on WebGPU, whose shaders bind at most 8 buffers: at most 7 parts a
      // Split, as a tree (int64 ones run on the CPU: one Split)
      const fanout = what === 'val' ? SPLIT_FANOUT : Infinity;
      const tree = (input: string, name: string, at: number[]): void => {
        let size = 1; // the smallest power of the fanout that leaves at most fanout groups
        while (Math.ceil(at.length / size) > fanout) size *= fanout;
        const groups = chunks(at, size);
        const sizes = this.boundRows(`${name}.counts`, counts.map((row) => groups.map((g) => g.reduce((n, k) => n + row[k], 0))));
        const outs = groups.map((g, i) => (g.length === 1 ? `${members[g[0]].name}.${what}` : `${name}.g${i}`));
        gw.multi('Split', name, [input, sizes], outs, { axis: 0 });
        groups.forEach((g, i) => g.length > 1 && tree(outs[i], outs[i], g));
      };
      tree(cut, `entries.${what}`, members.map((_, k) => k));
    };
    region('src', this.maps.filter((m) => m.gathers), (T) => [T]);
    region('dst', this.maps.filter((m) => m.scatters), (T) => [T, 1]);
    region('val', this.maps, (T) => [T, 1]);
  }

  /**
   * All bounds come from one row of one table: Gather(bounds.table [E, K], pc) → Reshape [K] →
   * Split into the graph's bounds (each [width]: a slice bound, a count, a block's shape), the
   * first three nodes of the graph (they read only pc and initializers).
   */
  finish(): void {
    const { gw } = this;
    const E = this.maps[0]?.parts.length ?? this.bounds[0]?.rows.length ?? 0;
    const at = gw.nodes.length;
    this.finishEntries(E);
    const entryNodes = gw.nodes.splice(at);
    if (this.bounds.length === 0) return;
    const width = this.bounds.reduce((n, b) => n + b.width, 0);
    const table: number[] = [];
    for (let e = 0; e < E; e++) for (const b of this.bounds) table.push(...b.rows[e]);
    const row = gw.op('Gather', 'bounds.row', [gw.int64('bounds.table', table, [E, width]), 'pc'], { axis: 0 });
    const flat = gw.reshape('bounds.flat', row, [width]);
    gw.multi('Split', 'bounds', [flat, gw.int64('bounds.split', this.bounds.map((b) => b.width))], this.bounds.map((b) => b.name), { axis: 0 });
    gw.nodes.push(...entryNodes);
    gw.nodes.unshift(...gw.nodes.splice(at));
  }

  /** A [n, B] tensor of zeros: the residual's constant-1 row times 0, broadcast by Expand (one per size). */
  private zerosOf(n: number): string {
    let z = this.zeros.get(n);
    if (!z) {
      z = this.gw.op('Expand', `zeros${n}`, [this.zeroRow(), this.gw.int64(`zeros${n}.shape`, [n, 1])]);
      this.zeros.set(n, z);
    }
    return z;
  }

  /** Sets the residual stream at depth 0 (the embedding), which the zero row is cut from. */
  embedded(x: string): void {
    this.stream0 = x;
  }

  /**
   * The zero row [1, B]: the embedded stream's constant-1 row times 0 (made once). It is cut
   * from the embedding, not from the stream where a layer first needs zeros, so an early exit's
   * readout (which scatters into zeros) needs no layer past its depth.
   */
  private zeroRow(): string {
    if (!this.stream0) throw new Error('emit: zeros asked for before the embedding');
    if (!this.zeroRowName) {
      const one = this.gw.op('Slice', 'zero_row.one', [this.stream0, this.gw.int64('zero_row.starts', [0]), this.gw.int64('zero_row.ends', [1]), this.gw.int64('zero_row.axes', [0])]);
      this.zeroRowName = this.gw.op('Mul', 'zero_row', [one, this.gw.float('zero_row.zero', new Float32Array([0]), [1])]);
    }
    return this.zeroRowName;
  }

  /** The active expert's row [1, ...rowDims] of a per-expert table, gathered by pc. */
  table(name: string, rows: Float32Array[], rowDims: number[]): string {
    const n = rowDims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(rows.length * n);
    rows.forEach((r, e) => data.set(r, e * n));
    return this.gw.op('Gather', name, [this.gw.float(`${name}.table`, data, [rows.length, ...rowDims]), 'pc'], { axis: 0 });
  }

  bound(name: string, counts: number[]): string {
    return this.boundRows(name, counts.map((c) => [c]));
  }

  /** A bound of several values per expert (a [width] tensor: per-map counts, a block's shape). */
  private boundRows(name: string, rows: number[][]): string {
    this.bounds.push({ name, width: rows[0]?.length ?? 0, rows });
    return name;
  }

  map(name: string, x: string, maps: SparseMap[], into: string | null): string {
    const nOut = maps[0].nOut;
    const T = maps.reduce((s, m) => s + m.src.length, 0);
    const base = into ?? this.zerosOf(nOut);
    if (T === 0) return base;
    return this.entries(name, maps)(name, x, base);
  }

  /**
   * The embedding's first w_e columns: the active expert's residual stream has only the slots
   * its maps read or write (residualWidth), so every scatter-add into it, and every copy of it,
   * costs w_e rows, not dModel (sudoku: 100 on average a step, against 3,681).
   */
  embedding(W: string, widths: number[]): string {
    const { gw } = this;
    const start = this.bound('embed.start', widths.map(() => 0));
    return gw.op('Slice', 'embed.cols', [W, start, this.bound('embed.end', widths), gw.int64('embed.axes', [1])]);
  }

  /** Zeros [widths[e], B] for the active expert e: the zero row expanded by a bound [w_e, 1]. */
  private zerosSized(name: string, widths: number[]): string {
    const shape = this.boundRows(`${name}.shape`, widths.map((w) => [w, 1]));
    return this.gw.op('Expand', name, [this.zeroRow(), shape]);
  }

  mapSized(name: string, x: string, maps: SparseMap[], widths: number[]): string {
    for (const [e, m] of maps.entries()) if (m.dst.some((d) => d >= widths[e])) throw new Error(`emit: ${name} writes past its expert's width`);
    // an expert of width 0 (no pending rows) would Expand to an empty tensor: slice the
    // full-width map instead, as before expert-wide zeros (the form WebGPU ran)
    if (widths.some((w) => w === 0)) return firstRows(this.gw, name, this.map(name, x, maps, null), this.bound(`${name}.width`, widths));
    const whole = wholeParts(maps, widths, 'dst');
    if (whole) {
      // the block writes every row of the result, in order: its product is the result (no zeros, no scatter)
      this.maps.push({ name, compact: true, parts: whole, scatters: false, gathers: true });
      return this.compactProduct(name, whole)(name, x);
    }
    const base = this.zerosSized(`${name}.zeros`, widths);
    return maps.every((m) => m.src.length === 0) ? base : this.entries(name, maps)(name, x, base);
  }

  mapFrom(name: string, x: string, maps: SparseMap[], inWidths: number[], into: string): string {
    for (const [e, m] of maps.entries()) if (m.src.some((r) => r >= inWidths[e])) throw new Error(`emit: ${name} reads past its expert's width`);
    const whole = wholeParts(maps, inWidths, 'src');
    if (!whole) return this.map(name, x, maps, into);
    // the block reads every row of x, in order: x itself is its input (no Gather)
    this.maps.push({ name, compact: true, parts: whole, scatters: true, gathers: false });
    const shape = this.boundRows(`${name}.block.shape`, whole.map((p) => [p.dst.length, p.src.length]));
    const block = this.gw.op('Reshape', `${name}.block`, [`${name}.val`, shape], { allowzero: 1 });
    return this.gw.op('ScatterND', `${name}.sum`, [into, `${name}.dst`, this.gw.op('MatMul', `${name}.product`, [block, x])], { reduction: 'add' });
  }

  /**
   * An MLP block whose hidden vector holds only the active expert's units: the m_e hidden units
   * its up map writes, in sorted order, numbered 0..m_e−1 (not the layer's widest width). A
   * compact up map's product is that vector as it is; a sparse one scatters into zeros of the
   * expert's width (Expand of the zero row by a bound [m_e, 1]). The ReLU runs on it, and each
   * down entry's source (a hidden unit) is renumbered to its place among the expert's units, so
   * no step pays for the layer's other experts' units. A down entry reading a unit the up map
   * does not write reads relu(0) = 0 and is dropped.
   */
  mlp(name: string, x: string, ups: SparseMap[], downs: SparseMap[]): string {
    const { gw } = this;
    if (ups.every((m) => m.src.length === 0)) return x; // relu(0)·W adds 0
    // places[e][u]: the rank of hidden unit u among the units expert e's up map writes (−1: none)
    const units = ups.map((m) => sortedUnique(m.dst, m.nOut));
    const places = ups.map((m, e) => {
      const p = new Int32Array(m.nOut).fill(-1);
      units[e].forEach((u, k) => (p[u] = k));
      return p;
    });
    const width = Math.max(1, ...units.map((u) => u.length));
    const renumber = (m: SparseMap, e: number, side: 'src' | 'dst', nIn: number, nOut: number): SparseMap => {
      const out: SparseMap = { nIn, nOut, src: [], dst: [], val: [] };
      const place = places[e];
      for (let k = 0; k < m.src.length; k++) {
        const s = m.src[k];
        const d = m.dst[k];
        const at = place[side === 'src' ? s : d];
        if (at < 0) continue;
        out.src.push(side === 'src' ? at : s);
        out.dst.push(side === 'dst' ? at : d);
        out.val.push(m.val[k]);
      }
      return out;
    };
    const upR = ups.map((m, e) => renumber(m, e, 'dst', m.nIn, width));
    const up = partsOf(upR);
    let h: string;
    if (up.compact) {
      this.maps.push({ name: `${name}.up`, compact: true, parts: up.parts, scatters: false, gathers: true });
      h = this.compactProduct(`${name}.up`, up.parts)(`${name}.up`, x);
    } else {
      h = this.entries(`${name}.up`, upR)(`${name}.up`, x, this.zerosSized(`${name}.hidden.zeros`, units.map((u) => Math.max(1, u.length))));
    }
    const r = gw.op('Relu', `${name}.relu`, [h]);
    return this.map(`${name}.down`, r, downs.map((m, e) => renumber(m, e, 'src', width, m.nOut)), x);
  }

  mapEach(name: string, at: Array<{ name: string; x: string }>, maps: SparseMap[]): string[] {
    const T = maps.reduce((s, m) => s + m.src.length, 0);
    if (T === 0) return at.map(() => this.zerosOf(maps[0].nOut));
    const apply = this.entries(name, maps);
    return at.map((a) => apply(a.name, a.x, this.zerosOf(maps[0].nOut)));
  }

  /**
   * Registers a map's parts (finish() emits the active expert's) and returns how to apply it:
   * sparse, scatter-add x's rows picked by the entries times their values into `base`; compact,
   * scatter-add block · x[rows read] into `base` at the rows written.
   */
  private entries(name: string, maps: SparseMap[]): (at: string, x: string, base: string) => string {
    const { gw } = this;
    const { compact, parts } = partsOf(maps);
    this.maps.push({ name, compact, parts, scatters: true, gathers: true });
    const src = `${name}.src`;
    const dst = `${name}.dst`;
    if (!compact) {
      return (at, x, base) => {
        const xs = gw.op('Gather', `${at}.inputs`, [x, src], { axis: 0 });
        const terms = gw.op('Mul', `${at}.terms`, [xs, `${name}.val`]);
        return gw.op('ScatterND', `${at}.sum`, [base, dst, terms], { reduction: 'add' });
      };
    }
    const product = this.compactProduct(name, parts);
    return (at, x, base) => gw.op('ScatterND', `${at}.sum`, [base, dst, product(at, x)], { reduction: 'add' });
  }

  /**
   * A compact map's product without its scatter: block · x[rows read], the [m_e, B] values of
   * the rows the active expert writes (in sorted order). Registers its block's bounds (the
   * caller registers the map, whose rows read and written go into the entry regions).
   */
  private compactProduct(name: string, parts: MapPart[]): (at: string, x: string) => string {
    const { gw } = this;
    const shape = this.boundRows(`${name}.block.shape`, parts.map((p) => [p.dst.length, p.src.length]));
    // the block's cells are its part of the value region (finishEntries), [m·k, 1];
    // allowzero: the block's shape is the bound's as it is (a 0 is never read as "copy that input dim")
    const block = gw.op('Reshape', `${name}.block`, [`${name}.val`, shape], { allowzero: 1 });
    return (at, x) => gw.op('MatMul', `${at}.product`, [block, gw.op('Gather', `${at}.inputs`, [x, `${name}.src`], { axis: 0 })]);
  }
}

class DenseEmitter implements MapEmitter {
  constructor(private readonly gw: GraphWriter) {}

  table(name: string, rows: Float32Array[], rowDims: number[]): string {
    const n = rowDims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(rows.length * n);
    rows.forEach((r, e) => data.set(r, e * n));
    const flat = this.gw.op('MatMul', name, ['route', this.gw.float(`${name}.table`, data, [rows.length, n])]);
    return rowDims.length > 1 ? this.gw.reshape(`${name}.rows`, flat, [0, ...rowDims]) : flat;
  }

  bound(name: string, counts: number[]): string {
    return this.gw.int64(`${name}.widest`, [Math.max(0, ...counts)]);
  }

  embedding(W: string): string {
    return W;
  }

  mapSized(name: string, x: string, maps: SparseMap[], widths: number[]): string {
    return firstRows(this.gw, name, this.map(name, x, maps, null), this.bound(`${name}.width`, widths));
  }

  mapFrom(name: string, x: string, maps: SparseMap[], _inWidths: number[], into: string): string {
    // x has the widest expert's rows (dense bounds are the widest): the map's nIn
    return this.map(name, x, maps, into);
  }

  mlp(name: string, x: string, ups: SparseMap[], downs: SparseMap[]): string {
    const r = this.gw.op('Relu', `${name}.relu`, [this.map(`${name}.up`, x, ups, null)]);
    return this.map(`${name}.down`, r, downs, x);
  }

  mapEach(name: string, at: Array<{ name: string; x: string }>, maps: SparseMap[]): string[] {
    if (at.length !== 1) throw new Error('emit: early exits are for routed models only');
    return [this.map(name, (at[0] as { x: string }).x, maps, null)];
  }

  map(name: string, x: string, maps: SparseMap[], into: string | null): string {
    const { gw } = this;
    const { nIn, nOut } = maps[0];
    const W = this.table(`${name}.W`, maps.map(denseOf), [nIn, nOut]);
    // the residual stream is [slots, B]; each row's matrix is picked by its route
    const x3 = gw.reshape(`${name}.x_row`, gw.op('Transpose', `${name}.x_rows`, [x], { perm: [1, 0] }), [0, 1, nIn]);
    const y = gw.op('Transpose', `${name}.y`, [gw.reshape(`${name}.y_rows`, gw.op('MatMul', `${name}.matmul`, [x3, W]), [0, nOut])], { perm: [1, 0] });
    return into === null ? y : gw.op('Add', `${name}.residual`, [into, y]);
  }
}

/** 1 + the largest residual slot an expert's maps read or write (at least 1: the constant-1 slot). */
function residualWidth(e: ExpertWeights): number {
  let top = 0;
  const reads = (m: SparseMap | null | undefined) => { if (m) for (const v of m.src) top = Math.max(top, v); };
  const writes = (m: SparseMap | null | undefined) => { if (m) for (const v of m.dst) top = Math.max(top, v); };
  for (const l of e.layers) {
    reads(l.attn?.q);
    reads(l.attn?.pending);
    writes(l.attn?.out);
    reads(l.mlp?.up);
    writes(l.mlp?.down);
  }
  reads(e.next);
  reads(e.entries);
  return top + 1;
}

export function emitOnnx(w: ModelWeights, layout: ModelLayout, routing: Routing): { bytes: Uint8Array; params: number } {
  const gw = new GraphWriter();
  const { dims, experts } = w;
  const em: MapEmitter = routing === 'gather' ? new RoutedEmitter(gw) : new DenseEmitter(gw);
  const { d, features: F } = dims;
  const E = experts.length;
  const hasCache = F > 0;
  // The embedding: token component t → slot t (the same for every expert).
  const Wemb = new Float32Array(dims.tokenIn * d);
  for (let t = 0; t < dims.tokenIn; t++) Wemb[t * d + t] = 1;
  // the residual stream is kept as [slots, B] (a column per execution): a sparse map then
  // gathers and scatter-adds whole rows (DESIGN.md §8)
  const Wcols = em.embedding(gw.float('embed.W', Wemb, [dims.tokenIn, d]), experts.map(residualWidth));
  let x = gw.op('Transpose', 'embed.T', [gw.op('MatMul', 'embed', ['token', Wcols])], { perm: [1, 0] });
  if (em instanceof RoutedEmitter) em.embedded(x);
  const rows = (name: string, t: string, shape: number[]) => gw.reshape(name, gw.op('Transpose', `${name}.T`, [t], { perm: [1, 0] }), shape);
  // a head's keys are the rows' first K features and its values features [V0, V1) (format/memory.ts
  // headWidths; a 'unique' lookup: the address bits, sink and pad, then the byte): the cache comes
  // in as those two inputs, so every layer's scores and mix multiply only them, and this step's
  // pending rows are cut the same way
  const { keys: K, valueStart: V0, valueEnd: V1 } = dims.head;
  const features = (name: string, t: string, start: number, end: number) =>
    start === 0 && end === F ? t : gw.op('Slice', name, [t, gw.int64(`${name}.start`, [start]), gw.int64(`${name}.end`, [end]), gw.int64(`${name}.axes`, [2])]);
  const keysT = CACHE_KEYS; // [batch, K, rows]: the keys already transposed (format/memory.ts)
  const cacheValues = CACHE_VALUES; // [batch, rows, V1 - V0]
  // trace outputs (format/layout.ts traceOutputNames): the lookups of every attention layer
  const traced: string[] = [];
  const exits = exitDepths(layout);
  const atDepth = new Map<number, string>(); // the residual stream after that many layers, for the exits
  if (exits.includes(0)) atDepth.set(0, x);
  for (let l = 0; l < dims.layers; l++) {
    const p = `layer${l}`;
    const H = dims.heads[l];
    if (H > 0 && hasCache) {
      const names = traceOutputNames(l);
      const want = layout.attention.find((a) => a.layer === l);
      if (!want || want.pending !== dims.pendingRows[l] > 0) throw new Error(`emit: layout.attention disagrees with layer ${l}`);
      const at = experts.map((e) => e.layers[l].attn!);
      // only the active expert's heads and pending rows (routed: the first H_e of the layer's H,
      // cut by a bound gathered by pc; dense: all of them): attention costs what the block uses.
      // An expert without heads here keeps one (a zero query whose output no map reads), so no
      // tensor is empty: onnxruntime-web's WebGPU Softmax refuses empty inputs
      const cut = (name: string, t: string, end: string, axis: number, start?: string) =>
        gw.op('Slice', name, [t, start ?? gw.int64(`${name}.zero`, [0]), end, gw.int64(`${name}.axes`, [axis])]);
      const qRows = em.mapSized(`${p}.attn.q`, x, at.map((a) => a.q), at.map((a) => Math.max(1, a.roles.length) * K));
      const q3 = rows(names.queries, qRows, [0, -1, K]);
      traced.push(names.weights, names.queries);
      const cacheScores = gw.op('MatMul', `${p}.attn.scores_cache`, [q3, keysT]);
      const Pn = dims.pendingRows[l];
      let o: string;
      if (Pn > 0) {
        // scores = [pending | cache]: the first Pn_e columns are the expert's pending rows
        const pEnd = em.bound(`${p}.attn.pending_end`, at.map((a) => a.pendingUsed));
        const hEnd = em.bound(`${p}.attn.heads_end`, at.map((a) => Math.max(1, a.roles.length)));
        const pRows = em.mapSized(`${p}.attn.pending`, x, at.map((a) => a.pending!), at.map((a) => a.pendingUsed * F));
        const pending = rows(names.pending, pRows, [0, -1, F]);
        traced.push(names.pending);
        const prT = gw.op('Transpose', `${p}.attn.pending_keysT`, [features(`${p}.attn.pending_keys`, pending, 0, K)], { perm: [0, 2, 1] });
        const mask = cut(`${p}.attn.mask_active`, cut(`${p}.attn.mask_heads`, em.table(`${p}.attn.head_mask`, at.map((a) => a.mask), [H, Pn]), hEnd, 1), pEnd, 2);
        const sp = gw.op('Add', `${p}.attn.scores_pending`, [gw.op('MatMul', `${p}.attn.scores_pending_raw`, [q3, prT]), mask]);
        const wts = gw.op('Softmax', names.weights, [gw.op('Concat', `${p}.attn.scores`, [sp, cacheScores], { axis: 2 })], { axis: -1 });
        const pendingValues = features(`${p}.attn.pending_values`, pending, V0, V1);
        if (V1 - V0 < F) {
          // narrow values (one byte a row): mix = w · [pending values | cache values], one MatMul
          // over a copy of N + Pn_e bytes, not a copy of the weights' h·N cache part
          o = gw.op('MatMul', `${p}.attn.mix`, [wts, gw.op('Concat', `${p}.attn.values`, [pendingValues, cacheValues], { axis: 1 })]);
        } else {
          // mix = w[:, :, :Pn_e]·pending + w[:, :, Pn_e:]·cache (no copy of the cache into a values tensor)
          const wp = cut(`${p}.attn.weights_pending`, wts, pEnd, 2);
          const wc = cut(`${p}.attn.weights_cache`, wts, gw.int64(`${p}.attn.weights_cache_end`, [2 ** 62]), 2, pEnd);
          o = gw.op('Add', `${p}.attn.mix`, [gw.op('MatMul', `${p}.attn.mix_cache`, [wc, cacheValues]), gw.op('MatMul', `${p}.attn.mix_pending`, [wp, pendingValues])]);
        }
      } else {
        o = gw.op('MatMul', `${p}.attn.mix`, [gw.op('Softmax', names.weights, [cacheScores], { axis: -1 }), cacheValues]);
      }
      const o2 = gw.op('Transpose', `${p}.attn.heads_concat`, [gw.reshape(`${p}.attn.heads_rows`, o, [0, -1])], { perm: [1, 0] });
      x = em.mapFrom(`${p}.attn.out`, o2, at.map((a) => a.out), at.map((a) => Math.max(1, a.roles.length) * (V1 - V0)), x);
    }
    if (dims.hidden[l] > 0) {
      const ml = experts.map((e) => e.layers[l].mlp!);
      x = em.mlp(`${p}.mlp`, x, ml.map((m) => m.up), ml.map((m) => m.down));
    }
    if (exits.includes(l + 1)) atDepth.set(l + 1, x);
  }
  // the readout at full depth, then at each exit depth (the same entries, sliced once)
  const depths: Array<number | null> = [null, ...exits];
  const input = (d: number | null): string => (d === null ? x : atDepth.get(d) as string);
  const prefix = (d: number | null): string => (d === null ? 'readout' : `exit${d}`);
  const nexts = em.mapEach('readout.next_map', depths.map((d) => ({ name: `${prefix(d)}.next_map`, x: input(d) })), experts.map((e) => e.next));
  const nextOuts = nexts.map((n, k) => gw.op('Transpose', `${prefix(depths[k] as number | null)}.next`, [n], { perm: [1, 0] }));
  const outputs = [valueInfo(nextOuts[0] as string, ['batch', dims.tokenOut])];
  const exitOutputs: Array<ReturnType<typeof valueInfo>> = [];
  const inputs = [valueInfo('token', ['batch', dims.tokenIn])];
  if (routing === 'gather') inputs.unshift(valueInfo('pc', [1], onnx.TensorProto.DataType.INT64));
  else inputs.unshift(valueInfo('route', ['batch', E]));
  if (hasCache) inputs.push(valueInfo(CACHE_KEYS, ['batch', K, 'rows']), valueInfo(CACHE_VALUES, ['batch', 'rows', V1 - V0]));
  const hasEntries = hasCache && dims.ports > 0;
  const flats = hasEntries ? em.mapEach('readout.entries_map', depths.map((d) => ({ name: `${prefix(d)}.entries_map`, x: input(d) })), experts.map((e) => e.entries!)) : [];
  const entryOuts = flats.map((f, k) => rows(`${prefix(depths[k] as number | null)}.entries`, f, [0, dims.ports, F]));
  if (hasEntries) outputs.push(valueInfo(entryOuts[0] as string, ['batch', dims.ports, F]));
  depths.forEach((d, k) => {
    if (d === null) return;
    exitOutputs.push(valueInfo(nextOuts[k] as string, ['batch', dims.tokenOut]));
    if (hasEntries) exitOutputs.push(valueInfo(entryOuts[k] as string, ['batch', dims.ports, F]));
  });
  if (traced.length !== layout.attention.reduce((n, a) => n + (a.pending ? 3 : 2), 0)) throw new Error('emit: layout.attention lists a layer without attention');
  for (const t of traced) outputs.push(valueInfo(t, ['batch', `${t}.rows`, `${t}.cols`]));
  outputs.push(...exitOutputs);
  if (em instanceof RoutedEmitter) em.finish();
  const graph = onnx.GraphProto.create({ name: 'wasmformer', node: gw.nodes, initializer: gw.inits, input: inputs, output: outputs });
  const withParams: ModelLayout = { ...layout, stats: { ...layout.stats, params: gw.params } };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'wasmformer',
    producerVersion: '0.1.0',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    graph,
    metadataProps: [onnx.StringStringEntryProto.create({ key: LAYOUT_KEY, value: JSON.stringify(withParams) })],
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), params: gw.params };
}

/** A model's graph, for the op-set test and tools: nodes, initializer names, inputs. */
export function inspectOnnx(bytes: Uint8Array): {
  ops: string[];
  layout: unknown;
  initializers: Set<string>;
  nodes: Array<{ op: string; name: string; inputs: string[]; outputs: string[] }>;
  inputs: string[];
} {
  const m = onnx.ModelProto.decode(bytes);
  const nodes = (m.graph?.node ?? []).map((n) => ({ op: n.opType ?? '', name: n.name ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])] }));
  const entry = (m.metadataProps ?? []).find((p) => p.key === LAYOUT_KEY);
  return {
    ops: [...new Set(nodes.map((n) => n.op))].sort(),
    layout: entry?.value ? JSON.parse(entry.value) : null,
    initializers: new Set((m.graph?.initializer ?? []).map((i) => i.name ?? '')),
    nodes,
    inputs: (m.graph?.input ?? []).map((i) => i.name ?? ''),
  };
}
