// bench/steps.ts — the per-step cost of the runtime: the floor and long runs.
//
//   floor: one session.run of a one-node ONNX graph (Identity on a [1, 1] tensor), which is
//     ONNX Runtime's own per-call cost from Node, and one step of the smallest compiled model
//     (an identity export: one expert, no memory), which adds the runtime's token encode/decode.
//   steps: time per step of a store-heavy loop (bench/programs.ts chainedLoops(1, 'memory'):
//     every iteration loads a word, adds the counter and stores it back, one step each) run for
//     about 10^3, 10^4, 10^5 and 10^6 steps (--quick stops at 10^4), checked against the IR
//     interpreter (results and step count). With eviction (the default) the KV cache stays flat,
//     so the time per step should not grow with the run.
// Medians of several calls after a warm-up call for the floor; one call per size (after a
// 100-step warm-up run) for the long runs.

import onnxProto from 'onnx-proto';
import { compile } from '../index.js';
import { interpret } from '../ir/interp.js';
import { TransformerModel } from '../runtime/transformer.js';
import { chainedLoops } from './programs.js';

const { onnx } = onnxProto;

export interface FloorResult {
  /** Microseconds per session.run of a one-node graph (median). */
  identityRunUs: number;
  /** Microseconds per step of the smallest compiled model, one call = one step (median). */
  smallestModelStepUs: number;
  smallestModelNodes: number;
}

export interface StepsResult {
  targetSteps: number;
  steps: number;
  seconds: number;
  usPerStep: number;
  cacheRows: number;
  ok: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** A one-node ONNX model: y = Identity(x), x float32 [1, 1]. */
function identityModel(): Uint8Array {
  const vi = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim: [{ dimValue: 1 }, { dimValue: 1 }] }) }) }),
    });
  const graph = onnx.GraphProto.create({ name: 'floor', node: [onnx.NodeProto.create({ opType: 'Identity', input: ['x'], output: ['y'] })], input: [vi('x')], output: [vi('y')] });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph });
  return onnx.ModelProto.encode(model).finish();
}

export async function benchFloor(provider: string, reps: number): Promise<FloorResult> {
  const smallest = (await compile('(module (func (export "id") (param i32) (result i32) (local.get 0)))', { filename: 'id.wat' })).onnx;
  const floorModel = await TransformerModel.load(smallest, { provider });
  const ident = floorModel.ort;
  const session = await ident.InferenceSession.create(identityModel(), { executionProviders: [provider], intraOpNumThreads: 1, interOpNumThreads: 1 });
  const x = new ident.Tensor('float32', new Float32Array([1]), [1, 1]);
  const runs: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    await session.run({ x });
    if (i > 0) runs.push((performance.now() - t0) * 1000);
  }
  const steps: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    await floorModel.runBatch('id', [[i]], [floorModel.newMemory()]);
    if (i > 0) steps.push((performance.now() - t0) * 1000);
  }
  const nodes = onnx.ModelProto.decode(smallest).graph?.node?.length ?? 0;
  return { identityRunUs: median(runs), smallestModelStepUs: median(steps), smallestModelNodes: nodes };
}

export async function benchSteps(provider: string, quick: boolean, log: (line: string) => void = () => {}): Promise<StepsResult[]> {
  const c = await compile(chainedLoops(1, 'memory'), { filename: 'store_loop.wat' });
  const model = await TransformerModel.load(c.onnx, { provider });
  await model.runBatch('run', [[100]], [model.newMemory()]);
  // steps(n) = a·n + b: two interpreter runs give a and b, so each size hits its target.
  const s1 = interpret(c.ir, 'run', [1]).steps;
  const a = (interpret(c.ir, 'run', [1001]).steps - s1) / 1000;
  const targets = quick ? [1e3, 1e4] : [1e3, 1e4, 1e5, 1e6];
  const out: StepsResult[] = [];
  for (const target of targets) {
    const n = Math.max(1, Math.round((target - s1) / a) + 1);
    const mem = model.newMemory();
    const t0 = performance.now();
    const [o] = await model.runBatch('run', [[n]], [mem], { maxSteps: 10 * target });
    const seconds = (performance.now() - t0) / 1000;
    const want = interpret(c.ir, 'run', [n], { maxSteps: 10 * target });
    const ok = o!.trap === want.trap && o!.steps === want.steps && o!.results.join() === want.results.join();
    out.push({ targetSteps: target, steps: o!.steps, seconds, usPerStep: (seconds * 1e6) / o!.steps, cacheRows: mem.count, ok });
    log(`  ${o!.steps} steps: ${((seconds * 1e6) / o!.steps).toFixed(0)} us/step`);
  }
  return out;
}
