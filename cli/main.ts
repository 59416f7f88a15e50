// cli/main.ts — the `wasmformer` command line (compile, run, check).
//
// Contract (scripts depend on it): exit 0 when the command did its job (a
// trap is a result, not an error), 1 with a one-line `error: ...` on stderr
// for compile or runtime errors, 2 for usage errors. Never a stack trace for
// bad input; output files are written atomically.

import { readFileSync, renameSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { compile } from '../index.js';
import { CompileError, RunError } from '../frontend/errors.js';
import { TransformerModel } from '../runtime/transformer.js';
import { checkProgram } from '../harness/check.js';

class UsageError extends Error {}

const HELP: Record<string, string> = {
  main: `wasmformer — compile WebAssembly into an exact float32 transformer (ONNX) and run it

Usage:
  wasmformer compile IN.wasm|IN.wat -o OUT.onnx [--export NAME]... [--json]
  wasmformer run MODEL.onnx --invoke NAME [--json] [--max-steps N] [--trace] [--provider P] -- ARG...
  wasmformer check IN.wasm|IN.wat [--export NAME]... [--cases N] [--seed S] [--max-steps N] [--provider P] [--json]

Run 'wasmformer COMMAND --help' for details.`,
  compile: `wasmformer compile IN.wasm|IN.wat -o OUT.onnx [--export NAME]... [--json]

Compiles a WebAssembly module (binary or text) into one self-describing ONNX model.
  -o, --output FILE   where to write the model (written atomically)
  --export NAME       compile only this export (repeatable); default: all exports
  --json              print {"layers","dModel","heads","params","mlpHidden","criticalPath",
                      "maxLive","naiveSlots","compileMs"} instead of a summary
  --explain           also print the IR and, layer by layer, the gadgets of every block`,
  run: `wasmformer run MODEL.onnx --invoke NAME [--json] [--max-steps N] [--trace] [--provider P] -- ARG...

Runs an export of a compiled model step by step on ONNX Runtime.
  --invoke NAME     the export to call
  ARG...            i32 arguments after '--', decimal, signed or unsigned (e.g. -1 or 4294967295)
  --max-steps N     stop with "step limit exceeded" after N steps (default 1000000)
  --trace           print each step's program counter and live variables (stderr)
  --provider P      ONNX Runtime execution provider (default cpu; e.g. cuda when installed)
  --evict           keep one memory row per address in the KV cache (same results, faster
                    on long store-heavy runs)
  --json            print {"results":[...],"steps":N,"trap":null|"message"}
Exit status 0 when the program ran (a trap is a result).`,
  check: `wasmformer check IN.wasm|IN.wat [--export NAME]... [--cases N] [--seed S] [--max-steps N] [--provider P] [--json]

Compiles the module, then runs every export on N random argument tuples plus the edge
values (0, 1, -1, INT_MIN, INT_MAX) through the transformer, the IR interpreter and
natively (V8), comparing results, traps and final memory. Prints "N passed, M failed";
exits non-zero on any mismatch. A case still running after --max-steps (default 10000)
cannot run natively; its state after that many steps (block, arguments, memory) is compared
with the IR interpreter's instead. --cases defaults to 50, --seed to 1;
--provider picks the ONNX Runtime execution provider (default cpu).`,
};

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
  rest: string[];
}

function parseArgs(argv: string[], spec: Record<string, 'bool' | 'value'>): Parsed {
  const out: Parsed = { positional: [], flags: new Map(), rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const [k, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const kind = spec[k];
      if (!kind) throw new UsageError(`unknown option ${k}`);
      const list = out.flags.get(k) ?? [];
      if (kind === 'bool') list.push('true');
      else {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new UsageError(`${k} needs a value`);
        list.push(v);
      }
      out.flags.set(k, list);
    } else out.positional.push(a);
  }
  return out;
}

function intFlag(p: Parsed, k: string, def: number, min = 0): number {
  const v = p.flags.get(k)?.at(-1);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${k} expects an integer >= ${min}, got '${v}'`);
  return Number(v);
}

export function parseI32(s: string): number {
  if (!/^[-+]?\d+$/.test(s)) throw new UsageError(`argument '${s}' is not a decimal integer`);
  const n = Number(s);
  if (n < -2147483648 || n > 4294967295) throw new UsageError(`argument '${s}' does not fit in 32 bits`);
  return n | 0;
}

function readInput(path: string): Uint8Array {
  if (!existsSync(path)) throw new RunError(`cannot read '${path}': no such file`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new RunError(`cannot read '${path}': ${(e as Error).message}`);
  }
}

function writeAtomic(path: string, data: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    if (existsSync(tmp)) unlinkSync(tmp);
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunError(`cannot write '${path}': ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
}

function progress(done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

async function cmdCompile(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { '-o': 'value', '--output': 'value', '--export': 'value', '--json': 'bool', '--explain': 'bool', '--help': 'bool' });
  if (p.flags.has('--help')) return help('compile');
  if (p.positional.length !== 1) throw new UsageError('compile needs exactly one input file');
  const out = p.flags.get('-o')?.at(-1) ?? p.flags.get('--output')?.at(-1);
  if (!out) throw new UsageError('compile needs -o OUT.onnx');
  const input = p.positional[0];
  const m = await compile(readInput(input), { filename: input, exports: p.flags.get('--export'), explain: p.flags.has('--explain') });
  writeAtomic(out, m.onnx);
  if (m.explanation) console.log(m.explanation);
  const s = m.stats;
  if (p.flags.has('--json')) {
    const { layers, dModel, heads, params, mlpHidden, criticalPath, maxLive, naiveSlots, compileMs } = s;
    console.log(JSON.stringify({ layers, dModel, heads, params, mlpHidden, criticalPath, maxLive, naiveSlots, compileMs }));
  } else {
    console.log(`wrote ${out}: ${s.layers} layers (critical path ${s.criticalPath}), dModel ${s.dModel} (maxLive ${s.maxLive}, naive ${s.naiveSlots}), ${s.heads} heads, ${s.mlpHidden} MLP units, ${s.params} params, ${s.compileMs} ms`);
    console.log(`exports: ${m.layout.entries.map((e) => `${e.name}(${e.params}) -> ${e.results}`).join(', ') || '(none)'}`);
  }
  return 0;
}

async function cmdRun(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { '--invoke': 'value', '--json': 'bool', '--max-steps': 'value', '--trace': 'bool', '--provider': 'value', '--evict': 'bool', '--help': 'bool' });
  if (p.flags.has('--help')) return help('run');
  if (p.positional.length !== 1) throw new UsageError('run needs exactly one model file');
  const name = p.flags.get('--invoke')?.at(-1);
  if (!name) throw new UsageError('run needs --invoke NAME');
  const args = [...p.rest].map(parseI32);
  const maxSteps = intFlag(p, '--max-steps', 1_000_000, 1);
  const model = await TransformerModel.load(readInput(p.positional[0]), { provider: p.flags.get('--provider')?.at(-1) });
  const trace = p.flags.has('--trace')
    ? (ev: { step: number; pc: number; block: string; args: number[] }) =>
        process.stderr.write(`step ${ev.step}: pc=${ev.pc} ${ev.block} [${ev.args.join(', ')}]\n`)
    : undefined;
  const [o] = await model.runBatch(name, [args], [model.newMemory({ evict: p.flags.has('--evict') })], { maxSteps, trace });
  if (p.flags.has('--json')) console.log(JSON.stringify({ results: o.results, steps: o.steps, trap: o.trap }));
  else if (o.trap) console.log(`trap: ${o.trap} (after ${o.steps} steps)`);
  else console.log(`${o.results.join(' ')}${o.results.length ? '' : '(no results)'}\t(${o.steps} steps)`);
  return 0;
}

async function cmdCheck(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { '--export': 'value', '--cases': 'value', '--seed': 'value', '--max-steps': 'value', '--json': 'bool', '--provider': 'value', '--help': 'bool' });
  if (p.flags.has('--help')) return help('check');
  if (p.positional.length !== 1) throw new UsageError('check needs exactly one input file');
  const input = p.positional[0];
  const m = await compile(readInput(input), { filename: input, exports: p.flags.get('--export') });
  const model = await TransformerModel.load(m.onnx, { provider: p.flags.get('--provider')?.at(-1) });
  const report = await checkProgram(model, m.ir, m.wasm, {
    cases: intFlag(p, '--cases', 50),
    seed: intFlag(p, '--seed', 1),
    maxSteps: intFlag(p, '--max-steps', 10_000, 1),
    onProgress: p.flags.has('--json') ? undefined : progress,
  });
  if (p.flags.has('--json')) {
    console.log(JSON.stringify({ passed: report.passed, failed: report.failed, tooLong: report.tooLong, failures: report.cases.filter((c) => !c.ok) }));
  } else {
    for (const c of report.cases.filter((x) => !x.ok)) console.log(`FAIL ${c.export}(${c.args.join(', ')}): ${c.reason}`);
    if (report.tooLong) {
      console.log(`${report.tooLong} cases were still running after --max-steps steps: compared with the IR interpreter on that prefix only, not natively`);
    }
    console.log(`${report.passed} passed, ${report.failed} failed`);
  }
  return report.failed ? 1 : 0;
}

function help(cmd: string): number {
  console.log(HELP[cmd]);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'compile':
        return await cmdCompile(rest);
      case 'run':
        return await cmdRun(rest);
      case 'check':
        return await cmdCheck(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        return help('main');
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n(see 'wasmformer --help')\n`);
      return 2;
    }
    if (e instanceof CompileError || e instanceof RunError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`internal error: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}
