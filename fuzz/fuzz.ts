// fuzz/fuzz.ts — `npm run fuzz -- parse [--count N] [--seed S] [--time-limit-ms T] [--memory-mb M] [--json] [--quiet]`
// and `npm run fuzz -- diff [--count N | --minutes M] [--seed S] [--max-choices C] [--step-limit L] [--minimize-seconds T] [--time-limit-s T] [--max-findings K] [--out DIR] [--json] [--quiet]`.
//
// parse: feeds mutated wasm-samples (binary and text) and random bytes into `compile`
// (fuzz/mutate.ts), each in a worker with a time and memory limit (fuzz/pool.ts), and reports every
// input that got anything but a model or a located CompileError (fuzz/classify.ts), with its bytes
// in hex so it can be replayed: `npm run fuzz -- replay HEX [--wat]`.
// diff: random programs through native V8, the IR interpreter and the transformer, which must
// agree exactly (fuzz/diff_fuzz.ts); each finding is minimized and saved under test/regressions/,
// and its path printed. Exit status 1 when there are findings (either mode).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzInputs, type Sample } from './mutate.js';
import { runAll, type Finding } from './pool.js';
import { ACCEPTABLE, classify, type Verdict } from './classify.js';
import { progress } from '../cli/progress.js';
import { DEFAULT_SIZE, fuzzDiff } from './diff_fuzz.js';
import { REGRESSIONS_DIR } from './regressions.js';

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

function positive(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!(v > 0 && Number.isFinite(v))) throw new Error(`${name} expects a positive number, got '${args[i + 1]}'`);
  return v;
}

const USAGE =
  'usage: npm run fuzz -- parse [--count N] [--seed S] [--time-limit-ms T] [--memory-mb M] [--json] [--quiet]\n' +
  '       npm run fuzz -- diff [--count N | --minutes M] [--seed S] [--max-choices C] [--step-limit L] [--minimize-seconds T] [--time-limit-s T] [--max-findings K] [--out DIR] [--json] [--quiet]\n' +
  '       npm run fuzz -- replay HEX [--wat]\n';

async function mainDiff(args: string[]): Promise<number> {
  const minutes = positive(args, '--minutes');
  if (minutes !== undefined && args.includes('--count')) throw new Error('give --count N or --minutes M, not both');
  const count = minutes === undefined ? option(args, '--count', 100) : undefined;
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? args[outIdx + 1] : REGRESSIONS_DIR;
  if (!outDir) throw new Error('--out expects a directory');
  const seed = option(args, '--seed', 1);
  const size = { maxChoices: option(args, '--max-choices', DEFAULT_SIZE.maxChoices), stepLimit: option(args, '--step-limit', DEFAULT_SIZE.stepLimit) };
  if (size.stepLimit < 1 || size.stepLimit > 200) throw new Error(`--step-limit expects 1..200, got ${size.stepLimit}`);
  const quiet = args.includes('--quiet');
  const json = args.includes('--json');
  const bar = progress(process.stderr, { unit: 'programs', quiet });
  const report = await fuzzDiff({
    seed, count, minutes, size, outDir,
    minimizeSeconds: option(args, '--minimize-seconds', 300),
    timeLimitMs: option(args, '--time-limit-s', 120) * 1000,
    maxFindings: option(args, '--max-findings', 5),
    onProgress: (done, total) => bar.update(done, total),
    log: (line) => {
      bar.done();
      process.stderr.write(`${line}\n`);
    },
  });
  bar.done();
  if (json) {
    console.log(JSON.stringify(report));
  } else {
    for (const f of report.findings) {
      const where = f.path ?? `not saved: same kind as ${f.sameAs}`;
      console.log(`case ${f.index}: ${f.finding.kind}${f.finding.signature ? ` (${f.finding.signature})` : ''}\n  ${f.finding.detail.split('\n')[0]}\n  saved: ${where}`);
    }
    const calls = Object.entries(report.outcomes).map(([k, n]) => `${n} ${k}`).join(', ');
    const stopped = report.stoppedEarly ? ` (stopped after ${report.findings.length} findings: --max-findings)` : '';
    console.log(`${report.cases} programs (seed ${seed}) in ${(report.elapsedMs / 1000).toFixed(0)} s: ${report.agreed} agreed (calls: ${calls || 'none'}); ${report.findings.length} findings${stopped}`);
  }
  return report.findings.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [mode, ...args] = argv;
  if (mode === 'replay') {
    const bytes = new Uint8Array(Buffer.from(args[0] ?? '', 'hex'));
    const v = await classify(bytes, args.includes('--wat') ? 'replay.wat' : 'replay.wasm');
    console.log(JSON.stringify(v));
    return ACCEPTABLE.has(v.kind) ? 0 : 1;
  }
  if (mode === 'diff') return mainDiff(args);
  if (mode !== 'parse') {
    process.stderr.write(USAGE);
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    // a bad option: say so, without a stack trace
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    process.exitCode = 2;
  }
}
