// format/model_file.ts — reading and writing the layout inside an .onnx file.
//
// The model file is a standard ONNX ModelProto; the layout (format/layout.ts) is the JSON
// value of metadata_props["wasmformer.layout"]. readModelLayout() decodes only what it
// needs and validates the layout before anyone uses it.

import onnxProto from 'onnx-proto';
import { RunError } from './errors.js';
import { LAYOUT_KEY, ModelLayout, validateLayout } from './layout.js';

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
