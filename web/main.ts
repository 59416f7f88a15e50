// web/main.ts — the demo page (web/index.html): pick a sample, paste WAT or upload a .wasm, compile
// it in the page, and run the transformer on onnxruntime-web step by step beside the browser's
// own WebAssembly. The machinery is web/engine.ts; this file is the DOM.
//
// The page's state is on <body data-state> (loading, ready, compiling, compiled, running, paused,
// done, error) and window.wfDemo.last holds the last run's outcome on both sides, for the
// end-to-end test (test/web/demo.test.ts).

import samples from 'wasmformer-demo:samples';
import { renderInspectHtml } from '../cli/inspect_html.js';
import { readInspect } from '../format/inspect.js';
import { decodeBase64 } from '../format/memory.js';
import { OUTPUTS_PER_STEP, type TokenIn, type TokenOut } from '../format/token.js';
import type { IoOutcome } from '../harness/io.js';
import { TransformerModel, type OrtBinding, type TraceEvent } from '../runtime/core.js';
import { agree, compileAndLoad, gatedBinding, parseArgs, runNative, runTransformer, StepGate, Stopped, workerCompiler, type CallSpec, type Compiled } from './engine.js';

/** The compiler runs in a worker (web/compile_worker.ts, built beside main.js): the page stays live. */
const compiler = workerCompiler(new URL('./compile_worker.js', import.meta.url));
import type { DemoSample } from './samples.js';

/** Trace rows drawn (a longer run keeps counting, and says how many it left out). */
const MAX_TRACE_ROWS = 3000;
/** Steps whose tokens are kept for the token view. */
const MAX_KEPT_TOKENS = 20000;
const MAX_STEPS = 1_000_000;

type OrtModule = typeof import('onnxruntime-web');

/**
 * onnxruntime-web's builds, each a chunk of the bundle with its binary beside main.js (web/build.ts):
 * the plain WebAssembly one (CPU kernels; the default) and the WebGPU one, loaded only when picked.
 */
const ORT_BUILDS: Record<string, { file: string; load: () => Promise<OrtModule> }> = {
  wasm: { file: 'ort-wasm-simd-threaded.wasm', load: () => import('onnxruntime-web/wasm') },
  webgpu: { file: 'ort-wasm-simd-threaded.asyncify.wasm', load: () => import('onnxruntime-web/webgpu') },
};
const ortLoaded = new Map<string, Promise<OrtModule>>();

/** The binding for a provider, configured: single-threaded (no SharedArrayBuffer, so no cross-origin isolation needed), nothing from the network. */
function ortFor(provider: string): Promise<OrtModule> {
  const build = ORT_BUILDS[provider] ?? ORT_BUILDS.wasm;
  let p = ortLoaded.get(provider);
  if (!p) {
    p = build.load().then((m) => {
      m.env.wasm.numThreads = 1;
      m.env.wasm.proxy = false;
      m.env.wasm.wasmPaths = { wasm: new URL(build.file, import.meta.url).href };
      return m;
    });
    ortLoaded.set(provider, p);
  }
  return p;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no #${id}`);
  return e as T;
};

const ui = {
  sample: $<HTMLSelectElement>('sample'),
  description: $('description'),
  wat: $<HTMLTextAreaElement>('wat'),
  upload: $<HTMLInputElement>('upload'),
  export: $<HTMLSelectElement>('export'),
  args: $<HTMLInputElement>('args'),
  input: $<HTMLInputElement>('input'),
  compile: $<HTMLButtonElement>('compile'),
  run: $<HTMLButtonElement>('run'),
  step: $<HTMLButtonElement>('step'),
  reset: $<HTMLButtonElement>('reset'),
  provider: $<HTMLSelectElement>('provider'),
  inspect: $<HTMLAnchorElement>('inspect'),
  download: $<HTMLAnchorElement>('download'),
  status: $('status'),
  stats: $<HTMLTableElement>('stats'),
  backend: $('backend'),
  tfWhere: $('tf-where'),
  verdict: $('verdict'),
  stepno: $('stepno'),
  token: $('token'),
  trace: $<HTMLTableElement>('trace'),
  traceNote: $('trace-note'),
};

type Source = { kind: 'wat'; text: string; filename: string } | { kind: 'wasm'; bytes: Uint8Array; filename: string };

interface StepView {
  ev: TraceEvent;
  tokenIn: Float32Array | null;
  tokenOut: Float32Array | null;
  /** The bytes the step wrote (at most OUTPUTS_PER_STEP). */
  out: number[];
}

/** What the end-to-end test reads. */
interface LastRun {
  sample: string;
  export: string;
  args: string;
  input: string | null;
  provider: string;
  transformer: { results: number[]; trap: string | null; steps: number; output: number[]; ms: number } | null;
  native: { results: number[]; trap: string | null; output: number[] } | null;
  agree: boolean | null;
  error: string | null;
  /** Why the run left WebGPU for wasm, if it did. */
  fallback: string | null;
}

const state = {
  source: null as Source | null,
  sampleId: '' as string,
  compiled: null as Compiled | null,
  gate: null as StepGate | null,
  steps: [] as StepView[],
  /** performance.now() at the end of each step. */
  stepTimes: [] as number[],
  pendingTokens: null as { tokenIn: Float32Array; tokenOut: Float32Array } | null,
  running: false,
  blobUrls: [] as string[],
  last: null as LastRun | null,
};

declare global {
  interface Window {
    wfDemo: { samples: string[]; last: LastRun | null; provider: string; compiledIn: string | null };
  }
}
window.wfDemo = { samples: (samples as DemoSample[]).map((s) => s.id), last: null, provider: 'wasm', compiledIn: null };

function setState(s: string): void {
  document.body.dataset.state = s;
}

function status(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.className = error ? 'error' : '';
}

function text(id: string, value: string): void {
  $(id).textContent = value;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? `${n.toFixed(1)} ms` : `${fmt(Math.round(n))} ms`);

function bytesText(bytes: ArrayLike<number>): { text: string; hex: string } {
  const arr = Array.from(bytes);
  const t = new TextDecoder().decode(Uint8Array.from(arr));
  const hex = arr.length === 0 ? '' : `${arr.length} byte${arr.length === 1 ? '' : 's'}: ${arr.slice(0, 64).map((b) => b.toString(16).padStart(2, '0')).join(' ')}${arr.length > 64 ? ' …' : ''}`;
  return { text: t, hex };
}

// ---- the program: samples, WAT text, upload ----

function fillSamples(): void {
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const s of samples as DemoSample[]) {
    let g = groups.get(s.group);
    if (!g) {
      g = document.createElement('optgroup');
      g.label = s.group;
      groups.set(s.group, g);
      ui.sample.appendChild(g);
    }
    const o = document.createElement('option');
    o.value = s.id;
    o.textContent = s.label;
    g.appendChild(o);
  }
}

function sampleById(id: string): DemoSample | undefined {
  return (samples as DemoSample[]).find((s) => s.id === id);
}

function fillExports(names: string[], calls: DemoSample['calls'], pick?: string): void {
  ui.export.replaceChildren();
  for (const n of names) {
    const o = document.createElement('option');
    o.value = n;
    o.textContent = n;
    ui.export.appendChild(o);
  }
  if (pick && names.includes(pick)) ui.export.value = pick;
  const call = calls.find((c) => c.export === ui.export.value);
  if (call) {
    ui.args.value = call.args;
    ui.input.value = call.input ?? '';
  }
  // the sample's other inputs, offered by the input field
  const list = $('inputs');
  list.replaceChildren();
  for (const c of calls) {
    if (c.input === undefined || c.input === '') continue;
    const o = document.createElement('option');
    o.value = c.input;
    list.appendChild(o);
  }
}

function pickSample(id: string): void {
  const s = sampleById(id);
  if (!s) return;
  state.sampleId = id;
  ui.sample.value = id;
  ui.description.textContent = s.description;
  if (s.wat !== undefined) {
    state.source = { kind: 'wat', text: s.wat, filename: s.filename };
    ui.wat.value = s.wat;
  } else {
    const bytes = decodeBase64(s.wasm ?? '');
    state.source = { kind: 'wasm', bytes, filename: s.filename };
    showDisassembly(bytes, s.filename);
  }
  ui.upload.value = '';
  fillExports([...new Set(s.calls.map((c) => c.export))], s.calls, s.calls[0]?.export);
  dropModel();
  clearResults();
  drawStats(null);
  status('');
  setState('ready');
}

/**
 * A binary module's text (wabt's wasm2wat, in the page) in the editor: Compile takes the binary
 * as it is until the text is edited, then the edited text.
 */
function showDisassembly(bytes: Uint8Array, filename: string): void {
  const src = state.source;
  ui.wat.value = `;; ${filename}: a binary module (${fmt(bytes.length)} bytes); disassembling…`;
  void (async () => {
    let text: string;
    try {
      const wabt = await (await import('wabt')).default();
      const mod = wabt.readWasm(bytes, { readDebugNames: true });
      try {
        mod.generateNames();
        mod.applyNames();
        text = `;; ${filename}: ${fmt(bytes.length)} bytes, shown as text (wasm2wat); Compile takes the binary unless you edit this\n${mod.toText({ foldExprs: false, inlineExport: false })}`;
      } finally {
        mod.destroy();
      }
    } catch (e) {
      text = `;; ${filename}: a binary module (${fmt(bytes.length)} bytes); no text view (${(e as Error).message})`;
    }
    if (state.source === src) ui.wat.value = text; // still the module picked
  })();
}

function currentCalls(): DemoSample['calls'] {
  return sampleById(state.sampleId)?.calls ?? [];
}

// ---- compile ----

function dropModel(): void {
  stopRun();
  state.compiled = null;
  for (const u of state.blobUrls) URL.revokeObjectURL(u);
  state.blobUrls = [];
  for (const a of [ui.inspect, ui.download]) {
    a.removeAttribute('href');
    a.setAttribute('aria-disabled', 'true');
  }
  ui.run.disabled = ui.step.disabled = ui.reset.disabled = true;
}

function statsRows(c: Compiled): Array<[string, string]> {
  const s = c.model.stats;
  const L = c.model.layout;
  return [
    ['blocks (experts)', `${fmt(s.experts)} (one expert per basic block, routed by pc)`],
    ['layers', `${s.layers} (critical path ${s.criticalPath})`],
    ['width dModel', `${s.dModel} (maxLive ${s.maxLive})`],
    ['heads / MLP units', `${fmt(s.heads)} / ${fmt(s.mlpHidden)}`],
    ['parameters', `${fmt(s.params)} (${fmt(s.nonzeros)} nonzero)`],
    ['model file', `${fmt(c.model.onnx.length)} bytes`],
    ['memory', L.memory ? `${fmt(L.memory.memBytes)} bytes, kept in the KV cache; ${L.storePorts ? `${L.storePorts} rows written per step` : 'never written'}` : 'none'],
    ['token in / out', `${L.tokenIn.width} / ${L.tokenOut.width} numbers`],
    ['compiled in', `${ms(c.compileMs)} in this browser (${c.model.compiledIn === 'worker' ? 'a worker' : 'the page'}); loaded on ${c.provider} in ${ms(c.loadMs)}`],
  ];
}

function drawStats(c: Compiled | null): void {
  ui.stats.replaceChildren();
  if (!c) {
    const td = ui.stats.insertRow().insertCell();
    td.className = 'muted';
    td.textContent = 'compile a program to see its transformer';
    return;
  }
  for (const [k, v] of statsRows(c)) {
    const tr = ui.stats.insertRow();
    const th = document.createElement('th');
    th.textContent = k;
    tr.appendChild(th);
    tr.insertCell().textContent = v;
  }
}

async function webgpuUsable(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

async function doCompile(): Promise<void> {
  dropModel();
  clearResults();
  const src = state.source;
  if (!src) return;
  setState('compiling');
  status(`compiling ${src.filename} in this browser…`);
  ui.compile.disabled = true;
  await new Promise((r) => setTimeout(r, 20)); // let the status paint
  const binding = async (provider: string): Promise<OrtBinding> => gatedBinding(await ortFor(provider), () => state.gate ?? openGate());
  const wanted = ui.provider.value;
  // WebGPU may refuse a model; the WebAssembly backend always can
  const providers = [...new Set([wanted, 'wasm'])].map((provider) => ({ provider, ort: () => binding(provider) }));
  try {
    const c = await compileAndLoad(src.kind === 'wat' ? src.text : src.bytes, src.filename, compiler, providers, (p, why) => status(`${p} could not load the model (${why}); using wasm`));
    const provider = c.provider;
    ui.provider.value = provider;
    state.compiled = c;
    window.wfDemo.compiledIn = c.model.compiledIn;
    window.wfDemo.provider = provider;
    ui.tfWhere.textContent = `(ONNX Runtime Web, ${provider})`;
    drawStats(c);
    const names = c.model.layout.entries.map((e) => e.name);
    fillExports(names, currentCalls(), names.includes(ui.export.value) ? ui.export.value : undefined);
    const onnx = new Blob([c.model.onnx as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
    const dl = URL.createObjectURL(onnx);
    ui.download.href = dl;
    ui.download.download = src.filename.replace(/\.(wat|wast|wasm)$/i, '') + '.onnx';
    ui.download.removeAttribute('aria-disabled');
    state.blobUrls.push(dl);
    try {
      const { layout, info, entryBytes } = readInspect(c.model.onnx, src.filename);
      const page = renderInspectHtml({ title: `${src.filename} (compiled in the demo)`, modelBytes: c.model.onnx.length, inspectBytes: entryBytes, layout, info });
      const u = URL.createObjectURL(new Blob([page], { type: 'text/html' }));
      ui.inspect.href = u;
      ui.inspect.removeAttribute('aria-disabled');
      state.blobUrls.push(u);
    } catch {
      // the inspector is an extra; the model runs without it
    }
    ui.run.disabled = ui.step.disabled = false;
    status(`compiled ${src.filename}: ${fmt(c.model.stats.experts)} blocks, ${c.model.stats.layers} layers × ${c.model.stats.dModel} wide, ${fmt(c.model.onnx.length)} bytes; Run or Step it`);
    setState('compiled');
  } catch (e) {
    status((e as Error).message, true);
    setState('error');
  } finally {
    ui.compile.disabled = false;
  }
}

// ---- run / step ----

function openGate(): StepGate {
  const g = new StepGate();
  g.free();
  return g;
}

function clearResults(): void {
  for (const id of ['tf-results', 'tf-trap', 'tf-steps', 'tf-time', 'n-results', 'n-trap', 'n-time']) text(id, '–');
  for (const id of ['tf-output', 'tf-hex', 'n-output', 'n-hex']) text(id, '');
  ui.verdict.textContent = '';
  ui.verdict.className = '';
  ui.trace.tBodies[0].replaceChildren();
  ui.traceNote.textContent = '(one row per step: the block that ran and the live values it received)';
  ui.stepno.textContent = '–';
  state.steps = [];
  state.stepTimes = [];
}

function readCall(): CallSpec {
  const args = parseArgs(ui.args.value);
  const input = ui.input.value === '' && !args.includes('@input') ? null : ui.input.value;
  return { export: ui.export.value, args, input };
}

function stopRun(): void {
  state.gate?.stop();
  state.gate = null;
}

let liveOutput: number[] = [];

function addTraceRow(v: StepView, index: number): void {
  const body = ui.trace.tBodies[0];
  if (index >= MAX_TRACE_ROWS) {
    ui.traceNote.textContent = `(the first ${fmt(MAX_TRACE_ROWS)} of ${fmt(index + 1)} steps)`;
    return;
  }
  const tr = body.insertRow();
  tr.dataset.step = String(index);
  for (const cell of [String(v.ev.step), String(v.ev.pc), v.ev.block, v.ev.args.join(', '), v.out.map(byteLabel).join(' ')]) tr.insertCell().textContent = cell;
}

function byteLabel(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `0x${b.toString(16).padStart(2, '0')}`;
}

function markCurrent(index: number): void {
  const body = ui.trace.tBodies[0];
  body.querySelector('tr.cur')?.classList.remove('cur');
  const tr = body.rows[index];
  if (tr) {
    tr.classList.add('cur');
    const box = tr.closest('.scroll') as HTMLElement | null;
    if (box && (tr.offsetTop < box.scrollTop || tr.offsetTop > box.scrollTop + box.clientHeight - 20)) box.scrollTop = tr.offsetTop - box.clientHeight / 2;
  }
  drawToken(index);
}

/** Field names and colour classes of each token position (format/token.ts). */
function tokenLabels(t: TokenIn | TokenOut, dir: 'in' | 'out'): Array<[string, string]> {
  const labels: Array<[string, string]> = new Array(t.width).fill(null).map(() => ['', '']);
  const pair = (at: number, n: number, name: string, cls: string) => {
    for (let i = 0; i < n; i++) {
      labels[at + 2 * i] = [`${name}${i}.lo`, cls];
      labels[at + 2 * i + 1] = [`${name}${i}.hi`, cls];
    }
  };
  if (dir === 'in') {
    const ti = t as TokenIn;
    labels[ti.one] = ['1', 'f-one'];
    for (let j = ti.epoch; j < ti.tick; j++) labels[j] = [`epoch${j - ti.epoch}`, 'f-time'];
    if (ti.globals > ti.tick) labels[ti.tick] = ['tick', 'f-time'];
    pair(ti.globals, (ti.depth - ti.globals) / 2, 'g', 'f-global');
    if (ti.args > ti.depth) labels[ti.depth] = ['depth', 'f-depth'];
    pair(ti.args, (ti.width - ti.args) / 2, 'a', 'f-arg');
  } else {
    const to = t as TokenOut;
    labels[to.pc] = ['pc', 'f-pc'];
    labels[to.trap] = ['trap', 'f-trap'];
    if (to.out >= 0) for (let k = 0; k < OUTPUTS_PER_STEP; k++) labels[to.out + k] = [`out${k}+1`, 'f-out'];
    pair(to.globals, (to.depth - to.globals) / 2, 'g', 'f-global');
    if (to.args > to.depth) labels[to.depth] = ['depth', 'f-depth'];
    pair(to.args, (to.width - to.args) / 2, 'a', 'f-arg');
  }
  return labels;
}

function tokenRow(name: string, values: Float32Array, labels: Array<[string, string]>): HTMLElement {
  const row = document.createElement('div');
  row.className = 'tok';
  const n = document.createElement('span');
  n.className = 'name';
  n.textContent = name;
  row.appendChild(n);
  values.forEach((v, i) => {
    const c = document.createElement('span');
    c.className = `cell ${labels[i]?.[1] ?? ''}`;
    const l = document.createElement('i');
    l.textContent = labels[i]?.[0] ?? String(i);
    c.append(l, String(v));
    row.appendChild(c);
  });
  return row;
}

function drawToken(index: number): void {
  const v = state.steps[index];
  const c = state.compiled;
  if (!v || !c) return;
  ui.stepno.textContent = `${v.ev.step} (${v.ev.block})`;
  ui.token.replaceChildren();
  if (!v.tokenIn || !v.tokenOut) {
    ui.token.textContent = '(tokens are kept for the first steps only)';
    return;
  }
  ui.token.append(tokenRow('token in', v.tokenIn, tokenLabels(c.model.layout.tokenIn, 'in')), tokenRow('next token', v.tokenOut, tokenLabels(c.model.layout.tokenOut, 'out')));
}

function showTransformer(o: { results: number[]; trap: string | null; steps: number; output: ArrayLike<number> } | null, time: number | null, error?: string): void {
  text('tf-results', o ? (o.trap ? '–' : `[${o.results.join(', ')}]`) : '–');
  text('tf-trap', error ? `error: ${error}` : o?.trap ?? 'none');
  text('tf-steps', o ? fmt(o.steps) : fmt(state.steps.length));
  const t = state.stepTimes;
  const rest = t.length > 1 ? (t[t.length - 1] - t[0]) / (t.length - 1) : null;
  // the first step of a run includes ONNX Runtime's warm-up for the new input shapes
  text('tf-time', time === null ? '–' : `${ms(time)}${rest !== null ? ` (then ${ms(rest)} per step after the first)` : ''}`);
  const b = bytesText(o ? o.output : liveOutput);
  text('tf-output', b.text);
  text('tf-hex', b.hex);
}

async function doRun(stepping: boolean): Promise<void> {
  const c = state.compiled;
  if (!c) return;
  if (state.running && state.gate) {
    // already under way: one more step, or let it run
    if (stepping) state.gate.step();
    else state.gate.free();
    setState('running');
    return;
  }
  clearResults();
  let call: CallSpec;
  try {
    call = readCall();
  } catch (e) {
    status((e as Error).message, true);
    return;
  }
  const gate = new StepGate();
  state.gate = gate;
  if (stepping) gate.step();
  else gate.free();
  gate.onStep = (tokenIn, tokenOut) => {
    state.pendingTokens = state.steps.length < MAX_KEPT_TOKENS ? { tokenIn: tokenIn.slice(), tokenOut: tokenOut.slice() } : null;
  };
  gate.onPause = () => {
    setState('paused');
    status(`paused after step ${state.steps.length}: Step runs the next block, Run runs to the end`);
    showTransformer(null, null);
    markCurrent(state.steps.length - 1);
  };
  state.running = true;
  liveOutput = [];
  ui.reset.disabled = false;
  setState('running');
  status(`running ${call.export}(${ui.args.value}) on the transformer…`);
  const last: LastRun = { sample: state.sampleId, export: call.export, args: ui.args.value, input: call.input, provider: c.provider, transformer: null, native: null, agree: null, error: null, fallback: null };
  state.last = last;
  window.wfDemo.last = null;
  // native first: it is instant, and shows what the transformer should reach
  let native: IoOutcome | null = null;
  try {
    const n = await runNative(c.native, call);
    native = n;
    last.native = { results: n.results, trap: n.trap, output: Array.from(n.output) };
    text('n-results', n.trap ? '–' : `[${n.results.join(', ')}]`);
    text('n-trap', n.trap ?? 'none');
    text('n-time', ms(n.callMs));
    const b = bytesText(n.output);
    text('n-output', b.text);
    text('n-hex', b.hex);
  } catch (e) {
    text('n-trap', `error: ${(e as Error).message}`);
  }
  const hooks: Parameters<typeof runTransformer>[2] = {
    maxSteps: MAX_STEPS,
    trace: (ev) => {
      const v: StepView = { ev, tokenIn: state.pendingTokens?.tokenIn ?? null, tokenOut: state.pendingTokens?.tokenOut ?? null, out: [] };
      state.pendingTokens = null;
      state.steps.push(v);
      if (gate.isFree) state.stepTimes.push(performance.now());
      addTraceRow(v, state.steps.length - 1);
    },
    output: (b) => {
      liveOutput.push(b);
      const v = state.steps[state.steps.length - 1];
      if (v) {
        v.out.push(b);
        const tr = ui.trace.tBodies[0].rows[state.steps.length - 1];
        if (tr) tr.cells[4].textContent = v.out.map(byteLabel).join(' ');
      }
    },
  };
  try {
    let r: Awaited<ReturnType<typeof runTransformer>>;
    let fellBack = '';
    try {
      r = await runTransformer(c.transformer, call, hooks);
    } catch (e) {
      if (e instanceof Stopped || c.provider !== 'webgpu') throw e;
      // WebGPU failed on a step (onnxruntime-web 1.30's WebGPU Softmax rejects an empty tensor,
      // met where the step's expert has no heads in a layer): load the model on wasm, run again
      fellBack = `WebGPU failed at step ${state.steps.length + 1} (${(e as Error).message.split('\n')[0].slice(0, 160)}); ran on wasm instead`;
      status(fellBack);
      const wasm = await TransformerModel.load(c.model.onnx, { ort: gatedBinding(await ortFor('wasm'), () => state.gate ?? openGate()), provider: 'wasm' });
      const now: Compiled = { ...c, transformer: wasm, provider: 'wasm' };
      if (state.compiled === c) state.compiled = now;
      last.provider = 'wasm';
      window.wfDemo.provider = 'wasm';
      ui.provider.value = 'wasm';
      ui.tfWhere.textContent = '(ONNX Runtime Web, wasm: WebGPU failed)';
      ui.trace.tBodies[0].replaceChildren();
      state.steps = [];
      state.stepTimes = [];
      liveOutput = [];
      r = await runTransformer(wasm, call, hooks);
    }
    last.fallback = fellBack || null;
    const o = r.outcome;
    last.transformer = { results: o.results, trap: o.trap, steps: o.steps, output: Array.from(o.output), ms: r.ms };
    showTransformer(o, r.ms);
    markCurrent(state.steps.length - 1);
    if (native) {
      last.agree = agree(o, native);
      ui.verdict.textContent = last.agree ? `✓ the transformer agrees with native WebAssembly: same ${o.trap ? 'trap' : 'results'} and output, in ${fmt(o.steps)} steps` : '✗ the transformer and native WebAssembly disagree';
      ui.verdict.className = last.agree ? 'ok' : 'bad';
    }
    status(`${call.export} finished in ${fmt(o.steps)} steps${o.trap ? ` with a trap: ${o.trap}` : ''}${fellBack ? `. ${fellBack}` : ''}`);
    setState('done');
  } catch (e) {
    if (e instanceof Stopped) {
      // whoever stopped it (Reset, another sample, a new compile) has set the page's state
    } else {
      last.error = (e as Error).message;
      showTransformer(null, null, last.error);
      status((e as Error).message, true);
      setState('error');
    }
  } finally {
    if (state.gate === gate) state.gate = null;
    state.running = false;
    window.wfDemo.last = last;
  }
}

function doReset(): void {
  stopRun();
  clearResults();
  state.running = false;
  setState(state.compiled ? 'compiled' : 'ready');
  status(state.compiled ? 'reset: Run or Step starts again from the entry, with fresh memory' : '');
}

// ---- wiring ----

async function init(): Promise<void> {
  fillSamples();
  ui.sample.addEventListener('change', () => pickSample(ui.sample.value));
  ui.wat.addEventListener('input', () => {
    const was = state.source?.filename.replace(/\.(wasm|wat|wast)$/i, '') ?? 'input';
    state.source = { kind: 'wat', text: ui.wat.value, filename: `${was}.wat` };
    if (state.compiled) {
      dropModel();
      status('the text changed: Compile it again');
      setState('ready');
    }
  });
  ui.upload.addEventListener('change', async () => {
    const f = ui.upload.files?.[0];
    if (!f) return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    state.sampleId = '';
    ui.description.textContent = `${f.name}: uploaded (${fmt(bytes.length)} bytes)`;
    if (/\.wa?t$|\.wast$/i.test(f.name)) {
      state.source = { kind: 'wat', text: new TextDecoder().decode(bytes), filename: f.name };
      ui.wat.value = state.source.text;
    } else {
      state.source = { kind: 'wasm', bytes, filename: f.name };
      showDisassembly(bytes, f.name);
    }
    fillExports([], []);
    ui.args.value = '';
    ui.input.value = '';
    ui.sample.value = '';
    dropModel();
    await doCompile();
  });
  ui.export.addEventListener('change', () => {
    const call = currentCalls().find((c) => c.export === ui.export.value);
    if (call) {
      ui.args.value = call.args;
      ui.input.value = call.input ?? '';
    }
  });
  ui.compile.addEventListener('click', () => void doCompile());
  ui.run.addEventListener('click', () => void doRun(false));
  ui.step.addEventListener('click', () => void doRun(true));
  ui.reset.addEventListener('click', doReset);
  ui.trace.tBodies[0].addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest('tr');
    if (tr?.dataset.step) markCurrent(Number(tr.dataset.step));
  });
  const gpu = await webgpuUsable();
  const opt = ui.provider.querySelector<HTMLOptionElement>('option[value=webgpu]');
  if (opt) {
    opt.disabled = !gpu;
    opt.textContent = gpu ? 'webgpu' : 'webgpu (not in this browser)';
  }
  const ortWasm = await ortFor('wasm');
  ui.backend.textContent = `ONNX Runtime Web ${ortWasm.env.versions.web ?? ''} · wasm${gpu ? ' · webgpu available' : ''}`;
  const wanted = new URLSearchParams(location.search).get('sample');
  pickSample(wanted && sampleById(wanted) ? wanted : 'wat/sum_to_n');
  setState('ready');
}

void init().catch((e: unknown) => {
  status(`the page failed to start: ${(e as Error).message}`, true);
  setState('error');
});
