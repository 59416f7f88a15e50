// cli/demo.ts — `npm run demo`: every sample program compiled to a transformer and run.
//
// For each sample in wasm-samples/samples.json: compile it, run each export's
// hand-picked cases step by step on ONNX Runtime (one batch per export, each
// case on a fresh memory, like a fresh instance) and natively on V8, and print
// one table row per case with the model's size. The match column is ✓ when the
// transformer, V8 and the expectation recorded in samples.json all agree.
// Then the showcase C programs (cli/showcase.ts): each run's input, the output the
// transformer printed, whether it is exactly what native V8 prints, and instructions retired,
// steps, wall time and native time. Exits 1 if anything mismatches or fails to compile/run.

import { compile, type CompiledModel } from '../index.js';
import { NativeInstance } from '../harness/native.js';
import { TransformerModel, type Outcome } from '../runtime/transformer.js';
import { loadSamples, sampleWasm, type SampleCase } from '../wasm-samples/samples.js';
import { runShowcase, type ShowcaseResult } from './showcase.js';

const MAX_STEPS = 1_000_000;
/** Showcase runs retiring more instructions are listed, not run (the 2.1M-instruction sudoku takes about a minute). */
const DEMO_MAX_RETIRED = 70_000;

interface Row {
  sample: string;
  export: string;
  args: string;
  transformer: string;
  native: string;
  match: string;
  steps: string;
  layers: string;
  dModel: string;
  params: string;
  compileMs: string;
}

const HEAD: Row = {
  sample: 'sample', export: 'export', args: 'args', transformer: 'transformer', native: 'native', match: 'match',
  steps: 'steps', layers: 'layers (crit)', dModel: 'dModel (maxLive/naive)', params: 'params', compileMs: 'compile ms',
};
const RIGHT = new Set<keyof Row>(['steps', 'layers', 'dModel', 'params', 'compileMs']);

function outcomeText(o: { results: number[]; trap: string | null }): string {
  if (o.trap !== null) return o.trap === 'out of bounds memory access' ? 'trap: oob' : `trap: ${o.trap}`;
  return o.results.length ? o.results.join(', ') : '()';
}

function expectedText(c: SampleCase): string {
  return outcomeText({ results: c.results ?? [], trap: c.trap ?? null });
}

function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
}

function printTable(rows: Row[]): void {
  const keys = Object.keys(HEAD) as Array<keyof Row>;
  const width = (s: string) => [...s].length;
  const widths = keys.map((k) => Math.max(width(HEAD[k]), ...rows.map((r) => width(r[k]))));
  const line = (r: Row) =>
    keys
      .map((k, i) => {
        const pad = ' '.repeat(widths[i]! - width(r[k]));
        return RIGHT.has(k) ? pad + r[k] : r[k] + pad;
      })
      .join('  ')
      .trimEnd();
  console.log(line(HEAD));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<number> {
  const started = performance.now();
  const samples = loadSamples();
  const rows: Row[] = [];
  let cases = 0;
  let matched = 0;
  let failures = 0;
  let totalSteps = 0;
  let runMs = 0;
  for (const [si, sample] of samples.entries()) {
    progress(`[${si + 1}/${samples.length}] compiling ${sample.name}`);
    const wasm = sampleWasm(sample);
    let m: CompiledModel;
    let model: TransformerModel;
    try {
      m = await compile(wasm, { filename: sample.file });
      model = await TransformerModel.load(m.onnx);
    } catch (e) {
      failures++;
      rows.push({ ...blank(sample.name), transformer: `error: ${(e as Error).message}`, match: '✗' });
      continue;
    }
    const s = m.stats;
    let first = true;
    for (const ex of sample.exports) {
      progress(`[${si + 1}/${samples.length}] running ${sample.name}.${ex.name} (${ex.cases.length} cases)`);
      let outs: Array<Outcome | Error>;
      const t0 = performance.now();
      try {
        outs = await model.runBatch(ex.name, ex.cases.map((c) => c.args), ex.cases.map(() => model.newMemory()), { maxSteps: MAX_STEPS });
      } catch (e) {
        outs = ex.cases.map(() => e as Error);
      }
      runMs += performance.now() - t0;
      for (const [ci, c] of ex.cases.entries()) {
        cases++;
        const t = outs[ci]!;
        const native = (await NativeInstance.create(wasm)).invoke(ex.name, c.args);
        const tText = t instanceof Error ? `error: ${t.message}` : outcomeText(t);
        const nText = outcomeText(native);
        const ok = !(t instanceof Error) && tText === nText && nText === expectedText(c);
        if (ok) matched++;
        else failures++;
        if (!(t instanceof Error)) totalSteps += t.steps;
        rows.push({
          sample: first ? sample.name : '',
          export: ex.name,
          args: c.args.join(', '),
          transformer: tText,
          native: nText === expectedText(c) ? nText : `${nText} (recorded: ${expectedText(c)})`,
          match: ok ? '✓' : '✗',
          steps: t instanceof Error ? '-' : String(t.steps),
          layers: first ? `${s.layers} (${s.criticalPath})` : '',
          dModel: first ? `${s.dModel} (${s.maxLive}/${s.naiveSlots})` : '',
          params: first ? String(s.params) : '',
          compileMs: first ? String(Math.round(s.compileMs)) : '',
        });
        first = false;
      }
    }
  }
  progress('');
  printTable(rows);
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `\n${samples.length} samples, ${cases} cases: ${matched} match, ${failures} mismatch` +
      ` — ${totalSteps} transformer steps in ${(runMs / 1000).toFixed(1)} s of ONNX Runtime, ${secs} s in all`,
  );
  console.log('\nShowcase C programs (wasm-samples/c/showcase, clang -O2): compute(input) printing through env.output_byte\n');
  const all = await runShowcase({ onProgress: progress, maxRetired: DEMO_MAX_RETIRED });
  progress('');
  const show = all.filter((r) => !r.skipped);
  for (const r of show) printShowcase(r);
  for (const r of all.filter((x) => x.skipped)) {
    console.log(`(skipped here: ${r.program} on ${JSON.stringify(r.input.slice(0, 30))}… retires ${r.retired.toLocaleString('en-US')} instructions; run it with \`wasmformer run\` --input)`);
  }
  const bad = show.filter((r) => !r.ok).length;
  console.log(`${show.length} showcase runs: ${show.length - bad} print exactly what native prints, ${bad} differ`);
  return failures === 0 && bad === 0 ? 0 : 1;
}

function printShowcase(r: ShowcaseResult): void {
  const input = r.input.length > 40 ? `${r.input.slice(0, 37)}...` : r.input;
  console.log(`$ ${r.program} ${JSON.stringify(input)}`);
  const text = r.output.length > 400 ? `${r.output.slice(0, 400)}…\n` : r.output;
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  const rate = r.wallMs > 0 ? Math.round(r.retired / (r.wallMs / 1000)) : 0;
  const verdict = r.ok ? '✓ same as native' : `✗ ${r.error ?? (r.output !== r.native ? 'output differs from native' : 'native differs from the recorded output')}`;
  console.log(
    `  ${verdict} · ${r.retired.toLocaleString('en-US')} instructions retired · ${r.steps.toLocaleString('en-US')} steps · ` +
      `${(r.wallMs / 1000).toFixed(2)} s (${rate.toLocaleString('en-US')} instr/s) · native ${r.nativeMs.toFixed(3)} ms\n`,
  );
}

function blank(sample: string): Row {
  return { sample, export: '', args: '', transformer: '', native: '', match: '', steps: '', layers: '', dModel: '', params: '', compileMs: '' };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
