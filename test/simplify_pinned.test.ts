// test/simplify_pinned.test.ts — the rewrites of a pinned graph (format/simplify.ts) change no bit.
//
// After fold.ts, a pinned expert's maps are constants. simplifyPinned drops scatter-adds of
// zeros (and the attention layers only they read) and turns sparse maps into dense blocks.
// Each rewrite is checked on small graphs run by ONNX Runtime before and after (bit-identical
// outputs, the expected node counts), and on a real memory-heavy program: sudoku.c -O2 with
// every pc pinned emits the same bits at every step as the routed graph.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { compile } from '../index.js';
import { TransformerModel, type PinPolicy, type StepRecord } from '../runtime/transformer.js';
import { denseMap, simplifyPinned } from '../format/simplify.js';
import { cutModel } from '../format/model_file.js';
import { stepOutputNames } from '../format/layout.js';
import { ALLOWED_OPS, INDEX_OPS } from '../backend/emit_onnx.js';
import { inputImage } from '../format/io.js';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

const i64 = (name: string, data: number[], dims = [data.length]) => {
  const raw = new Uint8Array(8 * data.length);
  data.forEach((x, k) => new DataView(raw.buffer).setBigInt64(8 * k, BigInt(x), true));
  return onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims, rawData: raw });
};
const f32 = (name: string, data: ArrayLike<number>, dims: number[]) =>
  onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(data).buffer) });
const node = (opType: string, input: string[], output: string, attrs: Record<string, number | string> = {}) =>
  onnx.NodeProto.create({
    opType, name: output, input, output: [output],
    attribute: Object.entries(attrs).map(([name, v]) => typeof v === 'string'
      ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) })
      : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v })),
  });
/** A float tensor's value info (no shape: an output's is whatever the graph computes). */
const info = (name: string, dims: number[] | null) => onnx.ValueInfoProto.create({
  name,
  type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create(dims === null ? { elemType: 1 } : { elemType: 1, shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }) }) }),
});

/** Runs a graph with one float input x [rows, 1] and returns its outputs' bytes. */
async function run(nodes: NodeProto[], inits: TensorProto[], outputs: string[], x: Float32Array): Promise<Buffer[]> {
  const graph = onnx.GraphProto.create({ name: 't', node: nodes, initializer: inits, input: [info('x', [x.length, 1])], output: outputs.map((o) => info(o, null)) });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })], graph });
  const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const out = await s.run({ x: new ort.Tensor('float32', x, [x.length, 1]) });
  return outputs.map((o) => Buffer.from((out[o]!.data as Float32Array).buffer.slice(0)));
}

/** A sparse map as the emitter writes it: ScatterND(base, dst, Mul(Gather(x, src), val)). */
function sparseMap(name: string, x: string, base: string, src: number[], dst: number[], val: number[]): { nodes: NodeProto[]; inits: TensorProto[] } {
  return {
    nodes: [
      node('Gather', [x, `${name}.src`], `${name}.inputs`, { axis: 0 }),
      node('Mul', [`${name}.inputs`, `${name}.val`], `${name}.terms`),
      node('ScatterND', [base, `${name}.dst`, `${name}.terms`], name, { reduction: 'add' }),
    ],
    inits: [i64(`${name}.src`, src), i64(`${name}.dst`, dst, [dst.length, 1]), f32(`${name}.val`, val, [val.length, 1])],
  };
}

describe('simplifyPinned', () => {
  it('a scatter-add of zeros is its data: what only it read is dropped', async () => {
    // y = x + 0·softmax(x): the "attention" feeding the zero map goes, y is x
    const sm = [node('Softmax', ['x'], 'att', { axis: 0 })];
    const zero = sparseMap('out', 'att', 'x', [0], [0], [0]);
    const y = node('Add', ['out', 'x'], 'y');
    const nodes = [...sm, ...zero.nodes, y];
    const s = simplifyPinned(nodes, zero.inits, ['y']);
    expect(s.nodes.map((n) => n.opType)).toEqual(['Add']);
    expect(s.nodes[0]!.input).toEqual(['x', 'x']);
    expect(s.inits).toEqual([]);
    const x = Float32Array.from([3, -1.5, 7, 0.25]);
    expect(await run(s.nodes, s.inits, ['y'], x)).toEqual(await run(nodes, zero.inits, ['y'], x));
    // a map with one nonzero value stays (densified: Gather, MatMul, ScatterND)
    const one = sparseMap('out', 'att', 'x', [0], [0], [2]);
    const kept = simplifyPinned([...sm, ...one.nodes, y], one.inits, ['y']);
    expect(kept.nodes.map((n) => n.opType)).toEqual(['Softmax', 'Gather', 'MatMul', 'ScatterND', 'Add']);
    // a graph output is never replaced by its data (only densified)
    expect(simplifyPinned([...sm, ...zero.nodes], zero.inits, ['out']).nodes.map((n) => n.opType)).toEqual(['Softmax', 'Gather', 'MatMul', 'ScatterND']);
  });

  it('a sparse map becomes a dense block with the same bits; into zeros of its width, the product is the result', async () => {
    const rows = 12;
    const src = [3, 0, 7, 3, 11, 5, 0, 9];
    const dst = [1, 4, 0, 2, 4, 3, 0, 1];
    const val = [1, -256, 0.5, 65536, 3, -1, 1 / 1024, 7];
    const x = Float32Array.from({ length: rows }, (_, k) => (k * 37) % 101 - 40);
    // into the residual itself
    const into = sparseMap('m', 'x', 'x', src, dst, val);
    const d1 = simplifyPinned(into.nodes, into.inits, ['m']);
    expect(d1.nodes.map((n) => n.opType)).toEqual(['Gather', 'MatMul', 'ScatterND']);
    expect(await run(d1.nodes, d1.inits, ['m'], x)).toEqual(await run(into.nodes, into.inits, ['m'], x));
    // into zeros [5, 1] that every row of the map writes (an MLP's up map): MatMul only, after the Gather
    // (the zero row as the emitter makes it: the stream's first row times 0, expanded)
    const zeros = [node('Slice', ['x', 'z0', 'z1', 'z0'], 'xrow'), node('Mul', ['xrow', 'zero'], 'zrow'), node('Expand', ['zrow', 'shape'], 'zeros')];
    const zi = [f32('zero', [0], [1]), i64('z0', [0]), i64('z1', [1]), i64('shape', [5, 1])];
    const up = sparseMap('h', 'x', 'zeros', src, dst, val);
    const before = [...zeros, ...up.nodes, node('Relu', ['h'], 'r')];
    const d2 = simplifyPinned(before, [...zi, ...up.inits], ['r']);
    expect(d2.nodes.map((n) => n.opType)).toEqual(['Gather', 'MatMul', 'Relu']);
    expect(await run(d2.nodes, d2.inits, ['r'], x)).toEqual(await run(before, [...zi, ...up.inits], ['r'], x));
    // zeros wider than the rows written: the scatter stays
    const wide = [...zi.slice(0, 3), i64('shape', [6, 1])];
    expect(simplifyPinned(before, [...wide, ...up.inits], ['r']).nodes.map((n) => n.opType)).toEqual(['Slice', 'Mul', 'Expand', 'Gather', 'MatMul', 'ScatterND', 'Relu']);
    // a row that is not zeros: the scatter stays too
    const ones = [f32('zero', [1], [1]), ...zi.slice(1)];
    expect(simplifyPinned(before, [...ones, ...up.inits], ['r']).nodes.map((n) => n.opType)).toEqual(['Slice', 'Mul', 'Expand', 'Gather', 'MatMul', 'ScatterND', 'Relu']);
  });

  it('a Concat input of length 0 along its axis is dropped: empty pending scores and values leave the cache\'s', async () => {
    // pending rows sliced to none, carried through Transpose, Reshape and MatMul, concatenated
    // before the cache's scores, as a pinned layer with heads and no pending rows does
    const nodes = [
      node('Slice', ['x', 'z0', 'z0', 'z0'], 'active'), // [0, 1]
      onnx.NodeProto.create({ opType: 'Transpose', name: 't', input: ['active'], output: ['t'], attribute: [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] })] }),
      node('Reshape', ['t', 'rows3'], 'rows'), // [1, 0, 1]
      onnx.NodeProto.create({ opType: 'Transpose', name: 'kT', input: ['rows'], output: ['kT'], attribute: [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] })] }),
      node('Reshape', ['x', 'q3'], 'q'), // [1, 4, 1]
      node('MatMul', ['q', 'kT'], 'sp_raw'), // [1, 4, 0]
      node('Add', ['sp_raw', 'mask'], 'sp'), // mask [1, 1, 0]
      node('Mul', ['q', 'two'], 'cache_scores'), // [1, 4, 1]
      node('Concat', ['sp', 'cache_scores'], 'scores', { axis: 2 }),
      node('Softmax', ['scores'], 'w', { axis: -1 }),
      node('Concat', ['rows', 'cache_values'], 'values', { axis: 1 }), // [1, 0 + 1, 1]
      node('MatMul', ['w', 'values'], 'y'),
    ];
    const inits = [i64('z0', [0]), i64('rows3', [0, -1, 1]), i64('q3', [1, 4, 1]), f32('mask', [], [1, 1, 0]), f32('two', [2], [1]), f32('cache_values', [5], [1, 1, 1])];
    const s = simplifyPinned(nodes, inits, ['y']);
    expect(s.nodes.map((n) => n.opType)).toEqual(['Reshape', 'Mul', 'Softmax', 'MatMul']);
    expect(s.nodes[3]!.input).toEqual(['w', 'cache_values']);
    const x = Float32Array.from([1, -2, 3, 0.5]);
    expect(await run(s.nodes, s.inits, ['y'], x)).toEqual(await run(nodes, inits, ['y'], x));
    // a slice that may be non-empty keeps its Concat input
    const some = simplifyPinned(nodes, [...inits.slice(1), i64('z0', [1])], ['y']);
    expect(some.nodes.filter((n) => n.opType === 'Concat')).toHaveLength(2);
  });

  it('a dense block reads its whole input where that input\'s rows are known and the block at most doubles', async () => {
    // xr = I·x has 12 rows (a constant block's); the map reads 6 of them into 5 rows
    const eye = Array.from({ length: 144 }, (_, k) => (k % 13 === 0 ? 1 : 0));
    const src = [3, 0, 7, 3, 11, 5];
    const dst = [1, 4, 0, 2, 4, 3];
    const val = [1, -256, 0.5, 65536, 3, -1];
    const m = sparseMap('m', 'xr', 'xr', src, dst, val);
    const nodes = [node('MatMul', ['eye', 'x'], 'xr'), ...m.nodes];
    const inits = [f32('eye', eye, [12, 12]), ...m.inits];
    const s = simplifyPinned(nodes, inits, ['m']);
    expect(s.nodes.map((n) => n.opType)).toEqual(['MatMul', 'MatMul', 'ScatterND']);
    const wide = s.inits.find((t) => t.name === s.nodes[1]!.input![0]);
    expect((wide?.dims ?? []).map(Number)).toEqual([5, 12]);
    const x = Float32Array.from({ length: 12 }, (_, k) => (k * 37) % 101 - 40);
    expect(await run(s.nodes, s.inits, ['m'], x)).toEqual(await run(nodes, inits, ['m'], x));
  });

  it('a map of independent gadgets becomes one block per group, with the same bits', async () => {
    // four gadgets: gadget g reads rows 500g..500g+499 and writes rows 100g..100g+99 of a
    // 2,000-row stream: one block would be 2,000 × 400 cells, four are 500 × 100 each
    const src: number[] = [];
    const dst: number[] = [];
    const val: number[] = [];
    for (let g = 0; g < 4; g++) {
      for (let o = 0; o < 100; o++) for (let j = 0; j < 50; j++) (src.push(500 * g + ((o * 7 + j * 11) % 500)), dst.push(100 * g + o), val.push(((o + j + g) % 9) - 4 || 1));
    }
    const m = sparseMap('m', 'x', 'x', src, dst, val);
    const s = simplifyPinned(m.nodes, m.inits, ['m']);
    const ops = s.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'MatMul')).toHaveLength(4);
    expect(ops.slice(-2)).toEqual(['Concat', 'ScatterND']);
    const cells = s.inits.filter((t) => t.name?.endsWith('.block')).reduce((c, t) => c + (t.dims ?? []).map(Number).reduce((a, b) => a * b, 1), 0);
    expect(cells).toBe(4 * 500 * 100);
    const x = Float32Array.from({ length: 2000 }, (_, k) => ((k * 37) % 101) - 40);
    expect(await run(s.nodes, s.inits, ['m'], x)).toEqual(await run(m.nodes, m.inits, ['m'], x));
  });

  it('an up map of interleaved gadgets is split, its hidden rows permuted and the down map reading them where they went', async () => {
    // hidden unit u (400 of them) reads the constant-1 row 0 (read by every unit: it joins
    // none) and 40 consecutive rows of its gadget's half of x: even units rows 1..600, odd ones
    // 601..1200; so the gadgets' hidden rows interleave, and the blocks' products concatenated
    // are the hidden vector permuted
    const src: number[] = [];
    const dst: number[] = [];
    const val: number[] = [];
    for (let u = 0; u < 400; u++) {
      src.push(0), dst.push(u), val.push(-3);
      for (let j = 0; j < 40; j++) (src.push(1 + 600 * (u % 2) + ((3 * (u >> 1) + j) % 600)), dst.push(u), val.push(((u + j) % 5) - 2 || 1));
    }
    const zeros = [node('Slice', ['x', 'z0', 'z1', 'z0'], 'xrow'), node('Mul', ['xrow', 'zero'], 'zrow'), node('Expand', ['zrow', 'shape'], 'zeros')];
    const zi = [f32('zero', [0], [1]), i64('z0', [0]), i64('z1', [1]), i64('shape', [400, 1])];
    const up = sparseMap('h', 'x', 'zeros', src, dst, val);
    const down = sparseMap('y', 'r', 'x', Array.from({ length: 400 }, (_, u) => u), Array.from({ length: 400 }, (_, u) => u % 7), Array.from({ length: 400 }, (_, u) => (u % 3) + 1));
    const nodes = [...zeros, ...up.nodes, node('Relu', ['h'], 'r'), ...down.nodes];
    const inits = [...zi, ...up.inits, ...down.inits];
    const s = simplifyPinned(nodes, inits, ['y']);
    const concat = s.nodes.find((n) => n.output?.[0] === 'h');
    expect(concat?.opType).toBe('Concat');
    expect(concat?.input).toHaveLength(2);
    const x = Float32Array.from({ length: 1201 }, (_, k) => (k === 0 ? 1 : ((k * 37) % 101) - 40));
    expect(await run(s.nodes, s.inits, ['y'], x)).toEqual(await run(nodes, inits, ['y'], x));
    // the hidden vector as a graph output is not permuted: the interleaved gadgets stay one block
    const kept = simplifyPinned(nodes, inits, ['y', 'h']);
    expect(kept.nodes.find((n) => n.output?.[0] === 'h')?.opType).toBe('MatMul');
    expect(await run(kept.nodes, kept.inits, ['y', 'h'], x)).toEqual(await run(nodes, inits, ['y', 'h'], x));
  });

  it('denseMap keeps a map sparse where two entries share a cell or the block is too big', () => {
    expect(denseMap([1, 1], [0, 0], [1, 2])).toBeNull();
    const dense = denseMap([4, 2], [1, 3], [5, 6]);
    expect(dense).toEqual({ rowsRead: [2, 4], rowsWritten: [1, 3], block: Float32Array.from([0, 5, 6, 0]) });
    // 200 entries on a diagonal of 200 x 200 = 40,000 cells: 200 an entry, more than the 128 allowed
    const diag = Array.from({ length: 200 }, (_, k) => k);
    expect(denseMap(diag, diag, diag.map(() => 1))).toBeNull();
    expect(denseMap(diag.slice(0, 60), diag.slice(0, 60), diag.slice(0, 60))).not.toBeNull(); // 3,600 cells: small
  });

  it('every pinned graph of sudoku.c -O2 keeps the op set, and its indices are constants', async () => {
    // the pc is a constant in a pinned graph, so every Gather's and scatter's indices (the
    // blocks' rows, the permuted rows) are initializers, and the ops are the emitted graph's
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/sudoku.O2.wasm')), { filename: 'sudoku.O2.wasm' });
    let blocks = 0;
    m.layout.experts.forEach((e, pc) => {
      const names = stepOutputNames(m.layout, e.exit ?? null);
      const cut = cutModel(m.onnx, [names.next, ...(names.entries !== null ? [names.entries] : [])], { pc });
      const g = onnx.ModelProto.decode(cut.bytes).graph!;
      const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
      expect((g.input ?? []).map((i) => i.name), `pc ${pc}`).not.toContain('pc');
      for (const n of g.node ?? []) {
        expect(ALLOWED_OPS.has(n.opType ?? ''), `pc ${pc}: ${n.name} uses ${n.opType}`).toBe(true);
        if (INDEX_OPS.has(n.opType ?? '')) expect(inits.has((n.input ?? [])[1] ?? ''), `pc ${pc}: ${n.name}'s indices`).toBe(true);
        if (n.opType === 'Concat' && (n.name ?? '').includes('.mlp.')) blocks++;
      }
    });
    expect(blocks).toBeGreaterThan(0); // maps split into blocks are among them
  }, 120_000);

  it('sudoku.c -O2 pinned at every pc emits the routed graph\'s bits at every step', async () => {
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/sudoku.O2.wasm')), { filename: 'sudoku.O2.wasm' });
    const runWith = async (pin: PinPolicy) => {
      const model = await TransformerModel.load(m.onnx, { pin });
      const at = model.inputAddress() as number;
      const mem = model.newMemory();
      mem.write(model.layout.memory!, at, inputImage('11' + '0'.repeat(79)));
      const records: StepRecord[] = [];
      const [o] = await model.runBatch('compute', [[at]], [mem], { record: (r) => records.push(r) });
      return { o: o!, records, pins: model.pinnedPcs().length };
    };
    const [p, r] = [await runWith('always'), await runWith('never')];
    expect(new TextDecoder().decode(p.o.output)).toBe('no solution\n');
    expect(p.o).toEqual(r.o);
    expect(p.records.length).toBe(r.records.length);
    r.records.forEach((rec, k) => {
      for (const [name, t] of Object.entries(rec.outputs)) {
        const a = Buffer.from((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, (t.data as Float32Array).byteLength);
        const b = p.records[k]!.outputs[name]!.data as Float32Array;
        expect(a.equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)), `step ${k}: ${name}`).toBe(true);
      }
    });
    expect(p.pins).toBeGreaterThan(10);
  }, 240_000);
});
