// backend/emit_onnx.ts — pass 5: expert weights → one self-describing ONNX model (bytes).
//
// The graph is an ordinary decoder step whose weights are chosen by the program counter,
// as in a top-1 mixture of experts (DESIGN.md §8). Two execution forms of the same
// transformer:
//   - routed ('gather'): input `pc` (int64 [B]). Each sparse map stores its experts' entries
//     stacked ([E, N] source index, target index, value; biases are weights on slot 0, which
//     holds 1); a step gathers the active expert's row by pc, gathers the inputs it reads
//     (GatherElements), multiplies, and scatter-adds into the output (ScatterElements,
//     reduction add): into zeros (Expand of a [B, 1] zero column) for a fresh output, into the
//     residual stream itself for the attention output and MLP down projections. Storage and
//     work are set by the nonzeros, not by dModel².
//   - dense ('onehot'): input `route` (one-hot float [B, E]); every map is a stack of dense
//     matrices [E, nIn·nOut], the active one picked by MatMul(route, stack). Only MatMul, Add,
//     Relu, Softmax and shape ops: for small programs and for checking the routed form.
// Index inputs of Gather/GatherElements/ScatterElements come only from initializers and pc.
// Nodes and initializers are named by layer and role ("layer3.mlp.up.src"); the layout
// goes into metadata_props["wasmformer.layout"]. Output is deterministic.

import onnxProto from 'onnx-proto';
import type { ModelWeights, SparseMap } from './assemble_weights.js';
import { denseOf } from './assemble_weights.js';
import { LAYOUT_KEY, type ModelLayout, type Routing } from '../format/layout.js';

const { onnx } = onnxProto;

/** Every op an emitted model may use. Index inputs of the gathers: initializers and pc only. */
export const ALLOWED_OPS = new Set([
  'MatMul', 'Add', 'Relu', 'Softmax', 'Transpose', 'Reshape', 'Concat', 'Slice', 'Mul',
  'Gather', 'GatherElements', 'ScatterElements', 'ReduceSum', 'Cast', 'Expand', 'Tile',
]);

/** Ops that take an index input (input 1), whose provenance the op-set test checks. */
export const INDEX_OPS = new Set(['Gather', 'GatherElements', 'ScatterElements']);

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

  int32(name: string, data: Int32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT32, dims, rawData: new Uint8Array(bytes) }));
    this.params += data.length;
    return name;
  }

  int64(name: string, data: number[]): string {
    const buf = new Uint8Array(8 * data.length);
    const view = new DataView(buf.buffer);
    data.forEach((x, i) => view.setBigInt64(8 * i, BigInt(x), true));
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [data.length], rawData: buf }));
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

  reshape(name: string, x: string, shape: number[]): string {
    return this.op('Reshape', name, [x, this.int64(`${name}.shape`, shape)]);
  }
}

/** How one linear map is applied: the routed and dense forms differ only here. */
interface MapEmitter {
  /** y = x·W_e for the active expert e; added onto `into` when given. */
  map(name: string, x: string, maps: SparseMap[], into: string | null): string;
  /** The active expert's rows of a per-expert float table [E, ...rowDims]. */
  table(name: string, rows: Float32Array[], rowDims: number[]): string;
}

class RoutedEmitter implements MapEmitter {
  private zero = '';
  constructor(
    private readonly gw: GraphWriter,
    private readonly tokenWidth: number,
  ) {}

  /** A [B, n] tensor of zeros: the [B, 1] zero column token·0, broadcast by Expand. */
  private zeros(name: string, n: number): string {
    if (!this.zero) this.zero = this.gw.op('MatMul', 'zero_column', ['token', this.gw.float('zero_column.W', new Float32Array(this.tokenWidth), [this.tokenWidth, 1])]);
    return this.gw.op('Expand', name, [this.zero, this.gw.int64(`${name}.shape`, [1, n])]);
  }

  private pick(name: string, table: string): string {
    return this.gw.op('Gather', name, [table, 'pc'], { axis: 0 });
  }

  table(name: string, rows: Float32Array[], rowDims: number[]): string {
    const n = rowDims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(rows.length * n);
    rows.forEach((r, e) => data.set(r, e * n));
    return this.pick(name, this.gw.float(`${name}.table`, data, [rows.length, ...rowDims]));
  }

  map(name: string, x: string, maps: SparseMap[], into: string | null): string {
    const { gw } = this;
    const E = maps.length;
    const nOut = maps[0].nOut;
    const N = Math.max(0, ...maps.map((m) => m.src.length));
    const base = into ?? this.zeros(`${name}.zeros`, nOut);
    if (N === 0) return base;
    const src = new Int32Array(E * N);
    const dst = new Int32Array(E * N);
    const val = new Float32Array(E * N);
    maps.forEach((m, e) => {
      src.set(m.src, e * N);
      dst.set(m.dst, e * N);
      val.set(m.val, e * N);
    });
    const s = this.pick(`${name}.src`, gw.int32(`${name}.src.table`, src, [E, N]));
    const t = this.pick(`${name}.dst`, gw.int32(`${name}.dst.table`, dst, [E, N]));
    const v = this.pick(`${name}.val`, gw.float(`${name}.val.table`, val, [E, N]));
    const xs = gw.op('GatherElements', `${name}.inputs`, [x, s], { axis: 1 });
    const terms = gw.op('Mul', `${name}.terms`, [xs, v]);
    return gw.op('ScatterElements', `${name}.sum`, [base, t, terms], { axis: 1, reduction: 'add' });
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

  map(name: string, x: string, maps: SparseMap[], into: string | null): string {
    const { gw } = this;
    const { nIn, nOut } = maps[0];
    const W = this.table(`${name}.W`, maps.map(denseOf), [nIn, nOut]);
    const x3 = gw.reshape(`${name}.x_row`, x, [0, 1, nIn]);
    const y = gw.reshape(`${name}.y`, gw.op('MatMul', `${name}.matmul`, [x3, W]), [0, nOut]);
    return into === null ? y : gw.op('Add', `${name}.residual`, [into, y]);
  }
}

export function emitOnnx(w: ModelWeights, layout: ModelLayout, routing: Routing): { bytes: Uint8Array; params: number } {
  const gw = new GraphWriter();
  const { dims, experts } = w;
  const em: MapEmitter = routing === 'gather' ? new RoutedEmitter(gw, dims.tokenIn) : new DenseEmitter(gw);
  const { d, features: F } = dims;
  const E = experts.length;
  const hasCache = F > 0;
  // The embedding: token component t → slot t (the same for every expert).
  const Wemb = new Float32Array(dims.tokenIn * d);
  for (let t = 0; t < dims.tokenIn; t++) Wemb[t * d + t] = 1;
  let x = gw.op('MatMul', 'embed', ['token', gw.float('embed.W', Wemb, [dims.tokenIn, d])]);
  const keysT = hasCache ? gw.op('Transpose', 'cache.keysT', ['cache'], { perm: [0, 2, 1] }) : '';
  for (let l = 0; l < dims.layers; l++) {
    const p = `layer${l}`;
    const H = dims.heads[l];
    if (H > 0 && hasCache) {
      const at = experts.map((e) => e.layers[l].attn!);
      const q3 = gw.reshape(`${p}.attn.q_heads`, em.map(`${p}.attn.q`, x, at.map((a) => a.q), null), [0, H, F]);
      let scores = gw.op('MatMul', `${p}.attn.scores_cache`, [q3, keysT]);
      const Pn = dims.pendingRows[l];
      let pending = '';
      if (Pn > 0) {
        pending = gw.reshape(`${p}.attn.pending_rows`, em.map(`${p}.attn.pending`, x, at.map((a) => a.pending!), null), [0, Pn, F]);
        const prT = gw.op('Transpose', `${p}.attn.pending_keysT`, [pending], { perm: [0, 2, 1] });
        const mask = em.table(`${p}.attn.head_mask`, at.map((a) => a.mask), [H, Pn]);
        const sp = gw.op('Add', `${p}.attn.scores_pending`, [gw.op('MatMul', `${p}.attn.scores_pending_raw`, [q3, prT]), mask]);
        scores = gw.op('Concat', `${p}.attn.scores`, [scores, sp], { axis: 2 });
      }
      const wts = gw.op('Softmax', `${p}.attn.softmax`, [scores], { axis: -1 });
      let o: string;
      if (pending) {
        // mix = w[:, :, :N]·cache + w[:, :, N:]·pending (no copy of the cache into a values tensor)
        const axes = gw.int64(`${p}.attn.split_axes`, [2]);
        const wc = gw.op('Slice', `${p}.attn.weights_cache`, [wts, gw.int64(`${p}.attn.cache_starts`, [0]), gw.int64(`${p}.attn.cache_ends`, [-Pn]), axes]);
        const wp = gw.op('Slice', `${p}.attn.weights_pending`, [wts, gw.int64(`${p}.attn.pending_starts`, [-Pn]), gw.int64(`${p}.attn.pending_ends`, [2 ** 62]), axes]);
        o = gw.op('Add', `${p}.attn.mix`, [gw.op('MatMul', `${p}.attn.mix_cache`, [wc, 'cache']), gw.op('MatMul', `${p}.attn.mix_pending`, [wp, pending])]);
      } else {
        o = gw.op('MatMul', `${p}.attn.mix`, [wts, 'cache']);
      }
      const o2 = gw.reshape(`${p}.attn.heads_concat`, o, [0, H * F]);
      x = em.map(`${p}.attn.out`, o2, at.map((a) => a.out), x);
    }
    if (dims.hidden[l] > 0) {
      const ml = experts.map((e) => e.layers[l].mlp!);
      const h = em.map(`${p}.mlp.up`, x, ml.map((m) => m.up), null);
      const r = gw.op('Relu', `${p}.mlp.relu`, [h]);
      x = em.map(`${p}.mlp.down`, r, ml.map((m) => m.down), x);
    }
  }
  const next = gw.reshape('readout.next', em.map('readout.next_map', x, experts.map((e) => e.next), null), [0, dims.tokenOut]);
  const outputs = [valueInfo(next, ['batch', dims.tokenOut])];
  const inputs = [valueInfo('token', ['batch', dims.tokenIn])];
  if (routing === 'gather') inputs.unshift(valueInfo('pc', ['batch'], onnx.TensorProto.DataType.INT64));
  else inputs.unshift(valueInfo('route', ['batch', E]));
  if (hasCache) inputs.push(valueInfo('cache', ['batch', 'rows', F]));
  if (hasCache && dims.ports > 0) {
    const flat = em.map('readout.entries_map', x, experts.map((e) => e.entries!), null);
    const e3 = gw.reshape('readout.entries', flat, [0, dims.ports, F]);
    outputs.push(valueInfo(e3, ['batch', dims.ports, F]));
  }
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
  nodes: Array<{ op: string; name: string; inputs: string[] }>;
  inputs: string[];
} {
  const m = onnx.ModelProto.decode(bytes);
  const nodes = (m.graph?.node ?? []).map((n) => ({ op: n.opType ?? '', name: n.name ?? '', inputs: [...(n.input ?? [])] }));
  const entry = (m.metadataProps ?? []).find((p) => p.key === LAYOUT_KEY);
  return {
    ops: [...new Set(nodes.map((n) => n.op))].sort(),
    layout: entry?.value ? JSON.parse(entry.value) : null,
    initializers: new Set((m.graph?.initializer ?? []).map((i) => i.name ?? '')),
    nodes,
    inputs: (m.graph?.input ?? []).map((i) => i.name ?? ''),
  };
}
