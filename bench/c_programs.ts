// bench/c_programs.ts — the showcase C programs in the bench: instructions per second against V8.
//
// Per program (wasm-samples/c/showcase, clang -O2): compile ms, layers vs critical path,
// dModel vs maxLive, stored bytes, then for each input (runs retiring at most maxRetired
// instructions): WebAssembly instructions retired (harness/retired.ts: counted natively by an
// instrumented copy of the module, structural block/loop/end/else/nop excluded), steps,
// instructions per step, transformer wall time single-stream (B = 1: the median of B1_REPEATS
// runs after a warm-up run of the same input), and native
// V8 time for the same call. Then batched throughput: B = 64 and 1024 independent invocations
// (the program's inputs retiring at most batchMaxRetired instructions, round-robin, each on its own memory) in one runBatch, on one session
// and split over worker threads (runtime/parallel.ts, --workers, default one per core).

import { compile } from '../index.js';
import { TransformerModel, type PinPolicy } from '../runtime/transformer.js';
import { MIN_ROWS_PER_WORKER, ParallelModel } from '../runtime/parallel.js';
import { IoProgram } from '../harness/io.js';
import { instructionsRetired } from '../harness/retired.js';
import { inputImage, resolveArgs } from '../format/io.js';
import { loadCatalogue, readWasm } from '../wasm-samples/c/c_samples.js';

export interface CProgramRun {
  input: string;
  retired: number;
  steps: number;
  wallMs: number;
  nativeMs: number;
  ok: boolean;
}

export interface CProgramResult {
  program: string;
  compileMs: number;
  layers: number;
  criticalPath: number;
  dModel: number;
  maxLive: number;
  modelBytes: number;
  experts: number;
  runs: CProgramRun[];
  /** workers: 1 = one session on the main thread; more = ParallelModel (runtime/parallel.ts), the batch split over worker threads. */
  batched: Array<{ batch: number; workers: number; retired: number; seconds: number; instrPerSec: number; ok: boolean }>;
  skipped: Array<{ input: string; retired: number }>;
}

/** Single-stream runs of each input: the table shows their median (after one warm-up run). */
const B1_REPEATS = 5;

async function nativeMedianMs(prog: IoProgram, input: string): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < 23; i++) {
    const o = await prog.run({ invoke: 'compute', args: ['@input'], input });
    if (i >= 3) t.push(o.callMs);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

async function runInputs(model: TransformerModel | ParallelModel, inputs: string[]): Promise<{ outputs: string[]; steps: number[]; ms: number }> {
  const at = model.inputAddress()!;
  const mems = inputs.map((input) => {
    const m = model.newMemory();
    m.write(model.layout.memory!, at, inputImage(input));
    return m;
  });
  const t0 = performance.now();
  const outs = await model.runBatch('compute', inputs.map(() => resolveArgs(['@input'], at, 'compute')), mems);
  const ms = performance.now() - t0;
  return { outputs: outs.map((o) => new TextDecoder().decode(o.output)), steps: outs.map((o) => o.steps), ms };
}

export async function benchCPrograms(opts: { maxRetired: number; batchMaxRetired?: number; batches: number[]; batchSecondsCap: number; workers: number; provider?: string; earlyExit?: boolean; pin?: PinPolicy; onProgress?: (s: string) => void }): Promise<CProgramResult[]> {
  const results: CProgramResult[] = [];
  for (const p of loadCatalogue().showcase) {
    opts.onProgress?.(`C ${p.name}: compiling`);
    const wasm = readWasm(p.source, 'O2');
    const m = await compile(wasm, { filename: `${p.name}.O2.wasm` });
    const model = await TransformerModel.load(m.onnx, { provider: opts.provider, pin: opts.pin, ...(opts.earlyExit !== undefined ? { earlyExit: opts.earlyExit } : {}) });
    const prog = await IoProgram.compile(wasm);
    const r: CProgramResult = {
      program: p.name, compileMs: m.stats.compileMs, layers: m.stats.layers, criticalPath: m.stats.criticalPath, dModel: m.stats.dModel,
      maxLive: m.stats.maxLive, modelBytes: m.onnx.length, experts: m.stats.experts, runs: [], batched: [], skipped: [],
    };
    const kept: Array<{ input: string; expected: string; retired: number }> = [];
    for (const run of p.runs) {
      const retired = await instructionsRetired(wasm, { invoke: 'compute', args: ['@input'], input: run.input });
      if (retired > opts.maxRetired) r.skipped.push({ input: run.input, retired });
      else kept.push({ input: run.input, expected: run.output ?? '', retired });
    }
    for (const k of kept) {
      opts.onProgress?.(`C ${p.name}: ${JSON.stringify(k.input.slice(0, 20))}`);
      await runInputs(model, [k.input]); // warm-up (this input's exits' sessions are made on first use)
      const runs: Array<Awaited<ReturnType<typeof runInputs>>> = [];
      for (let i = 0; i < B1_REPEATS; i++) runs.push(await runInputs(model, [k.input]));
      const ms = runs.map((o) => o.ms).sort((a, b) => a - b)[Math.floor(B1_REPEATS / 2)];
      r.runs.push({ input: k.input, retired: k.retired, steps: runs[0].steps[0], wallMs: ms, nativeMs: await nativeMedianMs(prog, k.input), ok: runs.every((o) => o.outputs[0] === k.expected) });
    }
    const parallel = opts.workers > 1 ? await ParallelModel.load(m.onnx, { provider: opts.provider, workers: opts.workers, pin: opts.pin, ...(opts.earlyExit !== undefined ? { earlyExit: opts.earlyExit } : {}) }) : null;
    // warm-up of every worker (its sessions, one per exit the run reaches, are made on first use)
    const warm = kept.filter((k) => k.retired <= (opts.batchMaxRetired ?? opts.maxRetired));
    if (parallel && warm.length) await runInputs(parallel, Array.from({ length: parallel.workerCount * MIN_ROWS_PER_WORKER }, (_, i) => warm[i % warm.length].input));
    // batches take the inputs retiring at most batchMaxRetired instructions (B = 1024 of the long
    // ones would take many minutes)
    const short = kept.filter((k) => k.retired <= (opts.batchMaxRetired ?? opts.maxRetired));
    for (const B of opts.batches) {
      if (short.length === 0) break;
      const last = r.batched.filter((b) => b.workers === 1).pop();
      if (last && last.seconds * (B / last.batch) > opts.batchSecondsCap) break; // would take too long
      const inputs = Array.from({ length: B }, (_, i) => short[i % short.length]);
      const retired = inputs.reduce((s, k) => s + k.retired, 0);
      for (const runner of parallel ? [model, parallel] : [model]) {
        const workers = runner instanceof ParallelModel ? runner.workerCount : 1;
        opts.onProgress?.(`C ${p.name}: batch ${B}${workers > 1 ? ` on ${workers} workers` : ''}`);
        const o = await runInputs(runner, inputs.map((k) => k.input));
        r.batched.push({ batch: B, workers, retired, seconds: o.ms / 1000, instrPerSec: retired / (o.ms / 1000), ok: o.outputs.every((x, i) => x === inputs[i].expected) });
      }
    }
    await parallel?.close();
    results.push(r);
  }
  return results;
}
