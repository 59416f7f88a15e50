// test/pinned_sessions.test.ts — a session pinned at one pc computes what the routed graph does.
//
// The runtime may make, for a hot program counter, a session on the model with `pc` an
// initializer (runtime/core.ts LoadOptions.pin; format/model_file.ts cutModel's pins): ONNX
// Runtime then folds every node that reads only initializers and the pc (bounds, entry slices
// and splits, block reshapes) and a step runs only the nodes on the data. Every step must emit
// the same bits as on the routed graph: each sample's cases run with every pc pinned before
// its first step ('always') and with none ('never'): identical outcomes and final memories,
// and, one case at a time, bit-identical step outputs. 'auto' pins a pc only once its steps
// have taken about as long as loading the model took: not on a short run, yes on a long one.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { loadSamples, sampleWasm } from '../wasm-samples/samples.js';
import { compile } from '../index.js';
import { TransformerModel, decodeMemory, type PinPolicy, type StepRecord } from '../runtime/transformer.js';
import { cutModel, readModelFile } from '../format/model_file.js';
import { stepOutputNames } from '../format/layout.js';
import { inputImage } from '../format/io.js';

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

  it('cutModel pins pc as an int64 initializer: the session takes only the token and the cache', async () => {
    const m = await compile(new Uint8Array(readFileSync('wasm-samples/c/showcase/hello.O2.wasm')), { filename: 'hello.O2.wasm' });
    const n = stepOutputNames(m.layout, null);
    const outs = [n.next, ...(n.entries !== null ? [n.entries] : [])];
    const cut = cutModel(m.onnx, outs, { pc: 3 });
    expect(cut.inputs).toEqual(['token', 'cache']);
    expect(readModelFile(m.onnx).inputs).toEqual(['pc', 'token', 'cache']);
    const session = await ort.InferenceSession.create(cut.bytes);
    expect([...session.inputNames]).toEqual(['token', 'cache']);
    expect(() => cutModel(m.onnx, outs, { pc: 1.5 })).toThrow(/cannot pin pc to 1.5/);
  });
});
