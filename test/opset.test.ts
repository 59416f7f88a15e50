// test/opset.test.ts — the op set and index provenance of every emitted model, both routing forms.
//
// The program counter may only *select weights*: in the routed form ('gather') the int64
// `pc` input ([1]: one expert per run) is read by Gather nodes alone (as their index, input
// 1), each gathering one expert's row of an initializer table (its entries' bounds, its
// attention mask); such a row may be re-laid out (Reshape, Split into the bounds of each map)
// and stays a pc row; Slice nodes cut an initializer between such bounds (the active expert's
// entries, blocks, embedding columns), and a Split by a pc row cuts such a slice into the maps'
// parts (a Reshape by a pc row shapes a compact map's block, an Expand by one shapes zeros as
// wide as the expert's units); every other index input (Gather of activations, ScatterND) is
// such a slice of an integer table or a part of one. No other op
// computes on pc, and no index tensor flows anywhere but into an index input or slice bound. The dense
// form ('onehot') has no pc input and no gather/scatter op at all. Neither form uses
// comparison, selection, rounding, argmax or bitwise ops. Checked for every sample in
// wasm-samples and for generated multi-block programs (bench/programs.ts).

import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { loadSamples, sampleWasm } from '../wasm-samples/samples.js';
import { compile } from '../index.js';
import { ALLOWED_OPS, INDEX_OPS, inspectOnnx } from '../backend/emit_onnx.js';
import type { Routing } from '../format/layout.js';
import { chainedLoops, manyExports } from '../bench/programs.js';
import { readWasm } from '../wasm-samples/c/c_samples.js';

const { onnx } = onnxProto;
const INT64 = onnx.TensorProto.DataType.INT64;

const FORBIDDEN = [
  'Where', 'If', 'Loop', 'Scan', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Mod', 'Floor', 'Ceil',
  'Round', 'ArgMax', 'ArgMin', 'TopK', 'Sign', 'Abs', 'Clip', 'Max', 'Min', 'OneHot', 'NonZero', 'Compress',
  'And', 'Or', 'Xor', 'Not', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor', 'BitwiseNot',
];

interface Program {
  name: string;
  input: Uint8Array | string;
  filename: string;
}

const programs: Program[] = [
  ...loadSamples().map((s) => ({ name: s.name, input: sampleWasm(s), filename: s.file })),
  { name: 'chainedLoops(3, memory)', input: chainedLoops(3, 'memory'), filename: 'chained_memory.wat' },
  { name: 'chainedLoops(4, alu)', input: chainedLoops(4, 'alu'), filename: 'chained_alu.wat' },
  { name: 'manyExports(5)', input: manyExports(5), filename: 'many_exports.wat' },
];

interface Checked {
  experts: number;
  gathers: number;
  indexUses: number;
  /** Compact maps: blocks shaped by a pc row (DESIGN.md §8). */
  blocks: number;
  /** Zero tensors shaped by a pc row: MLP hidden vectors as wide as the active expert's units. */
  zeroShapes: number;
}

/** All the op-set and provenance assertions for one model; returns counts for the caller. */
function checkModel(bytes: Uint8Array, routing: Routing, at: string): Checked {
  const g = inspectOnnx(bytes);
  const proto = onnx.ModelProto.decode(bytes);
  const graph = proto.graph!;
  const layout = g.layout as { routing: string; experts: unknown[] };
  expect(layout.routing, at).toBe(routing);
  const initType = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t.dataType ?? 0]));
  expect(new Set(g.nodes.map((n) => n.name)).size, `${at}: node names are unique`).toBe(g.nodes.length);
  // node output name == node name, except a Split's outputs (what the provenance checks below rely on)
  for (const n of g.nodes) if (n.op !== 'Split') expect(n.outputs, `${at}: ${n.name}`).toEqual([n.name]);
  /** The node that computes each tensor, by output name. */
  const byName = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  expect(byName.size, `${at}: tensor names are unique`).toBe(g.nodes.reduce((k, n) => k + n.outputs.length, 0));

  const seen = new Set<string>();
  for (const n of g.nodes) {
    expect(ALLOWED_OPS.has(n.op), `${at}: ${n.name} uses op ${n.op}`).toBe(true);
    expect(FORBIDDEN, `${at}: ${n.name}`).not.toContain(n.op);
    // every input is a graph input, an initializer or an earlier node's output
    for (const x of n.inputs) expect(g.inputs.includes(x) || g.initializers.has(x) || seen.has(x), `${at}: ${n.name} reads unknown ${x}`).toBe(true);
    for (const o of n.outputs) seen.add(o);
  }

  const inputType = new Map((graph.input ?? []).map((i) => [i.name ?? '', i.type?.tensorType?.elemType ?? 0]));
  let gathers = 0;
  let indexUses = 0;
  let zeroShapes = 0;
  if (routing === 'onehot') {
    expect(g.inputs, at).not.toContain('pc');
    expect(g.inputs[0], at).toBe('route');
    for (const n of g.nodes) expect(INDEX_OPS.has(n.op), `${at}: dense model has ${n.op} node ${n.name}`).toBe(false);
    for (const op of INDEX_OPS) expect(g.ops, at).not.toContain(op);
    // no index tables in a dense model (int64 initializers are shapes and slice bounds)
    for (const [name, t] of initType) expect(t === INT64 && name.endsWith('.table'), `${at}: index table ${name}`).toBe(false);
    return { experts: layout.experts.length, gathers, indexUses, blocks: 0, zeroShapes: 0 };
  }

  expect(g.inputs[0], at).toBe('pc');
  expect(inputType.get('pc'), `${at}: pc is int64`).toBe(INT64);
  expect(g.inputs, at).not.toContain('route');
  const isInit = (x: string) => g.initializers.has(x);
  /** Rows of initializer tables gathered by pc (and their re-layouts): the only tensors computed from pc. */
  const pcRows = new Set<string>();
  /** The initializer table each pc row comes from. */
  const pcTable = new Map<string, string>();
  /** Slices of an integer initializer between pc-gathered bounds (and their parts): the index tensors. */
  const indexSlices = new Set<string>();
  /** Slices of a float initializer between pc-gathered bounds (and their parts, reshaped): an expert's weights. */
  const weightSlices = new Set<string>();
  /** Products with an all-zero constant: tensors that are zero whatever the program does. */
  const zeroRows = new Set<string>();
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const zeroInit = (x: string): boolean => {
    const t = inits.get(x);
    if (!t || t.dataType !== onnx.TensorProto.DataType.FLOAT) return false;
    const raw = t.rawData && t.rawData.length ? new Float32Array(Uint8Array.from(t.rawData).buffer) : Float32Array.from(t.floatData ?? []);
    return raw.length > 0 && raw.every((v) => v === 0);
  };
  for (const n of g.nodes) {
    if (n.op === 'Mul' && n.inputs.some(zeroInit)) zeroRows.add(n.name);
    if (n.op === 'Expand' && pcRows.has(n.inputs[1])) {
      // zeros as wide as the active expert's hidden units: the shape of a zero tensor may follow the routing
      expect(zeroRows.has(n.inputs[0]), `${at}: Expand ${n.name} takes a pc-row shape only for zeros`).toBe(true);
      zeroShapes++;
    }
    const pcAt = n.inputs.map((x, i) => (x === 'pc' ? i : -1)).filter((i) => i >= 0);
    if (pcAt.length) {
      expect(n.op, `${at}: ${n.op} node ${n.name} computes on pc`).toBe('Gather');
      expect(pcAt, `${at}: ${n.name} reads pc only as its index`).toEqual([1]);
      expect(isInit(n.inputs[0]), `${at}: ${n.name} gathers by pc from an initializer, not ${n.inputs[0]}`).toBe(true);
      pcRows.add(n.name);
      pcTable.set(n.name, n.inputs[0]);
      gathers++;
    }
    if ((n.op === 'Reshape' || n.op === 'Split') && pcRows.has(n.inputs[0])) {
      // a re-layout of a pc row (its shape / split sizes constant) is a pc row of the same table
      for (const x of n.inputs.slice(1)) expect(isInit(x), `${at}: ${n.name} re-lays out a pc row by constants`).toBe(true);
      for (const o of n.outputs) {
        pcRows.add(o);
        pcTable.set(o, pcTable.get(n.inputs[0])!);
      }
    }
    /** A slice of an initializer between pc-gathered bounds (an expert's entries), or a part of one. */
    const sliced = (x: string) => indexSlices.has(x) || weightSlices.has(x);
    if (n.op === 'Split') {
      // the bounds (a pc row, by constant sizes), or the active expert's entries of every map
      // (its slice of a table) into the maps' parts, by sizes that are a pc row
      const ok = pcRows.has(n.inputs[0]) || (sliced(n.inputs[0]) && pcRows.has(n.inputs[1]));
      expect(ok, `${at}: Split ${n.name} splits only pc rows and expert slices`).toBe(true);
      if (indexSlices.has(n.inputs[0])) for (const o of n.outputs) indexSlices.add(o);
      if (weightSlices.has(n.inputs[0])) for (const o of n.outputs) weightSlices.add(o);
    }
    if (n.op === 'Reshape' && pcRows.has(n.inputs[1])) {
      // a compact map's block: the expert's slice of a float table, in the shape its bounds give
      expect(weightSlices.has(n.inputs[0]), `${at}: Reshape ${n.name} takes a pc-row shape only for an expert's weights`).toBe(true);
      weightSlices.add(n.name);
    }
    if (n.op === 'Slice' && (pcRows.has(n.inputs[1]) || pcRows.has(n.inputs[2]))) {
      // an expert's entries (a slice of a table between bounds gathered by pc), or the active
      // expert's heads / pending rows of an activation (bounds: a pc-gathered row and a constant)
      for (const i of [1, 2]) expect(pcRows.has(n.inputs[i]) || isInit(n.inputs[i]), `${at}: ${n.name} bound ${i} is a pc row or a constant`).toBe(true);
      if (isInit(n.inputs[0])) {
        expect(pcRows.has(n.inputs[1]) && pcRows.has(n.inputs[2]), `${at}: ${n.name} table bounds both gathered by pc`).toBe(true);
        (initType.get(n.inputs[0]) === INT64 ? indexSlices : weightSlices).add(n.name);
      } else {
        const intRow = pcRows.has(n.inputs[0]) && initType.get(pcTable.get(n.inputs[0])!) === INT64;
        expect(indexSlices.has(n.inputs[0]) || intRow, `${at}: ${n.name} slices an index tensor`).toBe(false);
      }
    }
  }
  for (const n of g.nodes) {
    if (!INDEX_OPS.has(n.op) || n.inputs[1] === 'pc') continue;
    // every other index input is an expert's slice of an integer table
    const idx = n.inputs[1];
    expect(indexSlices.has(idx), `${at}: ${n.name} index ${idx} comes from a pc-bounded slice of an index table`).toBe(true);
    // the data / updates inputs are never index tensors
    for (const [i, x] of n.inputs.entries()) if (i !== 1) expect(indexSlices.has(x) || pcRows.has(x), `${at}: ${n.name} input ${i}`).toBe(false);
    indexUses++;
  }
  // index tensors and pc-gathered bounds flow only into index inputs and slice bounds
  for (const name of [...indexSlices, ...[...pcRows].filter((r) => initType.get(pcTable.get(r)!) === INT64)]) {
    const uses = g.nodes.flatMap((n) => n.inputs.map((x, i) => ({ n, i, x }))).filter((u) => u.x === name);
    expect(uses.length, `${at}: ${name} is used`).toBeGreaterThan(0);
    for (const u of uses) {
      const relayout = (u.n.op === 'Reshape' || u.n.op === 'Split') && u.i === 0 && pcRows.has(name);
      // an expert's entries split into the maps' parts; a pc row as the sizes of that split or the shape of a block
      const parts = u.n.op === 'Split' && u.i === 0 && indexSlices.has(name);
      const sizes = (u.n.op === 'Split' || u.n.op === 'Reshape' || u.n.op === 'Expand') && u.i === 1 && pcRows.has(name);
      const ok = relayout || parts || sizes || (INDEX_OPS.has(u.n.op) && u.i === 1) || (u.n.op === 'Slice' && (u.i === 1 || u.i === 2));
      expect(ok, `${at}: index tensor ${name} feeds ${u.n.op} ${u.n.name} input ${u.i}`).toBe(true);
    }
  }
  // integer tables (beyond shapes and constant slice bounds) are read only as gathered/sliced data
  for (const n of g.nodes) {
    n.inputs.forEach((x, i) => {
      if (initType.get(x) === INT64 && x.endsWith('.table')) expect((n.op === 'Gather' || n.op === 'Slice') && i === 0, `${at}: index table ${x} read by ${n.op} ${n.name} input ${i}`).toBe(true);
    });
  }
  const blocks = g.nodes.filter((n) => n.op === 'Reshape' && pcRows.has(n.inputs[1])).length;
  return { experts: layout.experts.length, gathers, indexUses, blocks, zeroShapes };
}

describe('op set and index provenance', () => {
  for (const p of programs) {
    it(`${p.name}: both routing forms`, async () => {
      const routed = await compile(p.input, { filename: p.filename, routing: 'gather' });
      const dense = await compile(p.input, { filename: p.filename, routing: 'onehot' });
      const r = checkModel(routed.onnx, 'gather', `${p.name} (gather)`);
      const d = checkModel(dense.onnx, 'onehot', `${p.name} (onehot)`);
      expect(r.experts).toBe(d.experts);
      expect(r.gathers, 'the routed form gathers its weights by pc').toBeGreaterThan(0);
      expect(r.indexUses, 'the routed form applies sparse maps').toBeGreaterThan(0);
      expect(r.blocks, 'the routed form has compact maps').toBeGreaterThan(0);
      if (p.name.startsWith('chainedLoops')) expect(r.experts, 'a multi-block program').toBeGreaterThan(3);
    });
  }

  it('rejects a model where pc feeds another op (the checker can fail)', async () => {
    // Edit a routed model: make one MatMul read pc. The checks above must reject it.
    const m = await compile(programs[0].input, { filename: programs[0].filename, routing: 'gather' });
    const proto = onnx.ModelProto.decode(m.onnx);
    const n = proto.graph!.node!.find((x) => x.opType === 'Mul')!;
    n.input = [n.input![0], 'pc'];
    const bad = onnx.ModelProto.encode(proto).finish();
    expect(() => checkModel(bad, 'gather', 'edited')).toThrow(/computes on pc/);
    // and a ScatterND whose index is not an expert's slice of an index table
    const proto2 = onnx.ModelProto.decode(m.onnx);
    const sc = proto2.graph!.node!.find((x) => x.opType === 'ScatterND')!;
    sc.input = [sc.input![0], 'token', sc.input![2]];
    expect(() => checkModel(onnx.ModelProto.encode(proto2).finish(), 'gather', 'edited')).toThrow(/pc-bounded slice/);
    // and bounds split from something that is not a pc row
    const proto3 = onnx.ModelProto.decode(m.onnx);
    const sp = proto3.graph!.node!.find((x) => x.opType === 'Split')!;
    sp.input = ['token', sp.input![1]];
    expect(() => checkModel(onnx.ModelProto.encode(proto3).finish(), 'gather', 'edited')).toThrow(/splits only pc rows and expert slices/);
    // and a pc row used as the shape of an activation (only a compact map's block may take one)
    const proto4 = onnx.ModelProto.decode(m.onnx);
    const rs = proto4.graph!.node!.find((x) => x.opType === 'Reshape' && x.name!.endsWith('.block'))!;
    rs.input = ['token', rs.input![1]];
    expect(() => checkModel(onnx.ModelProto.encode(proto4).finish(), 'gather', 'edited')).toThrow(/only for an expert's weights/);
  });

  it("rejects a pc-row shape on anything but zeros (hungarian.c, whose sparse MLPs scatter into the expert's width)", async () => {
    const m = await compile(readWasm('showcase/hungarian.c', 'O2'), { filename: 'hungarian.O2.wasm', routing: 'gather' });
    expect(checkModel(m.onnx, 'gather', 'hungarian').zeroShapes, 'some MLP hidden vector is an expert-wide zero tensor').toBeGreaterThan(0);
    const proto = onnx.ModelProto.decode(m.onnx);
    const ex = proto.graph!.node!.find((x) => x.opType === 'Expand' && x.name!.endsWith('.hidden.zeros'))!;
    ex.input = ['token', ex.input![1]];
    expect(() => checkModel(onnx.ModelProto.encode(proto).finish(), 'gather', 'edited')).toThrow(/only for zeros/);
  });
});
