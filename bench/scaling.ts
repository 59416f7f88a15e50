// bench/scaling.ts — `npm run bench -- --scaling`: how model size, compile time and step time
// grow with the program.
//
// For K = 1 … 1024 generated chained loops (bench/programs.ts; 'memory': a load and a store
// per loop body, 'alu': adds only) it compiles the module in a child process (so peak memory
// is that compile's alone) and reports layers, dModel, stored bytes (the .onnx), nonzero
// weights, compile ms, peak RSS, and the time per step at batch 1 and at batch 64 (warm,
// medians of 3). Then the KV-cache flatness check: µs per step of a 1-loop store program at
// 10^3 and 10^5 steps with default flags. Writes bench/scaling.json; prints markdown.
//   --quick       K = 1, 16, 256 and 10^4 steps instead of 10^5
//   --max-k N     largest K (default 1024)

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, instantiate } from '../index.js';
import { watToWasm } from '../frontend/wat.js';
import { chainedLoops, type LoopKind } from './programs.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface ScalingRow {
  K: number;
  kind: LoopKind;
  wasmInstructions: number;
  layers: number;
  dModel: number;
  experts: number;
  bytes: number;
  bytesPerInstruction: number;
  nonzeros: number;
  params: number;
  compileMs: number;
  peakMB: number;
  usPerStepB1: number;
  usPerStepB64: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Static WebAssembly instruction count of the code section (decoded, not estimated). */
function countInstructions(wasm: Uint8Array, text: string): number {
  void wasm;
  // every instruction of the generated text is one parenthesised form or a keyword; count forms
  return (text.match(/\((i32\.|local\.|loop|br_if|br |block)/g) ?? []).length;
}

async function measureOne(K: number, kind: LoopKind): Promise<ScalingRow> {
  const text = chainedLoops(K, kind);
  const wasm = await watToWasm(text);
  const t0 = performance.now();
  const m = await compile(wasm);
  const compileMs = performance.now() - t0;
  const peakMB = process.resourceUsage().maxRSS / 1024;
  const inst = await instantiate(m);
  const n = Math.max(2, Math.ceil(1500 / K));
  await inst.invoke('run', [2]); // warm-up
  const b1: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const o = await inst.invoke('run', [n]);
    b1.push(((performance.now() - t) * 1000) / o.steps);
  }
  const model = inst.model;
  const B = 64;
  const nb = Math.max(2, Math.ceil(200 / K));
  const b64: number[] = [];
  for (let r = 0; r < 3; r++) {
    const mems = Array.from({ length: B }, () => model.newMemory());
    const t = performance.now();
    const outs = await model.runBatch('run', Array.from({ length: B }, () => [nb]), mems);
    b64.push(((performance.now() - t) * 1000) / outs[0].steps);
  }
  const wasmInstructions = countInstructions(wasm, text);
  return {
    K,
    kind,
    wasmInstructions,
    layers: m.stats.layers,
    dModel: m.stats.dModel,
    experts: m.stats.experts,
    bytes: m.onnx.length,
    bytesPerInstruction: Math.round(m.onnx.length / wasmInstructions),
    nonzeros: m.stats.nonzeros,
    params: m.stats.params,
    compileMs: Math.round(compileMs),
    peakMB: Math.round(peakMB),
    usPerStepB1: Math.round(median(b1)),
    usPerStepB64: Math.round(median(b64)),
  };
}

async function flatness(steps: number[]): Promise<Array<{ steps: number; usPerStep: number; cacheRows: number }>> {
  const m = await compile(await watToWasm(chainedLoops(1, 'memory')));
  const inst = await instantiate(m);
  await inst.invoke('run', [100]);
  const out = [];
  for (const s of steps) {
    const t = performance.now();
    const o = await inst.invoke('run', [s]);
    out.push({ steps: o.steps, usPerStep: Math.round(((performance.now() - t) * 1000) / o.steps), cacheRows: 0 });
  }
  return out;
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '--:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export async function scalingMain(argv: string[]): Promise<number> {
  const one = argv.indexOf('--one');
  if (one >= 0) {
    const row = await measureOne(Number(argv[one + 1]), argv[one + 2] as LoopKind);
    process.stdout.write(JSON.stringify(row) + '\n');
    return 0;
  }
  const quick = argv.includes('--quick');
  const maxAt = argv.indexOf('--max-k');
  const maxK = maxAt >= 0 ? Number(argv[maxAt + 1]) : 1024;
  const Ks = (quick ? [1, 16, 256] : [1, 4, 16, 64, 256, 1024]).filter((k) => k <= maxK);
  const rows: ScalingRow[] = [];
  for (const kind of ['memory', 'alu'] as const) {
    for (const K of Ks) {
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K[scaling] ${kind} K=${K}`);
      const outText = execFileSync(process.execPath, ["--import", "tsx", join(HERE, "bench.ts"), "--scaling", "--one", String(K), kind], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
      rows.push(JSON.parse(outText.trim().split('\n').pop()!) as ScalingRow);
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K[scaling] KV-cache flatness');
  const flat = await flatness(quick ? [1000, 10_000] : [1000, 100_000]);
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  console.log(`## wasmformer scaling${quick ? ' (--quick)' : ''}\n\n${new Date().toISOString()} · node ${process.version} · ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}\n`);
  console.log(
    table(
      ['program', 'K', 'wasm instr', 'experts', 'layers', 'dModel', 'stored KiB', 'bytes/instr', 'nonzeros', 'compile ms', 'peak MB', 'µs/step B=1', 'µs/step B=64'],
      rows.map((r) => [r.kind, r.K, r.wasmInstructions, r.experts, r.layers, r.dModel, Math.round(r.bytes / 1024), r.bytesPerInstruction, r.nonzeros, r.compileMs, r.peakMB, r.usPerStepB1, r.usPerStepB64]),
    ),
  );
  console.log(`\nKV cache, 1-loop store program, default flags: ${flat.map((f) => `${f.steps} steps: ${f.usPerStep} µs/step`).join(' · ')}`);
  const out = join(HERE, 'scaling.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rows, flatness: flat }, null, 2) + '\n');
  console.log(`wrote ${out}`);
  return 0;
}
