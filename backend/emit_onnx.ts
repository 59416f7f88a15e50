// backend/emit_onnx.ts — pass 5: weights → one self-describing ONNX model (bytes).
//
// The graph is an ordinary decoder step: embedding MatMul, then per layer an
// attention sublayer (Q projection, keys/values = memory rows plus this
// step's pending rows, additive head mask, Softmax, output projection,
// residual Add) and an MLP sublayer (MatMul, Add, Relu, MatMul, Add, residual
// Add), then the readout. Only the ops in ALLOWED_OPS appear; every program-
// specific number is a constant initializer. Nodes and initializers are named
// by layer and role (e.g. "layer3.mlp.up"). The layout needed to run the
// model goes into metadata_props["wasmformer.layout"]. Output is deterministic.

import onnxProto from 'onnx-proto';
import type { ModelWeights } from './assemble_weights.js';

const { onnx } = onnxProto;

export const ALLOWED_OPS = new Set([
  'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Relu', 'Softmax', 'Transpose', 'Reshape', 'Concat',
  'Slice', 'Squeeze', 'Unsqueeze', 'Identity', 'Constant', 'Shape', 'Gather', 'Expand', 'Loop',
]);

type Dim = number | string;

function valueInfo(name: string, dims: Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
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

class GraphWriter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inits: onnxProto.onnx.ITensorProto[] = [];

  float(name: string, data: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(bytes) }));
    return name;
  }

  int64(name: string, data: number[]): string {
    const buf = new Uint8Array(8 * data.length);
    const view = new DataView(buf.buffer);
    data.forEach((x, i) => view.setBigInt64(8 * i, BigInt(x), true));
    this.inits.push(onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [data.length], rawData: buf }));
    return name;
  }

  op(opType: string, name: string, inputs: string[], attrs: Record<string, number | number[]> = {}): string {
    const attribute = Object.entries(attrs).map(([k, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INTS, ints: v })
        : onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INT, i: v }),
    );
    this.nodes.push(onnx.NodeProto.create({ opType, name, input: inputs, output: [name], attribute }));
    return name;
  }
}

export function emitOnnx(w: ModelWeights, layout: object): Uint8Array {
  const gw = new GraphWriter();
  const d = w.d;
  const F = w.features;
  const hasCache = F > 0;
  let x = gw.op('MatMul', 'embed', ['token', gw.float('embed.W', w.Wemb, [w.tokenIn, d])]);
  const keysT = hasCache ? gw.op('Transpose', 'cache.keysT', ['cache'], { perm: [0, 2, 1] }) : '';
  w.layers.forEach((layer, l) => {
    const p = `layer${l}`;
    if (layer.attn && hasCache) {
      const a = layer.attn;
      const H = a.heads;
      const q = gw.op('Add', `${p}.attn.q`, [gw.op('MatMul', `${p}.attn.q_proj`, [x, gw.float(`${p}.attn.q.W`, a.Wq, [d, H * F])]), gw.float(`${p}.attn.q.b`, a.bq, [H * F])]);
      const q3 = gw.op('Reshape', `${p}.attn.q_heads`, [q, gw.int64(`${p}.attn.q_shape`, [0, H, F])]);
      let scores = gw.op('MatMul', `${p}.attn.scores_cache`, [q3, keysT]);
      let pending = '';
      if (a.pendingRows > 0) {
        const Pn = a.pendingRows;
        const pr = gw.op('Add', `${p}.attn.pending`, [gw.op('MatMul', `${p}.attn.pending_proj`, [x, gw.float(`${p}.attn.pending.W`, a.Wp, [d, Pn * F])]), gw.float(`${p}.attn.pending.b`, a.bp, [Pn * F])]);
        const pr3 = gw.op('Reshape', `${p}.attn.pending_rows`, [pr, gw.int64(`${p}.attn.pending_shape`, [0, Pn, F])]);
        const prT = gw.op('Transpose', `${p}.attn.pending_keysT`, [pr3], { perm: [0, 2, 1] });
        const sp = gw.op('Add', `${p}.attn.scores_pending`, [gw.op('MatMul', `${p}.attn.scores_pending_raw`, [q3, prT]), gw.float(`${p}.attn.head_mask`, a.mask, [H, Pn])]);
        scores = gw.op('Concat', `${p}.attn.scores`, [scores, sp], { axis: 2 });
        pending = pr3;
      }
      const wts = gw.op('Softmax', `${p}.attn.softmax`, [scores], { axis: -1 });
      let o: string;
      if (pending) {
        // mix = w[:, :, :N]·cache + w[:, :, N:]·pending (no copy of the cache into a values tensor)
        const Pn = a.pendingRows;
        const axes = gw.int64(`${p}.attn.split_axes`, [2]);
        const wc = gw.op('Slice', `${p}.attn.weights_cache`, [wts, gw.int64(`${p}.attn.cache_starts`, [0]), gw.int64(`${p}.attn.cache_ends`, [-Pn]), axes]);
        const wp = gw.op('Slice', `${p}.attn.weights_pending`, [wts, gw.int64(`${p}.attn.pending_starts`, [-Pn]), gw.int64(`${p}.attn.pending_ends`, [2 ** 62]), axes]);
        o = gw.op('Add', `${p}.attn.mix`, [gw.op('MatMul', `${p}.attn.mix_cache`, [wc, 'cache']), gw.op('MatMul', `${p}.attn.mix_pending`, [wp, pending])]);
      } else {
        o = gw.op('MatMul', `${p}.attn.mix`, [wts, 'cache']);
      }
      const o2 = gw.op('Reshape', `${p}.attn.heads_concat`, [o, gw.int64(`${p}.attn.o_shape`, [0, H * F])]);
      const out = gw.op('MatMul', `${p}.attn.out`, [o2, gw.float(`${p}.attn.out.W`, a.Wo, [H * F, d])]);
      x = gw.op('Add', `${p}.attn.residual`, [x, out]);
    }
    if (layer.mlp) {
      const m = layer.mlp;
      const h = gw.op('Add', `${p}.mlp.up`, [gw.op('MatMul', `${p}.mlp.up_proj`, [x, gw.float(`${p}.mlp.up.W`, m.W1, [d, m.hidden])]), gw.float(`${p}.mlp.up.b`, m.b1, [m.hidden])]);
      const r = gw.op('Relu', `${p}.mlp.relu`, [h]);
      const down = gw.op('Add', `${p}.mlp.down`, [gw.op('MatMul', `${p}.mlp.down_proj`, [r, gw.float(`${p}.mlp.down.W`, m.W2, [m.hidden, d])]), gw.float(`${p}.mlp.down.b`, m.b2, [d])]);
      x = gw.op('Add', `${p}.mlp.residual`, [x, down]);
    }
  });
  const next = gw.op('Add', 'readout.next', [gw.op('MatMul', 'readout.next_proj', [x, gw.float('readout.next.W', w.Wout, [d, w.tokenOut])]), gw.float('readout.next.b', w.bout, [w.tokenOut])]);
  const outputs = [valueInfo(next, ['batch', w.tokenOut])];
  const inputs = [valueInfo('token', ['batch', w.tokenIn])];
  if (hasCache) inputs.push(valueInfo('cache', ['batch', 'rows', F]));
  if (hasCache && w.ports > 0) {
    const e = gw.op('Add', 'readout.entries_flat', [gw.op('MatMul', 'readout.entries_proj', [x, gw.float('readout.entries.W', w.Went, [d, w.ports * F])]), gw.float('readout.entries.b', w.bent, [w.ports * F])]);
    const e3 = gw.op('Reshape', 'readout.entries', [e, gw.int64('readout.entries_shape', [0, w.ports, F])]);
    outputs.push(valueInfo(e3, ['batch', w.ports, F]));
  }
  const graph = onnx.GraphProto.create({ name: 'wasmformer', node: gw.nodes, initializer: gw.inits, input: inputs, output: outputs });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'wasmformer',
    producerVersion: '0.1.0',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    graph,
    metadataProps: [onnx.StringStringEntryProto.create({ key: 'wasmformer.layout', value: JSON.stringify(layout) })],
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads a model's op types and layout (for the op-set test and the runtime). */
export function inspectOnnx(bytes: Uint8Array): { ops: string[]; layout: unknown; initializers: number } {
  const m = onnx.ModelProto.decode(bytes);
  const ops = [...new Set((m.graph?.node ?? []).map((n) => n.opType ?? ''))].sort();
  const entry = (m.metadataProps ?? []).find((p) => p.key === 'wasmformer.layout');
  return { ops, layout: entry?.value ? JSON.parse(entry.value) : null, initializers: (m.graph?.initializer ?? []).length };
}
