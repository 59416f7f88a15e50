// fuzz/fuzz.ts — `npm run fuzz -- parse [--count N] [--seed S] [--time-limit-ms T] [--memory-mb M] [--json] [--quiet]`.
//
// Feeds mutated wasm-samples (binary and text) and random bytes into `compile` (fuzz/mutate.ts),
// each in a worker with a time and memory limit (fuzz/pool.ts), and reports every input that got
// anything but a model or a located CompileError (fuzz/classify.ts), with its bytes in hex so it
// can be replayed: `npm run fuzz -- replay HEX [--wat]`. Exit status 1 when there are findings.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzInputs, type Sample } from './mutate.js';
import { runAll, type Finding } from './pool.js';
import { ACCEPTABLE, classify, type Verdict } from './classify.js';
import { progress } from '../cli/progress.js';

const SAMPLES = join(dirname(dirname(fileURLToPath(import.meta.url))), 'wasm-samples');

export function loadSamples(ext: 'wasm' | 'wat'): Sample[] {
  return readdirSync(SAMPLES)
    .filter((f) => f.endsWith(`.${ext}`))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(SAMPLES, name))) }));
}

export interface ParseReport {
  count: number;
  seed: number;
  tally: Record<Verdict['kind'], number>;
  findings: Finding[];
}

export async function fuzzParse(opts: { count: number; seed: number; timeLimitMs: number; memoryLimitMb: number; onProgress?: (done: number) => void }): Promise<ParseReport> {
  const tally: Record<Verdict['kind'], number> = { model: 0, located: 0, unlocated: 0, 'invalid-accepted': 0, crash: 0, hang: 0, memory: 0 };
  const findings: Finding[] = [];
  const inputs = fuzzInputs(opts.seed, opts.count, loadSamples('wasm'), loadSamples('wat'));
  await runAll(inputs, { timeLimitMs: opts.timeLimitMs, memoryLimitMb: opts.memoryLimitMb }, (index, input, verdict) => {
    tally[verdict.kind]++;
    if (!ACCEPTABLE.has(verdict.kind)) findings.push({ index, input, verdict });
    opts.onProgress?.(index + 1);
  });
  return { count: opts.count, seed: opts.seed, tally, findings };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function option(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} expects a non-negative integer, got '${args[i + 1]}'`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const [mode, ...args] = argv;
  if (mode === 'replay') {
    const bytes = new Uint8Array(Buffer.from(args[0] ?? '', 'hex'));
    const v = await classify(bytes, args.includes('--wat') ? 'replay.wat' : 'replay.wasm');
    console.log(JSON.stringify(v));
    return ACCEPTABLE.has(v.kind) ? 0 : 1;
  }
  if (mode !== 'parse') {
    process.stderr.write("usage: npm run fuzz -- parse [--count N] [--seed S] [--time-limit-ms T] [--memory-mb M] [--json] [--quiet]\n       npm run fuzz -- replay HEX [--wat]\n");
    return 2;
  }
  const count = option(args, '--count', 2000);
  const bar = progress(process.stderr, { unit: 'inputs', quiet: args.includes('--quiet') });
  const report = await fuzzParse({
    count,
    seed: option(args, '--seed', 1),
    timeLimitMs: option(args, '--time-limit-ms', 10_000),
    memoryLimitMb: option(args, '--memory-mb', 2048),
    onProgress: (done) => bar.update(done, count),
  });
  bar.done();
  if (args.includes('--json')) {
    console.log(JSON.stringify({ ...report, findings: report.findings.map((f) => ({ index: f.index, origin: f.input.origin, filename: f.input.filename, hex: hex(f.input.bytes), verdict: f.verdict })) }));
  } else {
    for (const f of report.findings) {
      console.log(`#${f.index} ${f.verdict.kind}: ${'message' in f.verdict ? f.verdict.message.split('\n')[0] : ''}\n  input: ${f.input.origin}\n  hex: ${hex(f.input.bytes)}`);
    }
    const t = Object.entries(report.tally).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
    console.log(`${report.count} inputs (seed ${report.seed}): ${t}; ${report.findings.length} findings`);
  }
  return report.findings.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main(process.argv.slice(2));
