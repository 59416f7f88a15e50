// format/fold.ts — constant folding of a pinned graph's routing, in plain JavaScript.
//
// A routed model's graph reads the program counter only through Gathers of initializer tables
// and the Reshapes, Splits and Slices of what they select (backend/emit_onnx.ts: the bounds row,
// the entry regions, the blocks' shapes, the head masks, the embedding's columns). With `pc`
// pinned to one value (format/model_file.ts cutModel), every such node reads only constants:
// foldConstants evaluates them here and keeps only their results, so the model handed to ONNX
// Runtime holds the one expert's weights, not every expert's (making its session then costs
// what that expert's size costs, not the whole model's). Only these four ops are evaluated, on
// float32 and int64 tensors; any other node, or one these rules do not cover, is left as it is
// for ONNX Runtime (which folds what is left of the constants itself).

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

/** A constant: its dims, element type and elements (int64 as safe-integer numbers). */
export interface Const {
  dims: number[];
  type: number;
  data: Float32Array | Float64Array;
}

function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Initializers already read (a model pinned at many pcs reads its tables once). */
const readCache = new WeakMap<TensorProto, Const | null>();

/** An initializer as a Const (null: a type or encoding this folder does not read). */
export function readTensor(t: TensorProto): Const | null {
  let c = readCache.get(t);
  if (c === undefined) {
    c = decodeTensor(t);
    readCache.set(t, c);
  }
  return c;
}

function decodeTensor(t: TensorProto): Const | null {
  const dims = (t.dims ?? []).map(Number);
  const n = size(dims);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  // the rawData bytes are little-endian, as every platform ONNX Runtime runs on is; copied into
  // a buffer of their own (decoded from a Node Buffer they are a view into the whole file, and
  // Buffer's slice() does not copy)
  if (t.dataType === FLOAT) {
    if (raw) return raw.length === 4 * n ? { dims, type: FLOAT, data: new Float32Array(new Uint8Array(raw).buffer) } : null;
    return (t.floatData ?? []).length === n ? { dims, type: FLOAT, data: Float32Array.from(t.floatData ?? []) } : null;
  }
  if (t.dataType === INT64) {
    if (raw) {
      if (raw.length !== 8 * n) return null;
      // two's complement words of safe integers: lo + 2^32·hi (hi signed)
      const words = new Int32Array(new Uint8Array(raw).buffer);
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = ((words[2 * i] as number) >>> 0) + 2 ** 32 * (words[2 * i + 1] as number);
      return { dims, type: INT64, data };
    }
    const xs = (t.int64Data ?? []).map((x) => Number(x));
    return xs.length === n ? { dims, type: INT64, data: Float64Array.from(xs) } : null;
  }
  return null;
}

export function writeTensor(name: string, c: Const): TensorProto {
  // little-endian, as every platform ONNX Runtime runs on is (the typed arrays' own order)
  let raw: Uint8Array;
  if (c.type === FLOAT) raw = new Uint8Array((c.data instanceof Float32Array ? c.data.slice() : Float32Array.from(c.data)).buffer);
  else raw = int64Raw(c.data);
  return onnx.TensorProto.create({ name, dataType: c.type, dims: c.dims, rawData: raw });
}

/** An int64 tensor's raw data: little-endian two's complement words of safe integers, without a BigInt per element. */
export function int64Raw(data: ArrayLike<number>): Uint8Array {
  const words = new Int32Array(2 * data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    words[2 * i] = x | 0;
    words[2 * i + 1] = Math.floor(x / 2 ** 32);
  }
  return new Uint8Array(words.buffer);
}

export function intAttr(n: NodeProto, name: string, dflt: number): number {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a ? Number(a.i ?? dflt) : dflt;
}

/** Elements [start, end) along `axis` of x. */
function sliceAxis(x: Const, axis: number, start: number, end: number): Const {
  const dims = [...x.dims];
  const outer = size(dims.slice(0, axis));
  const inner = size(dims.slice(axis + 1));
  const len = Math.max(0, end - start);
  dims[axis] = len;
  const data = new (x.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(outer * len * inner);
  const n = x.dims[axis] as number;
  for (let o = 0; o < outer; o++) data.set(x.data.subarray((o * n + start) * inner, (o * n + start + len) * inner), o * len * inner);
  return { dims, type: x.type, data };
}

/** The node's outputs evaluated (null: not folded here). */
function evaluate(n: NodeProto, ins: Const[]): Const[] | null {
  const op = n.opType;
  const x = ins[0];
  if (!x) return null;
  if (op === 'Gather') {
    const idx = ins[1];
    if (!idx || idx.type !== INT64 || intAttr(n, 'axis', 0) !== 0 || x.dims.length === 0) return null;
    const rows = x.dims[0] as number;
    const inner = size(x.dims.slice(1));
    const data = new (x.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(idx.data.length * inner);
    for (let k = 0; k < idx.data.length; k++) {
      let r = idx.data[k] as number;
      if (r < 0) r += rows;
      if (!(r >= 0 && r < rows)) return null;
      data.set(x.data.subarray(r * inner, (r + 1) * inner), k * inner);
    }
    return [{ dims: [...idx.dims, ...x.dims.slice(1)], type: x.type, data }];
  }
  if (op === 'Reshape') {
    const shape = ins[1];
    if (!shape || shape.type !== INT64) return null;
    const allowzero = intAttr(n, 'allowzero', 0) === 1;
    const dims = Array.from(shape.data, (d, i) => (d === 0 && !allowzero ? (x.dims[i] as number) : d));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const minus = dims.filter((d) => d === -1).length;
    if (minus > 1 || dims.some((d) => d < -1)) return null;
    if (minus === 1) {
      if (known === 0 || x.data.length % known !== 0) return null;
      dims[dims.indexOf(-1)] = x.data.length / known;
    }
    return size(dims) === x.data.length ? [{ dims, type: x.type, data: x.data }] : null;
  }
  if (op === 'Split') {
    const split = ins[1];
    const axis = intAttr(n, 'axis', 0);
    if (!split || split.type !== INT64 || axis < 0 || axis >= x.dims.length) return null;
    const parts = Array.from(split.data);
    if (parts.length !== (n.output ?? []).length || parts.reduce((a, b) => a + b, 0) !== x.dims[axis]) return null;
    let at = 0;
    return parts.map((len) => {
      const part = sliceAxis(x, axis, at, at + len);
      at += len;
      return part;
    });
  }
  if (op === 'Slice') {
    const [starts, ends, axes, steps] = [ins[1], ins[2], ins[3], ins[4]];
    if (!starts || !ends || starts.data.length !== ends.data.length) return null;
    if (steps && Array.from(steps.data).some((s) => s !== 1)) return null;
    let y = x;
    for (let k = 0; k < starts.data.length; k++) {
      let axis = axes ? (axes.data[k] as number) : k;
      if (axis < 0) axis += x.dims.length;
      if (!(axis >= 0 && axis < x.dims.length)) return null;
      const dim = y.dims[axis] as number;
      const clamp = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
      y = sliceAxis(y, axis, clamp(starts.data[k] as number), clamp(ends.data[k] as number));
    }
    return [y];
  }
  return null;
}

/**
 * The graph with every Gather, Reshape, Split and Slice whose inputs are all initializers
 * evaluated: those nodes removed, their outputs that other nodes or the graph's outputs read
 * added as initializers, and the initializers no node reads any more dropped.
 */
export function foldConstants(nodes: NodeProto[], inits: TensorProto[], graphOutputs: readonly string[]): { nodes: NodeProto[]; inits: TensorProto[] } {
  const byName = new Map(inits.map((t) => [t.name ?? '', t]));
  const consts = new Map<string, Const | null>(); // null: an initializer this folder cannot read
  const constOf = (name: string): Const | null | undefined => {
    if (consts.has(name)) return consts.get(name);
    const t = byName.get(name);
    if (!t) return undefined;
    const c = readTensor(t);
    consts.set(name, c);
    return c;
  };
  const folded = new Map<string, Const>();
  const kept: NodeProto[] = [];
  for (const n of nodes) {
    const names = (n.input ?? []).filter((i) => i !== '');
    const ins = names.map((i) => folded.get(i) ?? constOf(i));
    const outs = ['Gather', 'Reshape', 'Split', 'Slice'].includes(n.opType ?? '') && ins.every((c) => c) ? evaluate(n, ins as Const[]) : null;
    if (!outs) {
      kept.push(n);
      continue;
    }
    (n.output ?? []).forEach((o, k) => folded.set(o, outs[k] as Const));
  }
  const read = new Set<string>(graphOutputs);
  for (const n of kept) for (const i of n.input ?? []) read.add(i);
  const newInits = [...inits.filter((t) => read.has(t.name ?? '')), ...[...folded].filter(([name]) => read.has(name) && !byName.has(name)).map(([name, c]) => writeTensor(name, c))];
  return { nodes: kept, inits: newInits };
}
