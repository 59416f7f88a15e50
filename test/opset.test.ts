// test/opset.test.ts — the op set and index provenance of every emitted model, both routing forms.
//
// The program counter may only *select weights*: in the routed form ('gather') the int64
// `pc` input is read by Gather nodes alone (as their index, input 1), each gathering one
// expert's row of an initializer table; GatherElements/ScatterElements take their index
// (input 1) only from such a Gather of an initializer by pc. No other op computes on pc,
// and no index tensor derived from it flows anywhere but into an index input. The dense
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

const { onnx } = onnxProto;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT32 = onnx.TensorProto.DataType.INT32;

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
}

/** All the op-set and provenance assertions for one model; returns counts for the caller. */
function checkModel(bytes: Uint8Array, routing: Routing, at: string): Checked {
  const g = inspectOnnx(bytes);
  const proto = onnx.ModelProto.decode(bytes);
  const graph = proto.graph!;
  const layout = g.layout as { routing: string; experts: unknown[] };
  expect(layout.routing, at).toBe(routing);
  const initType = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t.dataType ?? 0]));
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  expect(byName.size, `${at}: node names are unique`).toBe(g.nodes.length);
  // node output name == node name (what the provenance checks below rely on)
  for (const n of graph.node ?? []) expect(n.output, `${at}: ${n.name}`).toEqual([n.name]);

  for (const n of g.nodes) {
    expect(ALLOWED_OPS.has(n.op), `${at}: ${n.name} uses op ${n.op}`).toBe(true);
    expect(FORBIDDEN, `${at}: ${n.name}`).not.toContain(n.op);
    // every input is a graph input, an initializer or an earlier node
    for (const x of n.inputs) expect(g.inputs.includes(x) || g.initializers.has(x) || byName.has(x), `${at}: ${n.name} reads unknown ${x}`).toBe(true);
  }

  const inputType = new Map((graph.input ?? []).map((i) => [i.name ?? '', i.type?.tensorType?.elemType ?? 0]));
  let gathers = 0;
  let indexUses = 0;
  if (routing === 'onehot') {
    expect(g.inputs, at).not.toContain('pc');
    expect(g.inputs[0], at).toBe('route');
    for (const n of g.nodes) expect(INDEX_OPS.has(n.op), `${at}: dense model has ${n.op} node ${n.name}`).toBe(false);
    for (const op of ['Gather', 'GatherElements', 'ScatterElements']) expect(g.ops, at).not.toContain(op);
    // no integer tables in a dense model
    for (const [name, t] of initType) expect(t === INT32, `${at}: int32 initializer ${name}`).toBe(false);
    return { experts: layout.experts.length, gathers, indexUses };
  }

  expect(g.inputs[0], at).toBe('pc');
  expect(inputType.get('pc'), `${at}: pc is int64`).toBe(INT64);
  expect(g.inputs, at).not.toContain('route');
  /** Gathers of an initializer table by pc: the only nodes computing on pc. */
  const pcGathers = new Set<string>();
  for (const n of g.nodes) {
    const pcAt = n.inputs.map((x, i) => (x === 'pc' ? i : -1)).filter((i) => i >= 0);
    if (n.op === 'Gather') {
      expect(n.inputs[1], `${at}: ${n.name} gathers by pc`).toBe('pc');
      expect(g.initializers.has(n.inputs[0]), `${at}: ${n.name} gathers from an initializer, not ${n.inputs[0]}`).toBe(true);
      expect(pcAt, `${at}: ${n.name} reads pc only as its index`).toEqual([1]);
      pcGathers.add(n.name);
      gathers++;
    } else {
      expect(pcAt, `${at}: ${n.op} node ${n.name} computes on pc`).toEqual([]);
    }
    if (n.op === 'GatherElements' || n.op === 'ScatterElements') {
      const idx = n.inputs[1];
      const src = byName.get(idx);
      expect(src?.op, `${at}: ${n.name} index ${idx} comes from a Gather`).toBe('Gather');
      expect(pcGathers.has(idx), `${at}: ${n.name} index ${idx} is a table row gathered by pc`).toBe(true);
      expect(g.initializers.has(src!.inputs[0]), `${at}: ${n.name} index table`).toBe(true);
      expect(initType.get(src!.inputs[0]), `${at}: ${n.name} index table ${src!.inputs[0]} is integer`).toBe(INT32);
      // the data / updates inputs are never index tensors
      for (const [i, x] of n.inputs.entries()) if (i !== 1) expect(initType.get(byName.get(x)?.inputs[0] ?? '') === INT32 && byName.get(x)?.op === 'Gather', `${at}: ${n.name} input ${i}`).toBe(false);
      indexUses++;
    }
  }
  // index rows (integer tables gathered by pc) flow only into index inputs
  for (const name of pcGathers) {
    const table = byName.get(name)!.inputs[0];
    if (initType.get(table) !== INT32) continue;
    const uses = g.nodes.flatMap((n) => n.inputs.map((x, i) => ({ n, i, x }))).filter((u) => u.x === name);
    expect(uses.length, `${at}: ${name} is used`).toBeGreaterThan(0);
    for (const u of uses) expect(INDEX_OPS.has(u.n.op) && u.n.op !== 'Gather' && u.i === 1, `${at}: index row ${name} feeds ${u.n.op} ${u.n.name} input ${u.i}`).toBe(true);
  }
  // integer tables are read only by those Gathers
  for (const n of g.nodes) {
    n.inputs.forEach((x, i) => {
      if (initType.get(x) === INT32) expect(n.op === 'Gather' && i === 0, `${at}: int32 table ${x} read by ${n.op} ${n.name} input ${i}`).toBe(true);
    });
  }
  return { experts: layout.experts.length, gathers, indexUses };
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
    // and a GatherElements whose index is not a pc-gathered table row
    const proto2 = onnx.ModelProto.decode(m.onnx);
    const ge = proto2.graph!.node!.find((x) => x.opType === 'GatherElements')!;
    ge.input = [ge.input![0], 'token'];
    expect(() => checkModel(onnx.ModelProto.encode(proto2).finish(), 'gather', 'edited')).toThrow(/comes from a Gather/);
  });
});
