// bench/bench.ts — `npm run bench [-- --quick] [--out FILE] [--provider P] [--no-early-exit] [--workers N]`: compile and execution speed.
// --no-early-exit runs every step on the whole graph (the before of the early-exit lever, DESIGN.md §8).
//
// Per sample (wasm-samples/samples.json): compile time (median of 5), model
// size and shape, then execution throughput of the transformer on ONNX Runtime
// (CPU) for (a) batch 1: one argument tuple per session.run sequence, each on
// a fresh memory, and (b) batch 64: one runBatch of 64 tuples per export; and
// V8 running the same calls natively. Throughput is reported in steps/s (one
// step = one executed basic block = one forward pass per batch row) and in
// WASM instructions/s, where "instructions" is approximated by counting, per
// executed block of the frontend's IR (not the merged steps), its IR instructions plus its terminator (counted by a
// walk of the IR that is cross-checked against the IR interpreter). Then a
// long-trace check: loop samples run for as many steps as fit in a time
// budget. Then the showcase C programs (bench/c_programs.ts), the floor and the time per step
// of 10^3..10^6-step runs (bench/steps.ts). --provider selects ONNX Runtime's execution provider
// (default cpu). Prints markdown tables and writes bench/results.json. See bench/README.md.

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { compile, type CompiledModel } from '../index.js';
import { interpret, findFunc } from '../ir/interp.js';
import { compileToIR } from '../frontend/index.js';
import { initialMemory, type Block, type Module } from '../ir/ir.js';
import { prng } from '../harness/check.js';
import { TransformerModel, type Outcome, type PinPolicy } from '../runtime/transformer.js';
import { scalingMain } from './scaling.js';
import { benchCPrograms, type CProgramResult } from './c_programs.js';
import { benchFloor, benchSteps } from './steps.js';
import { checkProvider } from '../cli/providers.js';
import { defaultWorkers } from '../runtime/parallel.js';
import { loadSamples, sampleWasm, type ArgRange, type Sample } from '../wasm-samples/samples.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Config {
  quick: boolean;
  compileReps: number;
  seqTuples: number; // tuples per export for batch 1
  batch: number; // tuples per export for the batched run
  nativeMinMs: number;
  longTraceSeconds: number;
  out: string;
  provider: string;
  earlyExit: boolean;
  /** Pinned sessions (runtime/core.ts LoadOptions.pin; --pin, default auto). */
  pin: PinPolicy;
  /** Worker threads the C programs' batches are also split over (runtime/parallel.ts; 1: not split). */
  workers: number;
}

function parseConfig(argv: string[]): Config {
  const quick = argv.includes('--quick');
  const outAt = argv.indexOf('--out');
  const provAt = argv.indexOf('--provider');
  const workAt = argv.indexOf('--workers');
  const pinAt = argv.indexOf('--pin');
  const valueAt = (i: number) => [outAt, provAt, workAt, pinAt].some((k) => k >= 0 && i === k + 1);
  const unknown = argv.filter((a, i) => !['--quick', '--out', '--provider', '--no-early-exit', '--workers', '--pin'].includes(a) && !valueAt(i));
  const missing = [outAt, provAt, workAt, pinAt].some((k) => k >= 0 && argv[k + 1] === undefined);
  const workers = workAt >= 0 ? Number(argv[workAt + 1]) : defaultWorkers();
  const badWorkers = !(Number.isInteger(workers) && workers >= 1 && workers <= 64);
  const pin = (pinAt >= 0 ? argv[pinAt + 1] : 'auto') as PinPolicy;
  const badPin = !['auto', 'always', 'never'].includes(pin);
  if (unknown.length || missing || badWorkers || badPin) {
    const why = unknown.length ? `unknown argument(s): ${unknown.join(' ')}` : missing ? 'a flag is missing its value' : badPin ? `--pin takes auto, always or never, not ${pin}` : `--workers takes an integer from 1 to 64, not ${argv[workAt + 1]}`;
    process.stderr.write(`usage: tsx bench/bench.ts [--quick] [--out FILE] [--provider cpu|cuda|...] [--no-early-exit] [--pin auto|always|never] [--workers N (default: one per core)]\n${why}\n`);
    process.exit(2);
  }
  const provider = provAt >= 0 ? argv[provAt + 1]! : 'cpu';
  try {
    checkProvider(provider);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  return {
    quick,
    compileReps: 5,
    seqTuples: quick ? 8 : 64,
    batch: 64,
    nativeMinMs: quick ? 20 : 100,
    longTraceSeconds: quick ? 2 : 10,
    out: outAt >= 0 ? argv[outAt + 1]! : join(HERE, 'results.json'),
    provider,
    earlyExit: !argv.includes('--no-early-exit'),
    pin,
    workers,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function argsFor(ranges: ArgRange[], rand: () => number): number[] {
  return ranges.map((r) => {
    if (r === 'any') return rand() % 8 === 0 ? [0, 1, -1, -2147483648, 2147483647][rand() % 5]! : rand() | 0;
    return r[0] + (rand() % (r[1] - r[0] + 1));
  });
}

// ---------------------------------------------------------------------------
// Instruction counting: a walk of the IR with the interpreter's semantics that
// also counts, per executed block, its instructions + 1 for the terminator.

interface Counted {
  results: number[];
  trap: string | null;
  steps: number;
  instructions: number;
}

function countRun(ir: Module, name: string, args: number[], maxSteps: number): Counted {
  const f = findFunc(ir, name);
  const memory = initialMemory(ir);
  const mem = new DataView(memory.buffer);
  const vals = new Map<number, number>();
  const ea = (addr: number, off: number) => {
    const e = (addr >>> 0) + off;
    return e + 4 > mem.byteLength ? -1 : e;
  };
  let block = f.blocks[0] as Block;
  block.params.forEach((p, k) => vals.set(p, args[k]! | 0));
  let instructions = 0;
  const enter = (t: { block: number; args: number[] }) => {
    const b = f.blocks[t.block] as Block;
    const v = t.args.map((a) => vals.get(a)!);
    b.params.forEach((p, k) => vals.set(p, v[k]!));
    return b;
  };
  for (let steps = 1; steps <= maxSteps; steps++) {
    for (const i of block.insts) {
      instructions++;
      if (i.op === 'iconst') vals.set(i.dst, i.value | 0);
      else if (i.op === 'binary' && i.code === 'add') vals.set(i.dst, (vals.get(i.a)! + vals.get(i.b)!) | 0);
      else if (i.op === 'load' || i.op === 'store') {
        if (i.bytes !== 4) throw new Error(`bench: ${i.bytes}-byte accesses are not counted yet`);
        const e = ea(vals.get(i.addr)!, i.offset);
        if (e < 0) return { results: [], trap: 'out of bounds memory access', steps, instructions };
        if (i.op === 'load') vals.set(i.dst, mem.getInt32(e, true));
        else mem.setInt32(e, vals.get(i.value)!, true);
      } else throw new Error(`bench: instruction ${i.op} is not counted yet`);
    }
    instructions++;
    const t = block.term;
    if (t.op === 'return') return { results: t.values.map((v) => vals.get(v)!), trap: null, steps, instructions };
    if (t.op !== 'jump' && t.op !== 'br_if') throw new Error(`bench: terminator ${t.op} is not counted yet`);
    block = enter(t.op === 'jump' ? t.target : vals.get(t.cond) !== 0 ? t.then : t.else);
  }
  throw new Error(`${name}(${args.join(', ')}): more than ${maxSteps} steps`);
}

/**
 * countRun on the frontend's IR (the program's own blocks: merged steps would count the
 * instructions a step runs speculatively), cross-checked against the IR interpreter on both
 * that IR and the model's module, whose steps it reports (the transformer's).
 */
function countChecked(source: Module, ir: Module, name: string, args: number[], maxSteps: number): Counted {
  const c = countRun(source, name, args, maxSteps);
  const s = interpret(source, name, args, { maxSteps });
  const r = interpret(ir, name, args, { maxSteps });
  if (s.steps !== c.steps || s.trap !== c.trap || s.results.join() !== c.results.join() || r.trap !== c.trap || r.results.join() !== c.results.join()) {
    throw new Error(`instruction counter disagrees with the IR interpreter on ${name}(${args.join(', ')})`);
  }
  return { ...c, steps: r.steps };
}

const same = (o: Outcome, c: Counted) => o.trap === c.trap && o.steps === c.steps && o.results.join() === c.results.join();

// ---------------------------------------------------------------------------

interface SampleResult {
  sample: string;
  exports: number;
  compileMsMedian: number;
  compileMsAll: number[];
  onnxBytes: number;
  loadMs: number;
  layers: number;
  criticalPath: number;
  dModel: number;
  maxLive: number;
  heads: number;
  params: number;
  batch1: { calls: number; steps: number; instructions: number; seconds: number; stepsPerSec: number; instrPerSec: number };
  batch64: { calls: number; steps: number; forwardPasses: number; instructions: number; seconds: number; stepsPerSec: number; passesPerSec: number; instrPerSec: number };
  native: { calls: number; instructions: number; seconds: number; callsPerSec: number; instrPerSec: number };
  mismatches: string[];
}

interface LongTrace {
  sample: string;
  export: string;
  args: number[];
  steps: number;
  seconds: number;
  stepsPerSec: number;
  cacheRows: number;
  result: string;
  ok: boolean;
}

type NativeFn = (...a: number[]) => unknown;

async function nativeThroughput(wasm: Uint8Array, calls: Array<{ name: string; args: number[] }>, minMs: number): Promise<{ reps: number; seconds: number }> {
  const mod = await WebAssembly.compile(new Uint8Array(wasm));
  // one instance per call, created outside the timed region; repetitions reuse them
  const fns: NativeFn[] = [];
  for (const c of calls) fns.push((await WebAssembly.instantiate(mod, {})).exports[c.name] as NativeFn);
  let reps = 0;
  let ms = 0;
  while (ms < minMs && reps < 100_000) {
    const t0 = performance.now();
    for (let i = 0; i < calls.length; i++) {
      try {
        fns[i]!(...calls[i]!.args);
      } catch (e) {
        if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      }
    }
    ms += performance.now() - t0;
    reps++;
  }
  return { reps, seconds: ms / 1000 };
}

async function benchSample(sample: Sample, cfg: Config): Promise<SampleResult> {
  const wasm = sampleWasm(sample);
  const times: number[] = [];
  let m: CompiledModel | null = null;
  for (let i = 0; i < cfg.compileReps; i++) {
    const t0 = performance.now();
    m = await compile(wasm, { filename: sample.file });
    times.push(performance.now() - t0);
  }
  const c = m!;
  const t0 = performance.now();
  const model = await TransformerModel.load(c.onnx, { provider: cfg.provider, earlyExit: cfg.earlyExit, pin: cfg.pin });
  const loadMs = performance.now() - t0;
  const rand = prng(2024);
  const { ir: source } = await compileToIR(wasm, { filename: sample.file });
  const mismatches: string[] = [];
  const plan = sample.exports.map((ex) => {
    const tuples = Array.from({ length: cfg.batch }, () => argsFor(ex.argRanges, rand));
    const counts = tuples.map((a) => countChecked(source, c.ir, ex.name, a, 1_000_000));
    return { name: ex.name, tuples, counts };
  });
  // warm-up (JIT, ONNX Runtime's first runs and allocations): two calls and a small batch per export
  for (const p of plan) {
    for (const t of p.tuples.slice(0, 2)) await model.runBatch(p.name, [t], [model.newMemory()]);
    await model.runBatch(p.name, p.tuples.slice(0, 16), p.tuples.slice(0, 16).map(() => model.newMemory()));
  }

  // (a) batch 1, sequential
  const b1 = { calls: 0, steps: 0, instructions: 0, seconds: 0, stepsPerSec: 0, instrPerSec: 0 };
  for (const p of plan) {
    for (let i = 0; i < Math.min(cfg.seqTuples, p.tuples.length); i++) {
      const mem = model.newMemory();
      const s = performance.now();
      const [o] = await model.runBatch(p.name, [p.tuples[i]!], [mem]);
      b1.seconds += (performance.now() - s) / 1000;
      b1.calls++;
      b1.steps += o!.steps;
      b1.instructions += p.counts[i]!.instructions;
      if (!same(o!, p.counts[i]!)) mismatches.push(`batch 1: ${p.name}(${p.tuples[i]!.join(', ')})`);
    }
  }
  b1.stepsPerSec = b1.steps / b1.seconds;
  b1.instrPerSec = b1.instructions / b1.seconds;

  // (b) batch of 64 tuples per export
  const b64 = { calls: 0, steps: 0, forwardPasses: 0, instructions: 0, seconds: 0, stepsPerSec: 0, passesPerSec: 0, instrPerSec: 0 };
  for (const p of plan) {
    const mems = p.tuples.map(() => model.newMemory());
    const s = performance.now();
    const outs = await model.runBatch(p.name, p.tuples, mems);
    b64.seconds += (performance.now() - s) / 1000;
    b64.calls += outs.length;
    b64.forwardPasses += Math.max(...outs.map((o) => o.steps));
    outs.forEach((o, i) => {
      b64.steps += o.steps;
      b64.instructions += p.counts[i]!.instructions;
      if (!same(o, p.counts[i]!)) mismatches.push(`batch ${cfg.batch}: ${p.name}(${p.tuples[i]!.join(', ')})`);
    });
  }
  b64.stepsPerSec = b64.steps / b64.seconds;
  b64.passesPerSec = b64.forwardPasses / b64.seconds;
  b64.instrPerSec = b64.instructions / b64.seconds;

  // native V8, same calls as (b)
  const calls = plan.flatMap((p) => p.tuples.map((args) => ({ name: p.name, args })));
  const instrPerRep = plan.reduce((s, p) => s + p.counts.reduce((t, x) => t + x.instructions, 0), 0);
  const nt = await nativeThroughput(wasm, calls, cfg.nativeMinMs);
  const native = {
    calls: calls.length * nt.reps,
    instructions: instrPerRep * nt.reps,
    seconds: nt.seconds,
    callsPerSec: (calls.length * nt.reps) / nt.seconds,
    instrPerSec: (instrPerRep * nt.reps) / nt.seconds,
  };
  const s = c.stats;
  return {
    sample: sample.name,
    exports: sample.exports.length,
    compileMsMedian: median(times),
    compileMsAll: times,
    onnxBytes: c.onnx.length,
    loadMs,
    layers: s.layers,
    criticalPath: s.criticalPath,
    dModel: s.dModel,
    maxLive: s.maxLive,
    heads: s.heads,
    params: s.params,
    batch1: b1,
    batch64: b64,
    native,
    mismatches,
  };
}

/** Runs `name(arg)` with the largest arg whose trace fits the time budget (estimated from a short run). */
async function longTrace(cfg: Config, samples: Sample[], sampleName: string, name: string, seconds: number, maxArg: number, evict = false): Promise<LongTrace> {
  const sample = samples.find((s) => s.name === sampleName);
  if (!sample) throw new Error(`no sample ${sampleName}`);
  // without eviction the cache keeps every write: that needs two-stage ('timed') lookups
  const c = await compile(sampleWasm(sample), { filename: sample.file, lookup: evict ? 'unique' : 'timed' });
  const model = await TransformerModel.load(c.onnx, { provider: cfg.provider, earlyExit: cfg.earlyExit, pin: cfg.pin });
  // Probe with growing n until a run takes 1/4 of the budget, then extrapolate with the
  // growth exponent seen between the last two probes (1 for a constant cost per step,
  // up to 2 when the KV cache grows by a row per step).
  const timeOf = async (n: number) => {
    const t0 = performance.now();
    await model.runBatch(name, [[n]], [model.newMemory({ evict })], { maxSteps: 100_000_000 });
    return (performance.now() - t0) / 1000;
  };
  let prev: [number, number] | null = null;
  let cur: [number, number] = [Math.min(maxArg, 100), await timeOf(Math.min(maxArg, 100))];
  while (cur[1] < seconds / 4 && cur[0] < maxArg) {
    const n = Math.min(maxArg, Math.ceil(cur[0] * Math.min(16, Math.max(2, Math.sqrt(seconds / 4 / Math.max(cur[1], 1e-4))))));
    prev = cur;
    cur = [n, await timeOf(n)];
  }
  let k = prev ? Math.log(cur[1] / prev[1]) / Math.log(cur[0] / prev[0]) : 1;
  k = Math.min(2, Math.max(1, Number.isFinite(k) ? k : 1));
  const arg = Math.max(1, Math.min(maxArg, Math.floor(cur[0] * (seconds / cur[1]) ** (1 / k))));
  const mem = model.newMemory({ evict });
  const t0 = performance.now();
  const [o] = await model.runBatch(name, [[arg]], [mem], { maxSteps: 100_000_000 });
  const secs = (performance.now() - t0) / 1000;
  const expect = interpret(c.ir, name, [arg], { maxSteps: 100_000_000 });
  const ok = o!.trap === expect.trap && o!.steps === expect.steps && o!.results.join() === expect.results.join();
  return {
    sample: sampleName,
    export: evict ? `${name} --evict` : c.layout.memory ? `${name} --lookup timed --no-evict` : name,
    args: [arg],
    steps: o!.steps,
    seconds: secs,
    stepsPerSec: o!.steps / secs,
    cacheRows: mem.count,
    result: o!.trap ? `trap: ${o!.trap}` : o!.results.join(', '),
    ok,
  };
}

// ---------------------------------------------------------------------------
// Formatting

function si(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const units: Array<[number, string]> = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [v, u] of units) if (Math.abs(x) >= v) return `${(x / v).toFixed(x / v >= 100 ? 0 : x / v >= 10 ? 1 : 2)}${u}`;
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function markdown(head: string[], rows: string[][], right: (i: number) => boolean): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => (right(i) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ')} |`;
  const sep = `|${w.map((x, i) => (right(i) ? `${'-'.repeat(x + 1)}:` : `${'-'.repeat(x + 2)}`)).join('|')}|`;
  return [fmt(head), sep, ...rows.map(fmt)].join('\n');
}

async function main(): Promise<number> {
  if (process.argv.includes('--scaling')) return scalingMain(process.argv.slice(2).filter((a) => a !== '--scaling'));
  const cfg = parseConfig(process.argv.slice(2));
  const started = performance.now();
  const samples = loadSamples();
  const results: SampleResult[] = [];
  for (const [i, s] of samples.entries()) {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K[${i + 1}/${samples.length}] ${s.name}`);
    results.push(await benchSample(s, cfg));
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K[long traces]');
  const long: LongTrace[] = [
    await longTrace(cfg, samples, 'sum_to_n', 'sum_to_n', cfg.longTraceSeconds, 2_000_000_000),
    // stores one word per step, without eviction (the KV cache grows by a row per step: compiled with
    // --lookup timed, DESIGN.md §5); 4n must stay inside the 64 KiB memory
    await longTrace(cfg, samples, 'countdown', 'countdown', cfg.longTraceSeconds, 16_383),
    // the same with superseded cache rows evicted: one row per address, same results
    await longTrace(cfg, samples, 'countdown', 'countdown', cfg.longTraceSeconds, 16_383, true),
  ];
  const cprograms: CProgramResult[] = await benchCPrograms({
    maxRetired: cfg.quick ? 5_000 : 70_000,
    batchMaxRetired: cfg.quick ? 5_000 : 25_000,
    batches: cfg.quick ? [64] : [64, 1024],
    batchSecondsCap: cfg.quick ? 20 : 120,
    workers: cfg.workers,
    provider: cfg.provider,
    earlyExit: cfg.earlyExit,
    pin: cfg.pin,
    onProgress: (t) => process.stderr.isTTY && process.stderr.write(`\r\x1b[K[${t}]`),
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K[floor and long runs]');
  const floor = await benchFloor(cfg.provider, cfg.quick ? 50 : 200);
  const stepRuns = await benchSteps(cfg.provider, cfg.quick);
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    onnxruntime: ortVersion,
    provider: cfg.provider,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    quick: cfg.quick,
    earlyExit: cfg.earlyExit,
    pin: cfg.pin,
    workers: cfg.workers,
    batch: cfg.batch,
    batch1TuplesPerExport: cfg.seqTuples,
  };
  const head = ['sample', 'compile ms', 'model KiB', 'layers (crit)', 'dModel (maxLive)', 'heads', 'params', 'steps/call', 'B=1 steps/s', 'B=1 instr/s', `B=${cfg.batch} steps/s`, `B=${cfg.batch} instr/s`, 'V8 instr/s', 'V8 / B=64'];
  const rows = results.map((r) => [
    r.sample,
    r.compileMsMedian.toFixed(0),
    (r.onnxBytes / 1024).toFixed(0),
    `${r.layers} (${r.criticalPath})`,
    `${r.dModel} (${r.maxLive})`,
    String(r.heads),
    si(r.params),
    (r.batch64.steps / r.batch64.calls).toFixed(1),
    si(r.batch1.stepsPerSec),
    si(r.batch1.instrPerSec),
    si(r.batch64.stepsPerSec),
    si(r.batch64.instrPerSec),
    si(r.native.instrPerSec),
    `${si(r.native.instrPerSec / r.batch64.instrPerSec)}×`,
  ]);
  const longHead = ['program', 'steps', 'seconds', 'steps/s', 'KV-cache rows at end', 'result', 'matches IR'];
  const longRows = long.map((l) => [`${l.export.split(' ')[0]}(${l.args.join(', ')})${l.export.includes(' ') ? l.export.slice(l.export.indexOf(' ')) : ''}`, String(l.steps), l.seconds.toFixed(1), si(l.stepsPerSec), String(l.cacheRows), l.result, l.ok ? '✓' : '✗']);
  console.log(`## wasmformer bench${cfg.quick ? ' (--quick)' : ''}\n`);
  console.log(`${env.date} · node ${env.node} · onnxruntime-node ${env.onnxruntime} (${cfg.provider}${cfg.earlyExit ? '' : ', no early exit'}${cfg.pin === 'auto' ? '' : `, pin ${cfg.pin}`}) · ${env.cpu}\n`);
  console.log(markdown(head, rows, (i) => i > 0));
  console.log(`\nLong traces (as many steps as fit in ~${cfg.longTraceSeconds} s):\n`);
  console.log(markdown(longHead, longRows, (i) => i > 0 && i < 5));
  console.log('\nShowcase C programs (clang -O2, compute(input) printing through env.output_byte; instructions retired counted natively, structural ones excluded):\n');
  const cHead = ['program', 'compile ms', 'layers (crit)', 'dModel (maxLive)', 'model KiB', 'input', 'instr retired', 'steps', 'instr/step', 'B=1 s', 'B=1 instr/s', 'V8 ms', 'V8 / B=1', 'output'];
  const cRows = cprograms.flatMap((c) =>
    c.runs.map((r, i) => [
      i === 0 ? c.program : '', i === 0 ? c.compileMs.toFixed(0) : '', i === 0 ? `${c.layers} (${c.criticalPath})` : '', i === 0 ? `${c.dModel} (${c.maxLive})` : '',
      i === 0 ? (c.modelBytes / 1024).toFixed(0) : '', JSON.stringify(r.input.length > 16 ? `${r.input.slice(0, 14)}…` : r.input), si(r.retired), String(r.steps),
      (r.retired / r.steps).toFixed(1), (r.wallMs / 1000).toFixed(2), si(r.retired / (r.wallMs / 1000)), r.nativeMs.toFixed(3), `${si(r.wallMs / r.nativeMs)}×`, r.ok ? '✓' : '✗',
    ]),
  );
  console.log(markdown(cHead, cRows, (i) => i > 0 && i < 13 && i !== 5));
  const bHead = ['program', 'batch', 'workers', 'instr retired', 'seconds', 'instr/s', 'outputs'];
  const bRows = cprograms.flatMap((c) => c.batched.map((b) => [c.program, String(b.batch), String(b.workers), si(b.retired), b.seconds.toFixed(2), si(b.instrPerSec), b.ok ? '✓' : '✗']));
  console.log(`\nBatched (independent invocations, the program's inputs round-robin, one runBatch; workers 1: one session, more: the batch split over worker threads):\n`);
  console.log(markdown(bHead, bRows, (i) => i > 0 && i < 6));
  const skipped = cprograms.flatMap((c) => c.skipped.map((k) => `${c.program} on ${JSON.stringify(k.input.slice(0, 20))}… (${si(k.retired)} instructions)`));
  if (skipped.length) console.log(`\nNot run here (too long for the bench): ${skipped.join('; ')}`);
  console.log(`\nFloor: one session.run of a one-node graph (Identity) ${floor.identityRunUs.toFixed(0)} us; one step of the smallest compiled model (${floor.smallestModelNodes} nodes, token encode/decode included) ${floor.smallestModelStepUs.toFixed(0)} us (medians).\n`);
  console.log('Time per step of a store-heavy loop (a load and a store per step; superseded cache rows evicted):\n');
  console.log(markdown(['steps', 'seconds', 'us/step', 'KV-cache rows at end', 'matches IR'], stepRuns.map((r) => [String(r.steps), r.seconds.toFixed(2), r.usPerStep.toFixed(0), String(r.cacheRows), r.ok ? '✓' : '✗']), (i) => i < 4));
  const mismatches = results
    .flatMap((r) => r.mismatches.map((x) => `${r.sample}: ${x}`))
    .concat(stepRuns.filter((r) => !r.ok).map((r) => `store loop of ${r.steps} steps differs from the IR interpreter`))
    .concat(long.filter((l) => !l.ok).map((l) => `long trace ${l.export}(${l.args}) differs from the IR interpreter`))
    .concat(cprograms.flatMap((c) => [...c.runs.filter((r) => !r.ok).map((r) => `${c.program}(${JSON.stringify(r.input)}) output differs`), ...c.batched.filter((b) => !b.ok).map((b) => `${c.program} batch ${b.batch} outputs differ`)]));
  const total = (performance.now() - started) / 1000;
  console.log(`\n${mismatches.length === 0 ? 'all transformer outcomes matched the IR interpreter' : `MISMATCHES:\n${mismatches.join('\n')}`} · ${total.toFixed(0)} s in all`);
  writeFileSync(cfg.out, JSON.stringify({ env, samples: results, longTraces: long, cPrograms: cprograms, floor, steps: stepRuns, mismatches, seconds: total }, null, 2) + '\n');
  console.log(`wrote ${cfg.out}`);
  return mismatches.length ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
