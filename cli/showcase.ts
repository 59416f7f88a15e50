// cli/showcase.ts — the showcase C programs (wasm-samples/c/showcase) compiled and run with input.
//
// Each program exports `void compute(const char *input)` and prints through env.output_byte.
// A run writes the input at __heap_base, calls compute(@input) on the transformer, and
// compares the printed bytes with native V8 and with the output recorded in expected.json.
// Used by `npm run demo` (which prints the outputs) and `npm run bench`.

import { compile } from '../index.js';
import { TransformerModel } from '../runtime/transformer.js';
import { IoProgram } from '../harness/io.js';
import { instructionsRetired } from '../harness/retired.js';
import { inputImage, resolveArgs } from '../format/io.js';
import { loadCatalogue, readWasm, type OptLevel } from '../wasm-samples/c/c_samples.js';
import type { CompileStats } from '../format/layout.js';

export interface ShowcaseResult {
  program: string;
  opt: OptLevel;
  input: string;
  expected: string;
  /** What the transformer printed (or the error that stopped it). */
  output: string;
  native: string;
  ok: boolean;
  error: string | null;
  retired: number;
  /** Skipped: it retires more than maxRetired instructions (too long for this run). */
  skipped: boolean;
  steps: number;
  /** Transformer wall time of the call (ms), model loaded and warm. */
  wallMs: number;
  /** Native V8 time of the call (ms), median of warm runs. */
  nativeMs: number;
  stats: CompileStats | null;
  modelBytes: number;
}

export interface ShowcaseOptions {
  levels?: OptLevel[];
  /** Program names to run (default: all). */
  only?: string[];
  /** Called before each compile and run, for a progress line. */
  onProgress?: (what: string) => void;
  nativeRuns?: number;
  /** Runs retiring more WebAssembly instructions than this are skipped (reported, not run). */
  maxRetired?: number;
}

async function nativeMs(prog: IoProgram, input: string, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const o = await prog.run({ invoke: 'compute', args: ['@input'], input });
    if (i >= 3) times.push(o.callMs);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function runShowcase(opts: ShowcaseOptions = {}): Promise<ShowcaseResult[]> {
  const cat = loadCatalogue();
  const out: ShowcaseResult[] = [];
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  for (const p of cat.showcase) {
    if (opts.only && !opts.only.includes(p.name)) continue;
    for (const opt of opts.levels ?? ['O2']) {
      const wasm = readWasm(p.source, opt);
      opts.onProgress?.(`compiling ${p.name} (${opt})`);
      let model: TransformerModel | null = null;
      let stats: CompileStats | null = null;
      let modelBytes = 0;
      let error: string | null = null;
      try {
        const m = await compile(wasm, { filename: `${p.name}.${opt}.wasm` });
        stats = m.stats;
        modelBytes = m.onnx.length;
        model = await TransformerModel.load(m.onnx);
      } catch (e) {
        error = (e as Error).message;
      }
      const prog = await IoProgram.compile(wasm);
      for (const r of p.runs) {
        opts.onProgress?.(`running ${p.name} (${opt}) on ${JSON.stringify(r.input.slice(0, 24))}`);
        const native = await prog.run({ invoke: 'compute', args: ['@input'], input: r.input });
        const res: ShowcaseResult = {
          program: p.name, opt, input: r.input, expected: r.output ?? '', output: '', native: native.text, ok: false, error,
          retired: await instructionsRetired(wasm, { invoke: 'compute', args: ['@input'], input: r.input }),
          skipped: false, steps: 0, wallMs: 0, nativeMs: await nativeMs(prog, r.input, opts.nativeRuns ?? 20), stats, modelBytes,
        };
        if (opts.maxRetired !== undefined && res.retired > opts.maxRetired) {
          res.skipped = true;
          out.push(res);
          continue;
        }
        if (model) {
          try {
            const mem = model.newMemory();
            const at = model.inputAddress();
            mem.write(model.layout.memory!, at!, inputImage(r.input));
            const t0 = performance.now();
            const [o] = await model.runBatch('compute', [resolveArgs(['@input'], at, 'compute')], [mem]);
            res.wallMs = performance.now() - t0;
            res.steps = o.steps;
            res.output = decode(o.output);
            if (o.trap) res.error = `trap: ${o.trap}`;
          } catch (e) {
            res.error = (e as Error).message;
          }
        }
        res.ok = res.error === null && res.output === res.native && res.native === res.expected;
        out.push(res);
      }
    }
  }
  return out;
}
