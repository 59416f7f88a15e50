// fuzz/diff.ts — one differential case through the three oracles: native WebAssembly (V8), the IR
// interpreter and the compiled transformer on ONNX Runtime.
//
// A case is a module, one export and a list of argument tuples invoked in order on ONE instance of
// each oracle (memory, globals and the page count persist between the calls, as in a WebAssembly
// instance). After every call the oracles must agree exactly: results or trap (by TrapCode), the
// whole memory (its size included), the globals, and the transformer must take as many steps as
// the IR interpreter runs blocks (it executes the compiled IR, `CompiledModel.ir`, block for block).
//
// The IR interpreter runs first and bounds everything else: native runs only a call the interpreter
// finished within `maxSteps`, and the transformer gets the interpreter's step count plus one, so no
// oracle can hang on a case (a minimizer's candidate may well loop forever). The result is `null`
// (agreement), a `DiffFinding` whose `kind` names what disagreed (the delta debugger keeps a
// candidate only when the kind stays the same), or, for a call the interpreter did not finish, a
// `too-long` finding.

import { compile, type CompiledModel } from '../index.js';
import { CompileError, TrapCode, trapCodeOf } from '../format/errors.js';
import { IRInstance, type InterpResult } from '../ir/interp.js';
import { NativeInstance, type NativeOutcome } from '../harness/native.js';
import { TransformerInstance, type Outcome } from '../runtime/transformer.js';

export interface DiffCase {
  /** The module (binary). */
  wasm: Uint8Array;
  /** The export every call invokes. */
  exportName: string;
  /** Argument tuples, invoked in order on one instance per oracle. */
  calls: number[][];
  /** The call depth of the transformer (compile's maxCallDepth) and of the IR interpreter. */
  callDepth: number;
}

export interface DiffOptions {
  /** Blocks the IR interpreter may run per call before the case counts as too long (default 20,000). */
  maxSteps?: number;
  /** Told what runs next (`compile`, `ir`, `native`, `transformer`): a time limit names the stage that hung. */
  onStage?: (stage: DiffStage) => void;
}

export type DiffStage = 'compile' | 'ir' | 'native' | 'transformer';

export interface DiffFinding {
  /**
   * What disagreed: `compile-error`, `crash:<stage>` (an exception that is not a result:
   * compile, ir, native or transformer), `hang:<stage>` and `memory:<stage>` (past the time or
   * heap limit of fuzz/diff_pool.ts), `too-long`, or `<oracle>:<aspect>` with oracle `ir`
   * (the IR interpreter against native) or `transformer` (against native; steps against the
   * IR interpreter) and aspect `results`, `trap`, `memory`, `globals` or `steps`.
   */
  kind: string;
  /** The message of a compile error or crash with numbers and locations blotted out (a minimized case keeps it). */
  signature: string;
  /** Which call disagreed (0-based; -1 when compiling failed). */
  call: number;
  /** For people: what each oracle said. */
  detail: string;
}

/** What one oracle observed after one call. */
export interface Observation {
  results: number[];
  trap: TrapCode | null;
  memory: Uint8Array;
  /** Exported globals by name (native sees only those). */
  globals: Record<string, number>;
  steps: number | null;
}

export const DEFAULT_DIFF_MAX_STEPS = 20_000;

/** The first line of a message with numbers, quoted names and the location suffix blotted out. */
export function signatureOf(message: string): string {
  return (message.split('\n')[0] ?? '')
    .replace(/\s*\((instruction|function|byte offset)[^)]*\)\s*$/, '')
    .replace(/'[^']*'|"[^"]*"/g, "'…'")
    .replace(/\b(0x[0-9a-f]+|\d+)\b/gi, '#');
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function crash(stage: string, e: unknown, call: number): DiffFinding {
  const message = describeError(e);
  const stack = e instanceof Error ? (e.stack ?? '').split('\n').slice(1, 4).join('\n') : '';
  return { kind: `crash:${stage}`, signature: signatureOf(message), call, detail: stack ? `${message}\n${stack}` : message };
}

const fmtOutcome = (o: Pick<Observation, 'results' | 'trap'>): string => (o.trap !== null ? `trap "${TrapCode[o.trap] ?? o.trap}"` : `[${o.results.join(', ')}]`);

function firstDifference(a: Uint8Array, b: Uint8Array): string | null {
  if (a.length !== b.length) return `${a.length} bytes against ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i}: ${a[i]} against ${b[i]}`;
  return null;
}

/** The first aspect in which `got` differs from `want` (results/trap, memory, globals), or null. */
function compare(oracle: 'ir' | 'transformer', got: Observation, want: Observation, call: number, args: number[]): DiffFinding | null {
  const at = `call ${call} (${args.join(', ')})`;
  const who = oracle === 'ir' ? 'IR interpreter' : 'transformer';
  if (got.trap !== want.trap) {
    return { kind: `${oracle}:trap`, signature: '', call, detail: `${at}: ${who} ${fmtOutcome(got)}, native ${fmtOutcome(want)}` };
  }
  if (got.results.join() !== want.results.join()) {
    return { kind: `${oracle}:results`, signature: '', call, detail: `${at}: ${who} ${fmtOutcome(got)}, native ${fmtOutcome(want)}` };
  }
  const d = firstDifference(got.memory, want.memory);
  if (d !== null) return { kind: `${oracle}:memory`, signature: '', call, detail: `${at}: ${who} memory differs from native at ${d}` };
  for (const [name, v] of Object.entries(want.globals)) {
    if (got.globals[name] !== v) {
      return { kind: `${oracle}:globals`, signature: '', call, detail: `${at}: global ${name} is ${got.globals[name]} in the ${who}, ${v} natively` };
    }
  }
  return null;
}

function fromNative(n: NativeOutcome, inst: NativeInstance, names: string[]): Observation {
  const globals: Record<string, number> = {};
  for (const g of names) {
    const v = inst.global(g);
    if (v !== undefined) globals[g] = v;
  }
  return { results: n.results, trap: n.trapCode, memory: n.memory, globals, steps: null };
}

function fromIR(r: InterpResult, inst: IRInstance, names: string[]): Observation {
  const globals: Record<string, number> = {};
  for (const g of names) {
    const v = inst.global(g);
    if (v !== undefined) globals[g] = v;
  }
  return { results: r.results, trap: r.trapCode, memory: r.memory.slice(), globals, steps: r.steps };
}

function fromTransformer(o: Outcome, inst: TransformerInstance, names: string[]): Observation {
  const globals: Record<string, number> = {};
  const values = inst.globals();
  inst.model.layout.globals.forEach((g, i) => {
    if (g.name !== null && names.includes(g.name)) globals[g.name] = values[i] as number;
  });
  const trap = o.trap === null ? null : (o.trapCode ?? trapCodeOf(o.trap));
  return { results: o.results, trap, memory: inst.memory(), globals, steps: o.steps };
}

/** Names of the module's exported globals (what native can see, so what is compared). */
function exportedGlobals(wasm: Uint8Array): string[] {
  return WebAssembly.Module.exports(new WebAssembly.Module(new Uint8Array(wasm))).filter((d) => d.kind === 'global').map((d) => d.name);
}

/** Runs `c` through the three oracles; null when they agree on every call. */
export async function runDiff(c: DiffCase, opts: DiffOptions = {}): Promise<DiffFinding | null> {
  const maxSteps = opts.maxSteps ?? DEFAULT_DIFF_MAX_STEPS;
  const stage = opts.onStage ?? (() => {});
  let m: CompiledModel;
  stage('compile');
  try {
    m = await compile(c.wasm, { filename: 'case.wasm', maxCallDepth: c.callDepth });
  } catch (e) {
    if (e instanceof CompileError) return { kind: 'compile-error', signature: signatureOf(e.message), call: -1, detail: e.message };
    return crash('compile', e, -1);
  }
  let native: NativeInstance;
  let ir: IRInstance;
  let tf: TransformerInstance;
  let names: string[];
  stage('native');
  try {
    names = exportedGlobals(m.wasm);
    native = await NativeInstance.create(m.wasm);
  } catch (e) {
    return crash('native', e, -1);
  }
  try {
    ir = new IRInstance(m.ir);
  } catch (e) {
    return crash('ir', e, -1);
  }
  stage('transformer');
  try {
    tf = await TransformerInstance.create(m.onnx);
  } catch (e) {
    return crash('transformer', e, -1);
  }
  for (let k = 0; k < c.calls.length; k++) {
    const args = c.calls[k] as number[];
    let irObs: Observation;
    stage('ir');
    try {
      const r = ir.invoke(c.exportName, args, { maxSteps, stopAtLimit: true, maxCallDepth: c.callDepth });
      if (r.truncated) return { kind: 'too-long', signature: '', call: k, detail: `call ${k} (${args.join(', ')}): the IR interpreter did not finish within ${maxSteps} steps` };
      irObs = fromIR(r, ir, names);
    } catch (e) {
      return crash('ir', e, k);
    }
    let natObs: Observation;
    stage('native');
    try {
      natObs = fromNative(native.invoke(c.exportName, args), native, names);
    } catch (e) {
      return crash('native', e, k);
    }
    const irBad = compare('ir', irObs, natObs, k, args);
    if (irBad) return irBad;
    let tObs: Observation;
    stage('transformer');
    try {
      const o = await tf.invoke(c.exportName, args, { maxSteps: (irObs.steps ?? 0) + 1, stopAtLimit: true });
      if (o.truncated) {
        return { kind: 'transformer:steps', signature: '', call: k, detail: `call ${k} (${args.join(', ')}): the transformer is still running after ${o.steps} steps; the IR interpreter finished in ${irObs.steps}` };
      }
      tObs = fromTransformer(o, tf, names);
    } catch (e) {
      return crash('transformer', e, k);
    }
    const tBad = compare('transformer', tObs, natObs, k, args);
    if (tBad) return tBad;
    if (tObs.steps !== irObs.steps) {
      return { kind: 'transformer:steps', signature: '', call: k, detail: `call ${k} (${args.join(', ')}): the transformer took ${tObs.steps} steps, the IR interpreter ${irObs.steps}` };
    }
  }
  return null;
}

/** Whether `f` is a finding of the same kind as `like` (the delta debugger's test). */
export function sameKind(f: DiffFinding | null, like: DiffFinding): boolean {
  return f !== null && f.kind === like.kind && f.signature === like.signature;
}
