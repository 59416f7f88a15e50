// cli/main.ts — the `wasmformer` command line (compile, run, check, inspect, help, --version).
//
// Contract (scripts depend on it; wabt's and binaryen's tools are the model):
//  - exit 0 when the command did its job (a trap is a result, not an error), 1 for compile or
//    runtime errors, 2 for usage errors, 130/143 when interrupted; never a stack trace for bad input;
//  - errors on stderr start with the file: `sum.wat:3:12: error: ...` (then the source line and a
//    caret) or `sum.wasm:0x1a: error: ...`, maybe followed by one `hint:` line; names from the
//    module are escaped (cli/diagnostics.ts);
//  - `--json`: stdout is one JSON object in every outcome, errors included ({"error": {...}});
//    `--trace-json`: stderr is JSON Lines, one object per step (and the error, if any);
//  - `-` reads the input from stdin, `-o -` writes the model to stdout; outputs are written
//    atomically and only to regular files or new paths (cli/output.ts);
//  - progress on a terminal only (cli/progress.ts), never with --quiet or when piped.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { compile } from '../index.js';
import { CompileError, RunError } from '../format/errors.js';
import { WatError, locateWatOffset } from '../frontend/wat.js';
import { TransformerModel, type TraceEvent } from '../runtime/transformer.js';
import { checkProgram } from '../harness/check.js';
import { HintedRunError, UsageError, flag, intFlag, parseArgs, parseI32, parseRange, parseSamples, secondsFlag, type Parsed } from './args.js';
import { escapeText, formatJson, formatText, jsonText, messageWithoutOffset, reportOf, type ErrorReport } from './diagnostics.js';
import { checkOutputPath, writeAtomic, writeStdout } from './output.js';
import { progress } from './progress.js';
import { checkProvider } from './providers.js';
import { HEAP_BASE_EXPORT, INPUT_ARG, inputImage, resolveArgs } from '../format/io.js';
import { readInspect } from '../format/inspect.js';
import { renderInspectHtml } from './inspect_html.js';
import { DEFAULT_TRACE_HTML_STEPS, renderTraceHtml, traceJsonOf, TraceSampler } from './trace_html.js';
import type { InspectInfo } from '../format/inspect.js';
import { LOOKUP_KINDS, type LookupKind } from '../format/memory.js';

/** An --input-at address: a decimal or 0x hex byte address. */
function parseAddress(text: string): number {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text) || Number(text) > 0xffffffff) throw new UsageError(`--input-at needs a byte address (decimal or 0x hex), not '${text}'`);
  return Number(text);
}

const DEFAULT_CHECK_SECONDS = 60;

/** Flags that shape the compiled model (compile and check). */
const BACKEND_FLAGS = { '--dense': 'bool', '--max-layers': 'value', '--max-stores': 'value', '--max-call-depth': 'value', '--lookup': 'value' } as const;

/** --lookup KIND (format/memory.ts LookupKind). */
function lookupFlag(p: Parsed): LookupKind | undefined {
  const v = flag(p, '--lookup');
  if (v === undefined) return undefined;
  if (!(LOOKUP_KINDS as readonly string[]).includes(v)) throw new UsageError(`--lookup expects ${LOOKUP_KINDS.join(' or ')}, got '${v}'`);
  return v as LookupKind;
}

function backendOptions(p: Parsed) {
  const num = (k: string) => (p.flags.has(k) ? intFlag(p, k, 0, 1) : undefined);
  return { routing: p.flags.has('--dense') ? ('onehot' as const) : ('gather' as const), maxLayers: num('--max-layers'), maxStores: num('--max-stores'), maxCallDepth: num('--max-call-depth'), lookup: lookupFlag(p) };
}

const HELP: Record<string, string> = {
  main: `wasmformer — compile WebAssembly into an exact float32 transformer (ONNX) and run it

Usage:
  wasmformer compile IN.wasm|IN.wat|- -o OUT.onnx|- [--export NAME]... [--json] [--explain]
  wasmformer run MODEL.onnx|- --invoke NAME [--json] [--max-steps N] [--trace|--trace-json] [--trace-html F] [--provider P] -- ARG...
  wasmformer check IN.wasm|IN.wat|- [--export NAME]... [--range LO:HI]... [--cases N] [--time-limit S] [--json]
  wasmformer inspect MODEL.onnx|- -o REPORT.html|-
  wasmformer help COMMAND
  wasmformer --version

'-' is standard input (or, for -o, standard output). --quiet hides progress on a terminal.
Run 'wasmformer help COMMAND' for details.`,
  compile: `wasmformer compile IN.wasm|IN.wat|- -o OUT.onnx|- [--export NAME]... [--json] [--explain]

Compiles a WebAssembly module (binary or text; '-' reads standard input) into one
self-describing ONNX model.
  -o, --output FILE   where to write the model: a new path or a regular file (written
                      atomically); '-' writes it to standard output
  --export NAME       compile only this export (repeatable); default: all exports
  --json              print {"layers","dModel","heads","params","mlpHidden","criticalPath",
                      "maxLive","naiveSlots","compileMs"} (plus "explanation" with --explain)
  --explain           also print the IR and, layer by layer, the gadgets of every block
  --dense             emit plain dense matrices routed by a one-hot input (small programs;
                      the default routes each step to its block's sparse expert by pc)
  --max-layers N      split basic blocks needing more layers into several steps (default 20)
  --max-stores N      split basic blocks with more stores (default 32)
  --max-call-depth N  calls deeper than N trap "call stack exhausted" (default 1024)
  --lookup KIND       how a memory lookup finds the newest write: unique (default: one
                      attention head a byte; the runtime keeps one KV-cache row per address)
                      or timed (two heads a byte, ordered by write time: runs with --no-evict)
  --no-inspect-info   leave out the metadata 'wasmformer inspect' draws (a few percent of
                      the model: slot charts, gadget roles, map densities, the IR)
  --quiet             print nothing on success`,
  run: `wasmformer run MODEL.onnx|- --invoke NAME [--input TEXT|--input-file F] [--json] [--max-steps N]
                   [--trace|--trace-json] [--trace-html FILE] [--provider P] -- ARG...

Runs an export of a compiled model step by step on ONNX Runtime. A program that imports
env.output_byte (C's putchar) prints its output on stdout as it runs (the summary goes
to stderr).
  --invoke NAME     the export to call
  ARG...            i32 arguments after '--', decimal, signed or unsigned (e.g. -1 or 4294967295),
                    or @input: the address the input was written at
  --input TEXT      write TEXT (UTF-8) and a NUL into linear memory before the call, at the
                    exported global __heap_base (C: void compute(const char *input) runs as
                    --invoke compute --input "7" -- @input)
  --input-file F    the same with the bytes of file F (- for standard input)
  --input-at ADDR   write the input at byte address ADDR instead of __heap_base
  --max-steps N     stop with "step limit exceeded" after N steps (default 1000000)
  --trace           print each step's program counter and live variables (stderr)
  --trace-json      the same as JSON Lines on stderr, one object per step: {"step","pc","block",
                    "args","pos","globals","depth","next","trap","out","writes","reads"}: writes
                    are [address, byte]; reads are the lookup heads with the rows their attention
                    weighs (DESIGN.md §15)
  --trace-html FILE write the trace as one self-contained HTML page (no network): per step the
                    block, live values, memory writes and reads with addresses, and each lookup
                    head's attention weights, with step-through controls; a new path or a
                    regular file (written atomically), also when the run stops with an error
  --trace-html-steps N  steps the page keeps (default ${DEFAULT_TRACE_HTML_STEPS}): of a longer run the first
                    half, the last quarter and an even sample in between
  --provider P      ONNX Runtime execution provider (default cpu; cuda needs its binaries:
                    ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)
  --no-evict        keep every memory row in the KV cache (by default a write replaces the
                    row of its address: same results, a flat cache on store-heavy loops);
                    only for models compiled with --lookup timed
  --json            print {"results":[...],"steps":N,"trap":null|"message"} ("output":"..." with output)
  --quiet           no progress line (shown on a terminal for runs past a second)
Exit status 0 when the program ran (a trap is a result).`,
  check: `wasmformer check IN.wasm|IN.wat|- [--export NAME]... [--range LO:HI]... [--args-file FILE]
                 [--cases N] [--seed S] [--max-steps N] [--time-limit S] [--provider P] [--json]

Compiles the module, then runs every export on N random argument tuples plus the edge
values (0, 1, -1, INT_MIN, INT_MAX, clamped into the ranges) through the transformer, the IR
interpreter and natively (V8), comparing results, traps and final memory. Prints
"N passed, M failed"; exits 1 on any mismatch.
  --range LO:HI     signed inclusive range of the next parameter (repeat in parameter order;
                    later parameters use the last range, so one --range covers all);
                    default: any i32 — use a range for loop counters
  --args-file FILE  extra cases, one per line: 'ARG...' or 'EXPORT: ARG...' ('#' comments)
  --cases N         random tuples per export (default 50); --seed S (default 1)
  --max-steps N     per case (default 10000); a case still running then is compared with the
                    IR interpreter on that prefix (block, arguments, memory), not natively
  --time-limit S    start no new batch of cases after S seconds (default ${DEFAULT_CHECK_SECONDS}); the
                    summary says how many of the planned cases ran
  --provider P      ONNX Runtime execution provider (default cpu)
  --quiet           no progress line (shown on a terminal)`,
  inspect: `wasmformer inspect MODEL.onnx|- -o REPORT.html|-

Writes one self-contained HTML page (no network; open it from disk) that shows inside a
compiled model: its dimensions against their lower bounds, and per block (expert) which
value sits in which residual slot at every sublayer, each attention head's and MLP node's
role, a density grid of every linear map, and the block's IR linked to its slots.
It reads only the model file (the metadata compile embeds unless --no-inspect-info).
  -o, --output FILE   where to write the page: a new path or a regular file (written
                      atomically); '-' writes it to standard output
  --quiet             print nothing on success`,
};

/** What main() knows about the input, for locating an error in it. */
interface InputContext {
  file?: string;
  text?: string; // the input as text, when it is WAT
}

function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wasmformer' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate (sources run from cli/, the build from dist/cli/)
    }
  }
  return 'unknown';
}

const STDIN_NAME = '<stdin>';

function readInput(path: string, ctx?: InputContext): Uint8Array {
  const name = path === '-' ? STDIN_NAME : path;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new RunError(`cannot read '${name}': ${why}`);
  }
  if (ctx) {
    ctx.file = name;
    if (!isWasmBinary(bytes)) ctx.text = new TextDecoder().decode(bytes);
  }
  return bytes;
}

const isWasmBinary = (b: Uint8Array) => b[0] === 0x00 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;

function quiet(p: Parsed): boolean {
  return p.flags.has('--quiet');
}

async function cmdCompile(argv: string[], ctx: InputContext): Promise<number> {
  const p = parseArgs(argv, {
    '-o': 'value', '--output': 'value', '--export': 'value', '--json': 'bool', '--explain': 'bool', '--quiet': 'bool', '--help': 'bool', '--no-inspect-info': 'bool', ...BACKEND_FLAGS,
  });
  if (p.flags.has('--help')) return help('compile');
  if (p.positional.length !== 1) throw new UsageError(p.positional.length ? `compile takes one input file, got ${p.positional.length}` : 'compile needs an input file (or - for standard input)');
  const out = flag(p, '-o', '--output');
  if (!out) throw new UsageError('compile needs -o OUT.onnx (or -o - for standard output)');
  const json = p.flags.has('--json');
  if (out === '-' && json) throw new UsageError("-o - and --json both want standard output; write the model to a file");
  if (out !== '-') checkOutputPath(out);
  const input = p.positional[0];
  const bytes = readInput(input, ctx);
  const m = await compile(bytes, { filename: ctx.file, exports: p.flags.get('--export'), explain: p.flags.has('--explain'), inspectInfo: !p.flags.has('--no-inspect-info'), ...backendOptions(p) });
  if (out === '-') await writeStdout(m.onnx);
  else await writeAtomic(out, m.onnx);
  const s = m.stats;
  if (json) {
    const { layers, dModel, heads, params, mlpHidden, criticalPath, maxLive, naiveSlots, compileMs } = s;
    const explanation = m.explanation === undefined ? {} : { explanation: m.explanation };
    console.log(jsonText({ layers, dModel, heads, params, mlpHidden, criticalPath, maxLive, naiveSlots, compileMs, ...explanation }));
    return 0;
  }
  // with -o -, stdout is the model: the summary goes to stderr
  const say = (line: string) => (out === '-' ? process.stderr.write(`${line}\n`) : console.log(line));
  if (m.explanation) say(m.explanation.split('\n').map((l) => escapeText(l)).join('\n'));
  if (!quiet(p)) {
    say(`wrote ${escapeText(out === '-' ? '<stdout>' : out)}: ${s.layers} layers (critical path ${s.criticalPath}), dModel ${s.dModel} (maxLive ${s.maxLive}, naive ${s.naiveSlots}), ${s.heads} heads, ${s.mlpHidden} MLP units, ${s.params} params, ${s.compileMs} ms`);
    say(`exports: ${m.layout.entries.map((e) => `${escapeText(e.name)}(${e.params}) -> ${e.results}`).join(', ') || '(none)'}`);
  }
  return 0;
}

/** A model file that is really a WebAssembly module (binary or text): explain instead of failing in ONNX. */
function refuseModule(file: string, bytes: Uint8Array, then: 'run' | 'inspect' = 'run'): void {
  const wat = /\.(wat|wast)$/i.test(file) || /^\s*(\(|;;)/.test(new TextDecoder().decode(bytes.subarray(0, 64)));
  if (!isWasmBinary(bytes) && !/\.wasm$/i.test(file) && !wat) return;
  const name = file === STDIN_NAME ? 'IN' : file;
  throw new HintedRunError(
    `${file} is a WebAssembly module, not a compiled model`,
    then === 'run'
      ? `compile it first: wasmformer compile ${name} -o model.onnx, then run model.onnx (or 'wasmformer check ${name}' to test it)`
      : `compile it first: wasmformer compile ${name} -o model.onnx, then inspect model.onnx`,
  );
}

async function loadModel(bytes: Uint8Array, provider: string | undefined): Promise<TransformerModel> {
  if (provider && provider !== 'cpu') checkProvider(provider);
  return TransformerModel.load(bytes, { provider });
}

async function cmdRun(argv: string[]): Promise<number> {
  const p = parseArgs(argv, {
    '--invoke': 'value', '--json': 'bool', '--max-steps': 'value', '--trace': 'bool', '--trace-json': 'bool',
    '--provider': 'value', '--evict': 'bool', '--no-evict': 'bool', '--quiet': 'bool', '--help': 'bool',
    '--input': 'value', '--input-file': 'value', '--input-at': 'value', '--trace-html': 'value', '--trace-html-steps': 'value',
  });
  if (p.flags.has('--help')) return help('run');
  if (p.positional.length === 0) throw new UsageError('run needs a model file (or - for standard input)');
  if (p.positional.length > 1) {
    const extra = p.positional.slice(1);
    const looksLikeArgs = extra.every((a) => /^[-+]?\d+$/.test(a));
    throw new UsageError(
      `run takes one model file, got ${p.positional.length} (${extra.map((a) => `'${a}'`).join(', ')} after it)`,
      looksLikeArgs ? `put the program's arguments after '--': wasmformer run ${p.positional[0]} --invoke ${flag(p, '--invoke') ?? 'NAME'} -- ${extra.join(' ')}` : undefined,
    );
  }
  const name = flag(p, '--invoke');
  if (!name) throw new UsageError('run needs --invoke NAME');
  if (p.flags.has('--trace') && p.flags.has('--trace-json')) throw new UsageError('--trace and --trace-json: choose one');
  const ioArgs = p.rest.map((a) => (a === INPUT_ARG ? INPUT_ARG : parseI32(a)));
  const maxSteps = intFlag(p, '--max-steps', 1_000_000, 1);
  if (flag(p, '--input') !== undefined && flag(p, '--input-file') !== undefined) throw new UsageError('--input and --input-file: choose one');
  if (p.positional[0] === '-' && flag(p, '--input-file') === '-') throw new UsageError('the model and --input-file cannot both be standard input');
  const traceHtml = flag(p, '--trace-html');
  if (traceHtml === '-') throw new UsageError('--trace-html needs a file name (standard output carries the results)');
  if (p.flags.has('--trace-html-steps') && traceHtml === undefined) throw new UsageError('--trace-html-steps needs --trace-html FILE');
  const keepSteps = intFlag(p, '--trace-html-steps', DEFAULT_TRACE_HTML_STEPS, 4);
  if (traceHtml !== undefined) checkOutputPath(traceHtml, { stdout: false });
  const inputFile = flag(p, '--input-file');
  const input = inputFile !== undefined ? readInput(inputFile) : flag(p, '--input');
  const inputAtFlag = flag(p, '--input-at');
  const file = p.positional[0] === '-' ? STDIN_NAME : p.positional[0];
  const bytes = readInput(p.positional[0]);
  refuseModule(file, bytes);
  const model = await loadModel(bytes, flag(p, '--provider'));
  const memory = model.newMemory({ evict: !p.flags.has('--no-evict') });
  const inputAt = inputAtFlag !== undefined ? parseAddress(inputAtFlag) : model.inputAddress();
  if (input !== undefined) {
    if (inputAt === null) throw new UsageError(`the model has no ${HEAP_BASE_EXPORT} export to place the input at`, 'give the address with --input-at ADDR');
    if (!model.layout.memory) throw new UsageError('the model has no linear memory to write the input into');
    memory.write(model.layout.memory, inputAt, inputImage(input));
  }
  const args = resolveArgs(ioArgs, inputAt, name);
  const bar = progress(process.stderr, { unit: 'steps', quiet: quiet(p) || p.flags.has('--trace') || p.flags.has('--trace-json'), delayMs: 1000 });
  const print = p.flags.has('--trace')
    ? (ev: TraceEvent) => process.stderr.write(`step ${ev.step}: pc=${ev.pc} ${escapeText(ev.block)} [${ev.args.join(', ')}]\n`)
    : p.flags.has('--trace-json')
      ? (ev: TraceEvent) => process.stderr.write(`${jsonText(traceJsonOf(ev))}\n`)
      : process.stderr.isTTY && !quiet(p)
        ? (ev: TraceEvent) => bar.update(ev.step)
        : undefined;
  const sampler = traceHtml !== undefined ? new TraceSampler(keepSteps, model.layout.experts.length) : null;
  const trace = sampler
    ? (ev: TraceEvent) => {
        sampler.add(traceJsonOf(ev));
        print?.(ev);
      }
    : print;
  const traceDetail = sampler !== null || p.flags.has('--trace-json');
  const json = p.flags.has('--json');
  // the program's output goes to stdout as it is written (collected for --json)
  const onOutput = model.layout.output && !json ? (_row: number, byte: number) => void process.stdout.write(Uint8Array.of(byte)) : undefined;
  let o;
  const writeTrace = async (outcome: { results: number[]; trap: string | null; steps: number; output: Uint8Array; error?: string }) => {
    if (!sampler || traceHtml === undefined) return;
    let inspect: InspectInfo | null = null;
    try {
      inspect = readInspect(bytes, file).info;
    } catch {
      // a model compiled with --no-inspect-info: the page names no heads and shows no IR
    }
    const sample = sampler.result();
    const page = renderTraceHtml({
      title: file === STDIN_NAME ? 'model' : basename(file),
      invoke: name,
      args,
      argText: ioArgs.map((a, i) => (a === INPUT_ARG ? `@input = ${args[i]}` : String(a))),
      input: input === undefined ? undefined : typeof input === 'string' ? input : new TextDecoder().decode(input),
      layout: model.layout,
      inspect,
      sample,
      outcome: { results: outcome.results, trap: outcome.trap, steps: outcome.steps, output: new TextDecoder().decode(outcome.output), ...(outcome.error ? { error: outcome.error } : {}) },
    });
    const data = new TextEncoder().encode(page);
    await writeAtomic(traceHtml, data, { stdout: false });
    // after an error stderr holds only the error (and its hint); with --trace-json only JSON Lines
    if (!quiet(p) && !json && !p.flags.has('--trace-json') && !outcome.error) process.stderr.write(`wrote ${escapeText(traceHtml)}: ${sample.steps.length} of ${sample.total} steps, ${data.length} bytes\n`);
  };
  try {
    [o] = await model.runBatch(name, [args], [memory], { maxSteps, trace, traceDetail, onOutput });
  } catch (e) {
    bar.done();
    if (e instanceof RunError && sampler) {
      const total = sampler.result().total;
      await writeTrace({ results: [], trap: null, steps: total, output: new Uint8Array(0), error: e.message });
    }
    if (e instanceof RunError && /^step limit exceeded/.test(e.message)) throw new HintedRunError(e.message, `raise it with --max-steps N (now ${maxSteps})`);
    throw e;
  } finally {
    bar.done();
  }
  await writeTrace(o);
  if (json) {
    const output = model.layout.output ? { output: new TextDecoder().decode(o.output) } : {};
    console.log(jsonText({ results: o.results, steps: o.steps, trap: o.trap, ...output }));
  } else if (model.layout.output) {
    // stdout holds exactly the program's output; the summary goes to stderr
    if (!quiet(p) || o.trap) {
      const what = o.trap ? `trap: ${o.trap}` : o.results.length ? o.results.join(' ') : 'done';
      process.stderr.write(`${o.output.length && o.output[o.output.length - 1] !== 10 ? '\n' : ''}${what} (${o.steps} steps, ${o.output.length} bytes of output)\n`);
    }
  } else if (o.trap) console.log(`trap: ${o.trap} (after ${o.steps} steps)`);
  else console.log(`${o.results.join(' ')}${o.results.length ? '' : '(no results)'}\t(${o.steps} steps)`);
  return 0;
}

async function cmdInspect(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { '-o': 'value', '--output': 'value', '--quiet': 'bool', '--help': 'bool' });
  if (p.flags.has('--help')) return help('inspect');
  if (p.positional.length !== 1) throw new UsageError(p.positional.length ? `inspect takes one model file, got ${p.positional.length}` : 'inspect needs a model file (or - for standard input)');
  const out = flag(p, '-o', '--output');
  if (!out) throw new UsageError('inspect needs -o REPORT.html (or -o - for standard output)');
  if (out !== '-') checkOutputPath(out);
  const file = p.positional[0] === '-' ? STDIN_NAME : p.positional[0];
  const bytes = readInput(p.positional[0]);
  refuseModule(file, bytes, 'inspect');
  const { layout, info, entryBytes } = readInspect(bytes, file);
  const title = file === STDIN_NAME ? 'model' : basename(file);
  const page = new TextEncoder().encode(renderInspectHtml({ title, modelBytes: bytes.length, inspectBytes: entryBytes, layout, info }));
  if (out === '-') await writeTextStdout(page);
  else await writeAtomic(out, page);
  if (!quiet(p) && out !== '-') console.log(`wrote ${escapeText(out)}: ${info.experts.length} block${info.experts.length === 1 ? '' : 's'}, ${page.length} bytes`);
  return 0;
}

/** Writes a text document (the inspect page) to standard output. */
function writeTextStdout(data: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(new RunError(`cannot write '-': ${e.message}`)) : resolve())));
}

function samplesFor(p: Parsed, model: TransformerModel, names: string[]): Record<string, number[][]> {
  const file = flag(p, '--args-file');
  if (!file) return {};
  const lines = parseSamples(new TextDecoder().decode(readInput(file)), file);
  const out: Record<string, number[][]> = {};
  for (const n of names) {
    const params = model.entry(n).params;
    out[n] = lines.filter((l) => (l.export === null ? l.args.length === params : l.export === n)).map((l) => l.args);
    for (const l of lines) {
      if (l.export === n && l.args.length !== params) throw new UsageError(`${file}: export '${n}' takes ${params} arguments, a case gives ${l.args.length}`);
    }
  }
  for (const l of lines) if (l.export !== null && !names.includes(l.export)) throw new UsageError(`${file}: no export named '${l.export}' is checked`);
  return out;
}

async function cmdCheck(argv: string[], ctx: InputContext): Promise<number> {
  const p = parseArgs(argv, {
    '--export': 'value', '--cases': 'value', '--seed': 'value', '--max-steps': 'value', '--json': 'bool', '--provider': 'value',
    '--range': 'value', '--args-file': 'value', '--time-limit': 'value', '--quiet': 'bool', '--help': 'bool', ...BACKEND_FLAGS,
  });
  if (p.flags.has('--help')) return help('check');
  if (p.positional.length !== 1) throw new UsageError(p.positional.length ? `check takes one input file, got ${p.positional.length}` : 'check needs an input file (or - for standard input)');
  const ranges = (p.flags.get('--range') ?? []).map(parseRange);
  const cases = intFlag(p, '--cases', 50);
  const seed = intFlag(p, '--seed', 1);
  const maxSteps = intFlag(p, '--max-steps', 10_000, 1);
  const timeLimit = secondsFlag(p, '--time-limit', DEFAULT_CHECK_SECONDS);
  const bytes = readInput(p.positional[0], ctx);
  const m = await compile(bytes, { filename: ctx.file, exports: p.flags.get('--export'), ...backendOptions(p) });
  const model = await loadModel(m.onnx, flag(p, '--provider'));
  const names = p.flags.get('--export') ?? model.layout.entries.map((e) => e.name);
  const bar = progress(process.stderr, { unit: 'cases', quiet: quiet(p) });
  let report;
  try {
    report = await checkProgram(model, m.ir, m.wasm, {
      exports: names,
      cases,
      seed,
      maxSteps,
      ranges,
      extraArgs: samplesFor(p, model, names),
      timeLimitMs: timeLimit * 1000,
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.done();
  }
  const ran = report.cases.length;
  if (p.flags.has('--json')) {
    const failures = report.cases.filter((c) => !c.ok);
    console.log(jsonText({ passed: report.passed, failed: report.failed, tooLong: report.tooLong, ran, planned: report.planned, timedOut: report.timedOut, failures }));
  } else {
    for (const c of report.cases.filter((x) => !x.ok)) console.log(`FAIL ${escapeText(c.export)}(${c.args.join(', ')}): ${escapeText(c.reason ?? '')}`);
    if (report.tooLong) {
      console.log(`${report.tooLong} cases were still running after ${maxSteps} steps: compared with the IR interpreter on that prefix only, not natively (give loop counters a --range, or raise --max-steps)`);
    }
    if (report.timedOut) console.log(`time limit: ran ${ran} of ${report.planned} planned cases in ${timeLimit} s (raise it with --time-limit)`);
    console.log(`${report.passed} passed, ${report.failed} failed`);
  }
  return report.failed ? 1 : 0;
}

function help(cmd: string): number {
  const text = HELP[cmd];
  if (text === undefined) throw new UsageError(`no help for '${cmd}'; commands: compile, run, check, inspect`);
  console.log(text);
  return 0;
}

/** The error report for `e`, located in the input where it can be. */
async function locate(e: unknown, ctx: InputContext): Promise<ErrorReport> {
  const r = reportOf(e);
  if (!(e instanceof CompileError) || ctx.file === undefined) return r;
  r.file = ctx.file;
  if (e instanceof WatError) {
    const source = ctx.text?.split('\n')[e.line - 1]?.replace(/\r$/, '');
    return { ...r, line: e.line, column: e.column, source, message: e.reason };
  }
  if (e.info.offset === undefined) return r;
  if (ctx.text === undefined) return { ...r, message: messageWithoutOffset(e) };
  const at = await locateWatOffset(ctx.text, e.info.offset, ctx.file);
  if (!at) return r; // keep the offset (of the assembled binary) in the message
  return { ...r, message: messageWithoutOffset(e), line: at.line, column: at.column, source: at.lineText };
}

export async function main(argv: string[]): Promise<number> {
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const json = own.includes('--json');
  const traceJson = own.includes('--trace-json');
  const ctx: InputContext = {};
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'compile':
        return await cmdCompile(rest, ctx);
      case 'run':
        return await cmdRun(rest);
      case 'check':
        return await cmdCheck(rest, ctx);
      case 'inspect':
        return await cmdInspect(rest);
      case '--version':
      case '-V':
      case 'version':
        console.log(json ? jsonText({ version: version() }) : `wasmformer ${version()}`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
        return help('main');
      case 'help':
        return help(rest[0] ?? 'main');
      default:
        if (/\.(wasm|wat|wast|onnx)$/i.test(cmd)) {
          throw new UsageError(`unknown command '${cmd}'`, `name the command first: wasmformer ${/\.onnx$/i.test(cmd) ? 'run' : 'compile'} ${cmd} ...`);
        }
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    const r = await locate(e, ctx);
    if (json) process.stdout.write(formatJson(r));
    else if (traceJson) process.stderr.write(formatJson(r));
    else process.stderr.write(formatText(r));
    return r.kind === 'usage' ? 2 : 1;
  }
}
