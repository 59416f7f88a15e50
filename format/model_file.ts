// format/model_file.ts — reading and writing the layout inside an .onnx file.
//
// The model file is a standard ONNX ModelProto; the layout (format/layout.ts) is the JSON
// value of metadata_props["wasmformer.layout"]. readModelLayout() decodes only what it
// needs and validates the layout before anyone uses it.

import onnxProto from 'onnx-proto';
import { RunError } from './errors.js';
import { LAYOUT_KEY, ModelLayout, validateLayout } from './layout.js';
import { foldConstants } from './fold.js';
import { simplifyPinned } from './simplify.js';

const { onnx } = onnxProto;

export interface ModelFileInfo {
  layout: ModelLayout;
  /** Op types used by the graph (sorted, unique). */
  ops: string[];
  inputs: string[];
  outputs: string[];
  /** Static shape of each graph input and output (a symbolic dimension is its name). */
  shapes: Record<string, Array<number | string>>;
  /** Leading dimension of every initializer a Gather selects rows of by `pc` (expert tables). */
  expertRows: number[];
}

/** Decodes an .onnx file's layout (validated) and graph summary; RunError for anything else. */
export function readModelFile(bytes: Uint8Array, what = 'model'): ModelFileInfo {
  let m: onnxProto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new RunError(`${what} is not an ONNX model: ${(e as Error).message.split('\n')[0]}`);
  }
  const entry = (m.metadataProps ?? []).find((p) => p.key === LAYOUT_KEY);
  if (!entry?.value) throw new RunError(`${what} was not produced by wasmformer (no ${LAYOUT_KEY} metadata)`);
  let raw: unknown;
  try {
    raw = JSON.parse(entry.value);
  } catch {
    throw new RunError(`${what}: the ${LAYOUT_KEY} metadata is not valid JSON`);
  }
  const layout = validateLayout(raw, what);
  const g = m.graph;
  const shapes: Record<string, Array<number | string>> = {};
  for (const v of [...(g?.input ?? []), ...(g?.output ?? [])]) {
    shapes[v.name ?? ''] = (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
  }
  const inits = new Map((g?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const expertRows = new Set<number>();
  for (const n of g?.node ?? []) {
    const t = n.opType === 'Gather' && n.input?.[1] === 'pc' ? inits.get(n.input[0]) : undefined;
    if (t) expertRows.add(Number(t.dims?.[0] ?? 0));
  }
  return {
    layout,
    ops: [...new Set((g?.node ?? []).map((n) => n.opType ?? ''))].sort(),
    inputs: (g?.input ?? []).map((i) => i.name ?? ''),
    outputs: (g?.output ?? []).map((o) => o.name ?? ''),
    shapes,
    expertRows: [...expertRows],
  };
}

/** Models already decoded, by their bytes (cutting one model many times decodes it once). */
const decoded = new WeakMap<Uint8Array, onnxProto.onnx.ModelProto>();

function decodedModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  let m = decoded.get(bytes);
  if (!m) {
    m = onnx.ModelProto.decode(bytes);
    decoded.set(bytes, m);
  }
  return m;
}

/**
 * The same model with its graph cut down to what `outputs` need: the nodes they depend on, the
 * initializers and inputs those read (ONNX Runtime runs every node of a graph whatever is
 * fetched, so a step that needs fewer layers runs on such a cut: format/layout.ts `exit`).
 *
 * `pins` turns int64 graph inputs of shape [1] into initializers of the given values: a routed
 * model's `pc` pinned to one expert (runtime/core.ts), so every node that reads only initializers
 * and the pc (its bounds, its entries' slices and splits, its blocks' reshapes) is a constant
 * ONNX Runtime folds when it makes the session, and each step runs only the nodes on the data.
 */
export function cutModel(bytes: Uint8Array, outputs: readonly string[], pins: Readonly<Record<string, number>> = {}): { bytes: Uint8Array; inputs: string[] } {
  const m = decodedModel(bytes);
  const g = m.graph;
  if (!g) throw new RunError('model has no graph');
  const producer = new Map<string, onnxProto.onnx.INodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const keep = new Set<onnxProto.onnx.INodeProto>();
  const needed = new Set<string>();
  const work = [...outputs];
  while (work.length > 0) {
    const t = work.pop() as string;
    if (needed.has(t)) continue;
    needed.add(t);
    const n = producer.get(t);
    if (n && !keep.has(n)) {
      keep.add(n);
      work.push(...(n.input ?? []).filter((i) => i !== ''));
    }
  }
  for (const o of outputs) if (!producer.has(o)) throw new RunError(`model has no output ${o}`);
  const pinned = Object.entries(pins).filter(([name]) => needed.has(name)).map(([name, v]) => {
    if (!Number.isSafeInteger(v)) throw new RunError(`cannot pin ${name} to ${v}: not an integer`);
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setBigInt64(0, BigInt(v), true);
    return onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims: [1], rawData: raw });
  });
  let node = (g.node ?? []).filter((n) => keep.has(n));
  let initializer = [...(g.initializer ?? []).filter((t) => needed.has(t.name ?? '')), ...pinned];
  // pinned: what reads only constants now is evaluated here (format/fold.ts), so the session
  // gets the pinned expert's weights only
  if (pinned.length > 0) {
    ({ nodes: node, inits: initializer } = foldConstants(node, initializer, outputs));
    ({ nodes: node, inits: initializer } = simplifyPinned(node, initializer, outputs));
  }
  const reads = new Set<string>(outputs);
  for (const n of node) for (const i of n.input ?? []) reads.add(i);
  const graph = onnx.GraphProto.create({
    name: g.name ?? 'wasmformer',
    node,
    initializer,
    // (folding may leave an input unread: the cache, by an expert that looks nothing up)
    input: (g.input ?? []).filter((i) => reads.has(i.name ?? '') && !((i.name ?? '') in pins)),
    output: (g.output ?? []).filter((o) => outputs.includes(o.name ?? '')),
  });
  const cut = onnx.ModelProto.create({ ...m, graph, metadataProps: [] });
  return { bytes: onnx.ModelProto.encode(cut).finish(), inputs: (graph.input ?? []).map((i) => i.name ?? '') };
}
