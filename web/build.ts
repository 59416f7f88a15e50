// web/build.ts — bundles the browser demo into a static folder (default web/dist/).
//
//   npx tsx web/build.ts [--outdir DIR] [--no-minify]
//
// esbuild bundles web/main.ts for the browser: the compiler (compile.ts and everything under it),
// the runtime (runtime/core.ts, given onnxruntime-web), the native harness and the inspector page
// (cli/inspect_html.ts). The samples are embedded as the module `wasmformer-demo:samples`. Beside
// main.js go its chunks (each onnxruntime-web build: the plain WebAssembly one, and the WebGPU one
// loaded only when picked), index.html and onnxruntime-web's WebAssembly binaries (the page sets
// ort.env.wasm.wasmPaths to them), so the page fetches nothing from the network.
// platform 'browser' makes any node: import a build error; the one Node-only branch of a
// dependency (wabt's emscripten loader requires 'fs' only under Node) resolves to an empty module.

import { build, type Plugin } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSamples, SAMPLES_DIR } from '../wasm-samples/samples.js';
import { loadCatalogue, readWasm } from '../wasm-samples/c/c_samples.js';
import { instructionsRetired } from '../harness/retired.js';
import type { DemoSample } from './samples.js';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUTDIR = join(WEB_DIR, 'dist');

/**
 * onnxruntime-web's WebAssembly binaries: the plain build (the CPU kernels, what the page uses by
 * default) and the one its WebGPU build loads (only fetched when the page picks WebGPU).
 */
export const ORT_WASM_FILES = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** The showcase programs (compute(input)) and C samples (exports on i32 args) the page offers. */
const SHOWCASE = ['hello', 'bigadd', 'fibonacci', 'collatz'];
const C_SAMPLES = ['gcd', 'recursive', 'sieve'];
/** A C sample's preselected call: its case doing the most WebAssembly instructions up to this many. */
const MAX_DEFAULT_WORK = 3000;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** The demo's built-in programs: every WAT sample, then the C programs (clang -O2). */
export async function demoSamples(): Promise<DemoSample[]> {
  const out: DemoSample[] = [];
  for (const s of loadSamples()) {
    out.push({
      id: `wat/${s.name}`,
      group: 'WAT samples (wasm-samples/)',
      label: s.name,
      description: s.description,
      filename: s.source,
      wat: readFileSync(join(SAMPLES_DIR, s.source), 'utf8'),
      // the middle case of each export: past the trivial first ones
      calls: s.exports.map((e) => ({ export: e.name, args: (e.cases[Math.floor(e.cases.length / 2)]?.args ?? new Array(e.params).fill(0)).join(' ') })),
    });
  }
  const cat = loadCatalogue();
  for (const name of SHOWCASE) {
    const p = cat.showcase.find((x) => x.name === name);
    if (!p) throw new Error(`web/build.ts: no showcase program ${name}`);
    out.push({
      id: `c/${name}.O2`,
      group: 'C programs (clang -O2, wasm-samples/c/showcase/)',
      label: `${name}.c — ${p.description}`,
      description: `${p.description}: void compute(const char *input), printing with putchar (env.output_byte)`,
      filename: `${name}.O2.wasm`,
      wasm: base64(readWasm(p.source, 'O2')),
      calls: p.runs.map((r) => ({ export: 'compute', args: '@input', input: r.input })),
    });
  }
  for (const name of C_SAMPLES) {
    const s = cat.samples.find((x) => x.name === name);
    if (!s) throw new Error(`web/build.ts: no C sample ${name}`);
    const wasm = readWasm(s.source, 'O2');
    const calls: DemoSample['calls'] = [];
    for (const name of [...new Set(s.cases.map((c) => c.export))]) {
      // the case of each export that does the most work within a few thousand instructions
      const work: Array<{ args: number[]; n: number }> = [];
      for (const c of s.cases.filter((x) => x.export === name)) work.push({ args: c.args, n: await instructionsRetired(wasm, { invoke: name, args: c.args }) });
      const within = work.filter((w) => w.n <= MAX_DEFAULT_WORK).sort((a, b) => b.n - a.n);
      const best = within[0] ?? work.sort((a, b) => a.n - b.n)[0];
      if (best) calls.push({ export: name, args: best.args.join(' ') });
    }
    out.push({
      id: `c/${name}.O2`,
      group: 'C programs (clang -O2, wasm-samples/c/)',
      label: `${name}.c — ${s.description}`,
      description: s.description,
      filename: `${name}.O2.wasm`,
      wasm: base64(wasm),
      calls,
    });
  }
  return out;
}

const samplesPlugin = (samples: DemoSample[]): Plugin => ({
  name: 'wasmformer-demo-samples',
  setup(b) {
    b.onResolve({ filter: /^wasmformer-demo:samples$/ }, (a) => ({ path: a.path, namespace: 'wasmformer-demo' }));
    b.onLoad({ filter: /.*/, namespace: 'wasmformer-demo' }, () => ({ contents: JSON.stringify(samples), loader: 'json' }));
  },
});

/** wabt.js (emscripten) requires 'fs' on its Node branch only; in the page that branch never runs. */
const emptyNodeBranch: Plugin = {
  name: 'empty-node-branch',
  setup(b) {
    b.onResolve({ filter: /^fs$/ }, (a) => (a.importer.includes(`${'node_modules'}/wabt/`) ? { path: 'fs', namespace: 'empty' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export default {};', loader: 'js' }));
  },
};

export interface BuildResult {
  outdir: string;
  /** Bytes of each file written (main.js, its chunks, index.html, the ORT binaries). */
  files: Record<string, number>;
  ms: number;
}

export async function buildDemo(opts: { outdir?: string; minify?: boolean } = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const outdir = resolve(opts.outdir ?? DEFAULT_OUTDIR);
  // a fresh folder, so no stale chunk stays; only one this script made (it holds build.json) is removed
  if (existsSync(outdir) && readdirSync(outdir).length > 0) {
    if (!existsSync(join(outdir, 'build.json'))) throw new Error(`web/build.ts: ${outdir} is not empty and not a demo build (no build.json); pick another --outdir`);
    rmSync(outdir, { recursive: true });
  }
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [join(WEB_DIR, 'main.ts'), join(WEB_DIR, 'compile_worker.ts')],
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    splitting: true, // each onnxruntime-web build is a chunk, loaded when the page picks it
    metafile: true,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [samplesPlugin(await demoSamples()), emptyNodeBranch],
  });
  copyFileSync(join(WEB_DIR, 'index.html'), join(outdir, 'index.html'));
  const require = createRequire(import.meta.url);
  for (const f of ORT_WASM_FILES) copyFileSync(require.resolve(`onnxruntime-web/${f}`), join(outdir, f));
  const files: Record<string, number> = {};
  const js = Object.keys(result.metafile?.outputs ?? {}).map((f) => relative(outdir, resolve(f)));
  for (const f of [...js, 'index.html', ...ORT_WASM_FILES]) files[f] = statSync(join(outdir, f)).size;
  writeFileSync(join(outdir, 'build.json'), JSON.stringify({ files }, null, 1) + '\n');
  return { outdir, files, ms: Math.round(performance.now() - t0) };
}

function usage(): never {
  console.error('usage: tsx web/build.ts [--outdir DIR] [--no-minify]');
  process.exit(2);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let outdir: string | undefined;
  let minify = true;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--outdir' && args[i + 1]) outdir = args[++i];
    else if (args[i] === '--no-minify') minify = false;
    else usage();
  }
  const r = await buildDemo({ outdir, minify });
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`built ${relative(process.cwd(), r.outdir) || '.'} in ${r.ms} ms: ${Object.entries(r.files).map(([f, n]) => `${f} ${kib(n)}`).join(', ')}`);
}
