// test/pinned_sessions.test.ts — a session pinned at one pc computes what the routed graph does.
//
// The runtime may make, for a hot program counter, a session on the model with `pc` an
// initializer (runtime/core.ts LoadOptions.pin; format/model_file.ts cutModel's pins): ONNX
// Runtime then folds every node that reads only initializers and the pc (bounds, entry slices
// and splits, block reshapes) and a step runs only the nodes on the data. Every step must emit
// the same bits as on the routed graph: each sample's cases run with every pc pinned before
// its first step ('always') and with none ('never'): identical outcomes and final memories,
// and, one case at a time, bit-identical step outputs. 'auto' pins a pc only once its steps
// have taken about what making a pinned session takes: not on a short run, yes on a long one.
// The runtime folds the pinned routing itself (format/fold.ts), checked op by op on a small graph.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadSamples, sampleWasm } from '../wasm-samples/samples.js';
import { compile } from '../index.js';
import { TransformerModel, decodeMemory, type PinPolicy, type StepRecord } from '../runtime/transformer.js';
import { cutModel, readModelFile } from '../format/model_file.js';
import { foldConstants } from '../format/fold.js';
import onnxProto from 'onnx-proto';
import { stepOutputNames } from '../format/layout.js';
import { inputImage } from '../format/io.js';
import { CACHE_KEYS, CACHE_VALUES } from '../format/memory.js';

const samples = loadSamples();

function bits(data: Float32Array | BigInt64Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

async function runWith(model: TransformerModel, name: string, argsList: number[][], record = false) {
  const mems = argsList.map(() => model.newMemory());
  const records: StepRecord[] = [];
  const outcomes = await model.runBatch(name, argsList, mems, { maxSteps: 20000, ...(record ? { record: (r: StepRecord) => records.push(r) } : {}) });
  const L = model.layout.memory;
  return { outcomes, memories: mems.map((m) => (L ? Buffer.from(decodeMemory(L, m)) : Buffer.alloc(0))), records };
}

function sameSteps(a: StepRecord[], b: StepRecord[], what: string): number {
  expect(b.length, `${what}: steps`).toBe(a.length);
  a.forEach((r, k) => {
    for (const [name, t] of Object.entries(r.outputs)) expect(bits(b[k]!.outputs[name]!.data).equals(bits(t.data)), `${what} step ${k}: ${name}`).toBe(true);
  });
  return a.length;
}

describe('pinned sessions', () => {
  for (const s of samples) {
    it(`${s.name}: every pc pinned computes what the routed graph does`, async () => {
      const m = await compile(sampleWasm(s), { filename: s.file });
      const load = (pin: PinPolicy) => TransformerModel.load(m.onnx, { pin });
      const [pinned, routed] = [await load('always'), await load('never')];
      let steps = 0;
      for (const ex of s.exports) {
        const argsList = ex.cases.map((c) => c.args);
        if (argsList.length === 0) continue;
        const p = await runWith(pinned, ex.name, argsList);
        const r = await runWith(routed, ex.name, argsList);
        expect(p.outcomes, `${s.name}.${ex.name}`).toEqual(r.outcomes);
        p.memories.forEach((mem, i) => expect(mem.equals(r.memories[i]!), `${s.name}.${ex.name}(${argsList[i]}): memory`).toBe(true));
        const one = [argsList[0]!];
        steps += sameSteps((await runWith(routed, ex.name, one, true)).records, (await runWith(pinned, ex.name, one, true)).records, `${s.name}.${ex.name}(${one[0]})`);
      }
      expect(steps).toBeGreaterThan(0);
      expect(pinned.pinnedPcs().length).toBeGreaterThan(0);
      expect(routed.pinnedPcs()).toEqual([]);
    }, 60_000);
  }

  it('collatz.c -O2 prints the same sequence, bit for bit, pinned and not', async () => {
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/collatz.O2.wasm')), { filename: 'collatz.O2.wasm' });
    const run = async (pin: PinPolicy) => {
      const model = await TransformerModel.load(m.onnx, { pin });
      const at = model.inputAddress() as number;
      const mem = model.newMemory();
      mem.write(model.layout.memory!, at, inputImage('27'));
      const records: StepRecord[] = [];
      const [o] = await model.runBatch('compute', [[at]], [mem], { record: (r) => records.push(r) });
      return { o: o!, records, model };
    };
    const [p, r] = [await run('always'), await run('never')];
    // model bytes that are a view into a larger Node Buffer (as a file read with others): the
    // folder must copy each table's bytes, not take their buffer (Buffer's slice() is a view)
    const big = Buffer.alloc(m.onnx.length + 16, 0xff);
    big.set(m.onnx, 8);
    const fromView = await TransformerModel.load(big.subarray(8, 8 + m.onnx.length), { pin: 'always' });
    const at = fromView.inputAddress() as number;
    const mem = fromView.newMemory();
    mem.write(fromView.layout.memory!, at, inputImage('27'));
    expect((await fromView.runBatch('compute', [[at]], [mem]))[0]).toEqual(p.o);
    expect(new TextDecoder().decode(p.o.output)).toMatch(/^27 82 41 124 .* 2 1\nsteps: 111\n$/s);
    expect(p.o).toEqual(r.o);
    expect(sameSteps(r.records, p.records, 'collatz(27)')).toBe(r.o.steps);
    // every expert the run reached has its session
    expect(p.model.pinnedPcs()).toEqual([...new Set(p.records.map((x) => Number((x.feeds.pc!.data as BigInt64Array)[0])))].sort((a, b) => a - b));
  }, 60_000);

  it("'auto' pins no pc on a short run, and the hot ones of a long run", async () => {
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/collatz.O2.wasm')), { filename: 'collatz.O2.wasm' });
    const model = await TransformerModel.load(m.onnx);
    const run = async (input: string) => {
      const at = model.inputAddress() as number;
      const mem = model.newMemory();
      mem.write(model.layout.memory!, at, inputImage(input));
      return (await model.runBatch('compute', [[at]], [mem]))[0]!;
    };
    expect((await run('1')).steps).toBeLessThan(30);
    expect(model.pinnedPcs()).toEqual([]);
    for (let k = 0; k < 3; k++) expect(new TextDecoder().decode((await run('27')).output)).toContain('steps: 111');
    expect(model.pinnedPcs().length).toBeGreaterThan(0);
    expect(model.pinnedPcs().length).toBeLessThan(model.layout.experts.length);
  }, 60_000);

  it('cutModel pins pc as an int64 initializer: the session takes only the token, and the cache where the expert looks up memory', async () => {
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/hello.O2.wasm')), { filename: 'hello.O2.wasm' });
    const n = stepOutputNames(m.layout, null);
    const outs = [n.next, ...(n.entries !== null ? [n.entries] : [])];
    expect(readModelFile(m.onnx).inputs).toEqual(['pc', 'token', CACHE_KEYS, CACHE_VALUES]);
    const inputs = m.layout.experts.map((_, pc) => cutModel(m.onnx, outs, { pc }).inputs.join());
    // an expert without lookups loses every attention layer (their maps add zeros), and so the cache
    expect(new Set(inputs)).toEqual(new Set([`token,${CACHE_KEYS},${CACHE_VALUES}`, 'token']));
    const pc = inputs.indexOf(`token,${CACHE_KEYS},${CACHE_VALUES}`);
    const session = await ort.InferenceSession.create(cutModel(m.onnx, outs, { pc }).bytes);
    expect([...session.inputNames]).toEqual(['token', CACHE_KEYS, CACHE_VALUES]);
    expect(() => cutModel(m.onnx, outs, { pc: 1.5 })).toThrow(/cannot pin pc to 1.5/);
  });

  it('foldConstants evaluates Gather, Reshape, Split and Slice on constants and leaves the rest', () => {
    const { onnx } = onnxProto;
    const i64 = (name: string, data: number[], dims = [data.length]) => {
      const raw = new Uint8Array(8 * data.length);
      data.forEach((x, k) => new DataView(raw.buffer).setBigInt64(8 * k, BigInt(x), true));
      return onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.INT64, dims, rawData: raw });
    };
    const f32 = (name: string, data: number[], dims: number[]) => onnx.TensorProto.create({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims, rawData: new Uint8Array(Float32Array.from(data).buffer) });
    const node = (opType: string, input: string[], output: string[], attrs: Record<string, number> = {}) =>
      onnx.NodeProto.create({ opType, input, output, attribute: Object.entries(attrs).map(([name, i]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i })) });
    const inits = [
      i64('table', [0, 4, 1, 3, -2, 9], [3, 2]), i64('pc', [1]), i64('flat', [2]), i64('sizes', [1, 1]), i64('axis1', [1]),
      f32('W', [10, 11, 12, 13, 20, 21, 22, 23], [2, 4]), i64('shape', [0, -1]),
    ];
    const nodes = [
      node('Gather', ['table', 'pc'], ['row'], { axis: 0 }), // [[1, 3]]
      node('Reshape', ['row', 'flat'], ['bounds']), // [1, 3]
      node('Split', ['bounds', 'sizes'], ['start', 'end'], { axis: 0 }), // [1], [3]
      node('Slice', ['W', 'start', 'end', 'axis1'], ['cols']), // W[:, 1:3]
      node('Reshape', ['cols', 'shape'], ['cols2']), // [2, 2]: 0 copies dim 0
      node('MatMul', ['x', 'cols2'], ['y']), // reads the data: stays
    ];
    const out = foldConstants(nodes, inits, ['y']);
    expect(out.nodes.map((n) => n.opType)).toEqual(['MatMul']);
    expect(out.inits.map((t) => t.name)).toEqual(['cols2']);
    const t = out.inits[0]!;
    expect((t.dims ?? []).map(Number)).toEqual([2, 2]);
    expect([...new Float32Array(t.rawData!.slice().buffer)]).toEqual([11, 12, 21, 22]);
    // an index past the table, or a Slice with a step, is left for ONNX Runtime
    const far = foldConstants([node('Gather', ['table', 'big'], ['r'], { axis: 0 })], [...inits, i64('big', [3])], ['r']);
    expect(far.nodes).toHaveLength(1);
    const stepped = foldConstants([node('Slice', ['W', 'start0', 'end0', 'axis1', 'two'], ['s'])], [...inits, i64('start0', [0]), i64('end0', [4]), i64('two', [2])], ['s']);
    expect(stepped.nodes).toHaveLength(1);
  });
});
