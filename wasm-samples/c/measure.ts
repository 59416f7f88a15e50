// wasm-samples/c/measure.ts — measures the showcase programs (and summarises the C samples)
// natively, for the compiler team: per module, static instruction / function / straight-line
// segment counts and the static opcode histogram; per showcase run, WebAssembly instructions
// executed (exact, from a counting-instrumented copy, harness/wasm_count.ts) with the dynamic
// opcode histogram, and the native V8 time of the call (median over fresh instances, warm-up
// excluded). Writes wasm-samples/c/measurements.json and prints a table.
// Run: npx tsx wasm-samples/c/measure.ts [--runs N]

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { IoProgram } from '../../harness/io.js';
import { functionNames, instrumentCounting, sortedHistogram, staticStats, type StaticStats } from '../../harness/wasm_count.js';
import { C_DIR, OPT_LEVELS, loadCatalogue, readWasm, type OptLevel } from './c_samples.js';

/** Instructions that only delimit structure (they compute nothing). */
const STRUCTURAL = new Set(['block', 'loop', 'end', 'else', 'nop']);

interface RunMeasure {
  input: string;
  outputBytes: number;
  executed: number; // every instruction executed (see wasm_count.ts for loop/end)
  executedNonStructural: number; // without block/loop/end/else/nop
  outputCalls: number; // calls to env.output_byte
  nativeMedianUs: number;
  nativeMinUs: number;
  dynamic: Record<string, number>;
  /** Instructions executed per function (by name), hottest first. */
  perFunction: Record<string, number>;
}

interface ModuleMeasure {
  program: string;
  opt: OptLevel;
  bytes: number;
  static: StaticStats;
  runs: RunMeasure[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function dynamicCounts(
  wasm: Uint8Array,
  input: string,
  perFunction = false,
): Promise<{ hist: Record<string, number>; outputBytes: number }> {
  const { wasm: counted, counters } = instrumentCounting(wasm, { perFunction });
  const names = functionNames(wasm);
  let outputBytes = 0;
  const mod = await WebAssembly.compile(new Uint8Array(counted));
  const inst = await WebAssembly.instantiate(mod, { env: { output_byte: () => void outputBytes++ } });
  const memory = inst.exports.memory as WebAssembly.Memory;
  const at = (inst.exports.__heap_base as WebAssembly.Global).value as number;
  const bytes = new TextEncoder().encode(input);
  new Uint8Array(memory.buffer).set([...bytes, 0], at);
  (inst.exports.compute as (p: number) => void)(at);
  const hist: Record<string, number> = {};
  for (const [name, exp] of Object.entries(counters)) {
    const v = (inst.exports[exp] as WebAssembly.Global).value as number;
    const label = perFunction ? (names.get(Number(/\d+/.exec(name)![0])) ?? name) : name;
    if (v > 0) hist[label] = v;
  }
  return { hist: sortedHistogram(hist), outputBytes };
}

async function nativeTimes(wasm: Uint8Array, input: string, runs: number): Promise<number[]> {
  const prog = await IoProgram.compile(wasm);
  const warmup = Math.max(5, Math.floor(runs / 5));
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const o = await prog.run({ invoke: 'compute', args: ['@input'], input });
    if (i >= warmup) times.push(o.callMs * 1000);
  }
  return times;
}

function sum(h: Record<string, number>, keep: (k: string) => boolean): number {
  return Object.entries(h).reduce((n, [k, v]) => (keep(k) ? n + v : n), 0);
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;
  const cat = loadCatalogue();
  const showcase: ModuleMeasure[] = [];
  for (const p of cat.showcase) {
    for (const opt of OPT_LEVELS) {
      const wasm = readWasm(p.source, opt);
      const m: ModuleMeasure = { program: p.name, opt, bytes: wasm.length, static: staticStats(wasm), runs: [] };
      for (const r of p.runs) {
        const { hist, outputBytes } = await dynamicCounts(wasm, r.input);
        if (outputBytes !== new TextEncoder().encode(r.output!).length) throw new Error(`${p.name}: instrumented output differs`);
        const perFunction = (await dynamicCounts(wasm, r.input, true)).hist;
        const times = await nativeTimes(wasm, r.input, runs);
        m.runs.push({
          input: r.input,
          outputBytes,
          executed: sum(hist, () => true),
          executedNonStructural: sum(hist, (k) => !STRUCTURAL.has(k)),
          outputCalls: outputBytes,
          nativeMedianUs: Math.round(median(times) * 10) / 10,
          nativeMinUs: Math.round(Math.min(...times) * 10) / 10,
          dynamic: hist,
          perFunction,
        });
      }
      showcase.push(m);
    }
  }
  const samples = cat.samples.flatMap((s) =>
    OPT_LEVELS.map((opt) => {
      const wasm = readWasm(s.source, opt);
      const st = staticStats(wasm);
      return { sample: s.name, opt, bytes: wasm.length, functions: st.functions, instructions: st.instructions, segments: st.segments, histogram: st.histogram };
    }),
  );
  const union: Record<string, number> = {};
  for (const m of [...showcase.map((x) => x.static.histogram), ...samples.map((x) => x.histogram)]) {
    for (const [k, v] of Object.entries(m)) union[k] = (union[k] ?? 0) + v;
  }
  const machine = `${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, node ${process.version}`;
  const report = { machine, nativeRunsPerCase: runs, opcodesUsed: sortedHistogram(union), showcase, samples };
  writeFileSync(join(C_DIR, 'measurements.json'), `${JSON.stringify(report, null, 1)}\n`);

  console.log(`machine: ${machine}; native time = median of ${runs} calls on fresh instances, after warm-up`);
  console.log('program    opt  bytes  static  funcs  segs | input               executed  non-struct  out  native us');
  for (const m of showcase) {
    for (const r of m.runs) {
      const label = r.input.length > 18 ? `${r.input.slice(0, 15)}...` : r.input;
      console.log(
        `${m.program.padEnd(10)} ${m.opt}  ${String(m.bytes).padStart(5)}  ${String(m.static.instructions).padStart(6)}  ${String(m.static.functions).padStart(5)}  ${String(m.static.segments).padStart(4)} | ` +
          `${JSON.stringify(label).padEnd(20)} ${String(r.executed).padStart(8)}  ${String(r.executedNonStructural).padStart(10)}  ${String(r.outputBytes).padStart(3)}  ${r.nativeMedianUs.toFixed(1).padStart(9)}`,
      );
    }
  }
  console.log(`opcodes used by all C modules (static count): ${Object.entries(report.opcodesUsed).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
