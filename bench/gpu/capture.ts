// bench/gpu/capture.ts — records CPU reference steps for the cross-provider (GPU) exactness check.
//
// For a few samples it compiles the model, runs a batch of argument tuples on
// ONNX Runtime's CPU provider and records every step's inputs and outputs.
// bench/gpu/check_gpu.py replays the same inputs on another provider (CUDA)
// and requires bit-identical decoded outputs. Usage:
//   npx tsx bench/gpu/capture.ts out/gpu-vectors
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../index.js';
import { TransformerModel, StepRecord } from '../../runtime/transformer.js';
import { loadSamples, sampleWasm } from '../../wasm-samples/samples.js';

const outDir = process.argv[2] ?? 'out/gpu-vectors';
mkdirSync(outDir, { recursive: true });
const index: unknown[] = [];
for (const name of ['copy_loop', 'unaligned', 'countdown', 'fib', 'lookup']) {
  const sample = loadSamples().find((s) => s.name === name)!;
  const m = await compile(sampleWasm(sample), { filename: sample.file });
  writeFileSync(join(outDir, `${name}.onnx`), m.onnx);
  const model = await TransformerModel.load(m.onnx);
  const ex = sample.exports[0];
  const args = ex.cases.slice(0, 6).map((c) => c.args);
  const steps: StepRecord[] = [];
  await model.runBatch(ex.name, args, args.map(() => model.newMemory()), { record: (s) => { if (steps.length < 40) steps.push(s); } });
  const files: unknown[] = [];
  steps.forEach((s, i) => {
    const entry: Record<string, unknown> = {};
    for (const [k, t] of [...Object.entries(s.feeds), ...Object.entries(s.outputs).map(([k, t]) => [`out:${k}`, t] as const)]) {
      const file = `${name}.${i}.${k.replace(/[^a-z.]/gi, '_')}.bin`;
      writeFileSync(join(outDir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      entry[k] = { file, dims: t.dims };
    }
    files.push(entry);
  });
  index.push({ name, model: `${name}.onnx`, steps: files });
  console.log(`${name}: ${steps.length} steps recorded`);
}
writeFileSync(join(outDir, 'index.json'), JSON.stringify(index));
