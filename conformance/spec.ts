// conformance/spec.ts — runs one WebAssembly spec test script through wasmformer.
//
// Every command of the script (conformance/script.ts reads it) gets one verdict:
//  - assert_return / assert_trap / assert_exhaustion on a function whose arguments and
//    results are all i32: the module is compiled with the library's `compile` and run with
//    `instantiate(...).invoke`, one library instance per module command, so memory and
//    globals carry over between commands as in the spec's module/register/action sequence.
//    The script's expected values are the oracle: a result that differs, a trap that is
//    missing or different, or a run error is "failed". V8 runs the original module beside
//    it (harness/native.ts) to keep the state in step and to say, in a failure, what native
//    gives. assert_exhaustion expects the trap "call stack exhausted".
//  - assert_invalid / assert_malformed: `compile` must throw a CompileError ("passed");
//    accepting the module, or throwing anything else, is "failed".
//  - anything else is "unsupported" with a reason: a non-i32 signature, a module (or the
//    export) that `compile` rejects (the CompileError's first line, without its location),
//    a `get` action, a command kind the library has no counterpart for.
// A module `compile` rejects is compiled again for the exports it accepts on their own
// (`exports: [...]`; screened by the frontend first, then by the whole compiler when the
// backend still rejects them together), so one i64 function does not hide the i32 ones.
// A call that cannot go through the transformer still runs natively (reference arguments
// included: `ref.extern N` is one JS object per N); when it changes only the memory, the
// transformer's memory is made V8's (TransformerInstance.writeMemory) and the module's later
// asserts still run; when it changes an exported global or the memory size, our instance no
// longer matches and the module's later asserts are "unsupported: state diverged", except on
// functions whose IR touches no memory, global or callee. A compiler that throws something
// other than a CompileError is a failure of every assert that needed the module.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, instantiate, MAX_GROW_PAGES, type CompiledModel, type TransformerInstance } from '../index.js';
import { compileToIR } from '../frontend/index.js';
import { watToWasm } from '../frontend/wat.js';
import { CompileError, Trap, TRAP_MESSAGES, TrapCode } from '../format/errors.js';
import { NativeInstance, nativeTrapAgrees, type NativeCall } from '../harness/native.js';
import { i32Of, nonI32Signature, toNative, type ExternRefs, type SpecAction, type SpecCommand, type SpecScript } from './script.js';

/** Per invocation; the spec scripts need at most a few thousand steps, so a runaway fails fast. */
export const DEFAULT_MAX_STEPS = 100_000;

export type Verdict =
  | { kind: 'passed' }
  | { kind: 'failed'; detail: string }
  | { kind: 'unsupported'; reason: string };

export interface ScriptReport {
  script: string;
  passed: number;
  failed: number;
  unsupported: number;
  /** Unsupported asserts of i32 signature (the part the compiler is meant to cover). */
  unsupportedI32: number;
  /** assert_invalid / assert_malformed checked, and of those passed (included in passed/failed). */
  rejectChecks: number;
  rejectPassed: number;
  /** Reason (location-free) -> number of asserts. */
  reasons: Map<string, number>;
  /** The same for the unsupported asserts of i32 signature only. */
  reasonsI32: Map<string, number>;
  /** One line per failed command: "script:line command: detail". */
  failures: string[];
  /** Places where V8 disagrees with the script's expectation (a runner or V8 problem, not counted). */
  oracleNotes: string[];
  /** Calls that ran on V8 only and changed memory, whose memory the transformer then got from V8. */
  memoryCopies: number;
  /** Invocations that went through the transformer, and their steps. */
  invokes: number;
  steps: number;
  ms: number;
}

export interface RunScriptOptions {
  maxSteps?: number;
  /** Past this much time in a script, its remaining modules are not compiled and their asserts are unsupported. */
  timeBudgetMs?: number;
  /** Called after each command (progress display). */
  onCommand?: (done: number, total: number) => void;
}

// ---------------------------------------------------------------------------
// Reasons and outcomes

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.trim();
}

/**
 * A CompileError message as a reason to count: its first line without the list of what is
 * supported ("; wasmformer supports only ...") and without the location in parentheses, so
 * that the same cause in many functions counts as one reason.
 */
export function reasonOf(e: unknown): string {
  let s = firstLine(e);
  const semi = s.indexOf('; ');
  if (semi > 0) s = s.slice(0, semi);
  // locations: "(instruction i64.const, function f, byte offset 0x2a)", "(3 times, first at f+0x2a)"
  s = s.replace(/\s*\([^()]*(?:\boffset\b|0x[0-9a-f]|\bat\b|\bfunction\b)[^()]*\)/gi, '');
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

interface Outcome {
  results: number[];
  trap: string | null;
  steps: number;
}

const EXHAUSTED = TRAP_MESSAGES[TrapCode.CallStackExhausted];

type Expectation = { results: number[] } | { trap: string };

function describe(o: { results: number[]; trap: string | null }): string {
  return o.trap !== null ? `trap "${o.trap}"` : `[${o.results.join(', ')}]`;
}

function describeExpect(ex: Expectation): string {
  return 'trap' in ex ? `trap "${ex.trap}"` : `[${ex.results.join(', ')}]`;
}

/**
 * The spec matches trap messages by prefix: the actual message starts with the expected text
 * (for V8, `native`, its joint message for two call_indirect traps counts for either).
 */
function matches(o: { results: number[]; trap: string | null }, ex: Expectation, native = false): boolean {
  if ('trap' in ex) return o.trap !== null && (o.trap.startsWith(ex.trap) || (native && nativeTrapAgrees(o.trap, ex.trap)));
  return o.trap === null && o.results.length === ex.results.length && o.results.every((x, i) => (x | 0) === (ex.results[i]! | 0));
}

/** One call through the library: a result, a trap (returned or thrown as Trap), or an Error. */
async function invokeTransformer(inst: TransformerInstance, field: string, args: number[], maxSteps: number): Promise<Outcome | Error> {
  try {
    const o = await inst.invoke(field, args, { maxSteps });
    return { results: o.results.map((x) => x | 0), trap: o.trap ?? null, steps: o.steps };
  } catch (e) {
    if (e instanceof Trap) return { results: [], trap: e.message, steps: 0 };
    return e instanceof Error ? e : new Error(String(e));
  }
}

// ---------------------------------------------------------------------------
// Modules

type ExportStatus = { kind: 'compiled' } | { kind: 'unsupported'; reason: string } | { kind: 'crashed'; detail: string };

interface LiveModule {
  label: string; // NAME.K.wasm@line
  native: NativeInstance | null;
  instance: TransformerInstance | null;
  /** Status of each exported function; a name not here is not an exported function. */
  exports: Map<string, ExportStatus>;
  /** Why the module as a whole cannot run (no export compiled), or null. */
  moduleStatus: ExportStatus | null;
  /** Set once a call we could not run changed the native state. */
  diverged: string | null;
  /** Compiled exports that touch no memory, global or callee: they still run after a divergence. */
  stateFree: Set<string>;
  /** Compiled exports whose own code calls memory.grow. */
  grows: Set<string>;
}

type Imports = Record<string, Record<string, WebAssembly.ExportValue>>;

/** The `spectest` module the spec scripts import from. */
function spectestImports(): Imports {
  const noop = () => {};
  return {
    spectest: {
      print: noop, print_i32: noop, print_i64: noop, print_f32: noop, print_f64: noop, print_i32_f32: noop, print_f64_f64: noop,
      global_i32: new WebAssembly.Global({ value: 'i32', mutable: false }, 666),
      global_i64: new WebAssembly.Global({ value: 'i64', mutable: false }, 666n),
      global_f32: new WebAssembly.Global({ value: 'f32', mutable: false }, 666.6),
      global_f64: new WebAssembly.Global({ value: 'f64', mutable: false }, 666.6),
      table: new WebAssembly.Table({ initial: 10, maximum: 20, element: 'anyfunc' }),
      memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }),
    },
  };
}

/** Names of the functions a module exports (from V8, which also checks the module is valid). */
async function exportedFunctions(wasm: Uint8Array): Promise<string[] | null> {
  try {
    const mod = await WebAssembly.compile(new Uint8Array(wasm));
    return WebAssembly.Module.exports(mod).filter((d) => d.kind === 'function').map((d) => d.name);
  } catch {
    return null;
  }
}

/** A native call; null when V8 throws something that is not a trap (never fatal to the run). */
function callNative(n: NativeInstance, field: string, args: unknown[]): NativeCall | null {
  try {
    return n.call(field, args);
  } catch {
    return null;
  }
}

/** What a call could have changed natively: memory bytes and exported global values. */
function nativeState(n: NativeInstance): { memory: Uint8Array; globals: unknown[] } {
  const globals: unknown[] = [];
  for (const v of Object.values(n.exportValues())) if (v instanceof WebAssembly.Global) globals.push(v.value);
  return { memory: n.memory(), globals };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameGlobals(a: ReturnType<typeof nativeState>, b: ReturnType<typeof nativeState>): boolean {
  return a.globals.length === b.globals.length && a.globals.every((x, i) => Object.is(x, b.globals[i]));
}

/**
 * Make the transformer's memory equal to `image` (V8's, after a call the transformer could not
 * run) by writing the bytes that differ, run by run; false when that is not possible (another
 * size: the call grew the memory).
 */
function copyMemory(inst: TransformerInstance, image: Uint8Array): boolean {
  const ours = inst.memory();
  if (ours.length !== image.length) return false;
  try {
    for (let i = 0; i < image.length; i++) {
      if (ours[i] === image[i]) continue;
      let j = i;
      while (j < image.length && ours[j] !== image[j]) j++;
      inst.writeMemory(i, image.subarray(i, j));
      i = j;
    }
  } catch {
    return false;
  }
  return sameBytes(inst.memory(), image);
}

/** IR operations that may read or write state (memory, globals) or reach other functions. */
const STATEFUL_OP = /load|store|global|mem|grow|size|call/i;

/**
 * The exported functions of compiled IR that read no state: no memory or global access, no
 * call. Read defensively (op names only), so an IR that grows new operations stays safe:
 * anything unrecognised that mentions state counts as stateful, and a shape this does not
 * understand makes every function stateful.
 */
/** Exports whose own code calls memory.grow. */
function growingExports(ir: unknown): Set<string> {
  const out = new Set<string>();
  const funcs = (ir as { funcs?: Array<{ exportNames: string[]; blocks: Array<{ insts: Array<{ op: string }> }> }> }).funcs ?? [];
  for (const f of funcs) if (f.blocks.some((b) => b.insts.some((i) => i.op === 'memory_grow'))) for (const n of f.exportNames) out.add(n);
  return out;
}

function stateFreeExports(ir: unknown): Set<string> {
  const out = new Set<string>();
  try {
    const funcs = (ir as { funcs: Array<{ exportNames: string[]; blocks: Array<{ insts: Array<{ op: string }>; term: { op: string } }> }> }).funcs;
    const free = (op: unknown) => typeof op === 'string' && !STATEFUL_OP.test(op);
    for (const f of funcs) {
      // a call's callee may touch state: the terminators count too
      if (f.blocks.every((b) => free(b.term.op) && b.insts.every((i) => free(i.op)))) {
        for (const n of f.exportNames) out.add(n);
      }
    }
  } catch {
    out.clear();
  }
  return out;
}

/** Compile a module: whole, or else for the exports the frontend accepts one by one. */
interface CompiledForScript {
  instance: TransformerInstance | null;
  exports: Map<string, ExportStatus>;
  moduleStatus: ExportStatus | null;
  stateFree: Set<string>;
  grows: Set<string>;
}

async function compileModule(wasm: Uint8Array, filename: string, funcs: string[]): Promise<CompiledForScript> {
  const exports = new Map<string, ExportStatus>();
  const threw = (what: string, e: unknown): ExportStatus => ({ kind: 'crashed', detail: `${what} threw ${e instanceof Error ? e.name : typeof e}: ${firstLine(e)}` });
  const rejected = (e: unknown): ExportStatus => (e instanceof CompileError ? { kind: 'unsupported', reason: reasonOf(e) } : threw('compiler', e));
  const tryCompile = async (only?: string[]): Promise<CompiledModel | ExportStatus> => {
    try {
      return await compile(wasm, { filename, exports: only });
    } catch (e) {
      return rejected(e);
    }
  };
  /** The names `check` accepts one by one; the others get the reason it gave. */
  const screen = async (names: string[], check: (f: string) => Promise<unknown>): Promise<string[]> => {
    const keep: string[] = [];
    for (const f of names) {
      try {
        await check(f);
        keep.push(f);
      } catch (e) {
        exports.set(f, rejected(e));
      }
    }
    return keep;
  };
  const failAll = (names: string[], status: ExportStatus): CompiledForScript => {
    for (const f of names) exports.set(f, status);
    return { instance: null, exports, moduleStatus: status, stateFree: new Set(), grows: new Set() };
  };
  const finish = async (compiled: CompiledModel, names: string[]): Promise<CompiledForScript> => {
    let instance: TransformerInstance;
    try {
      instance = await instantiate(compiled);
    } catch (e) {
      return failAll(names, threw('instantiate', e));
    }
    for (const f of names) exports.set(f, { kind: 'compiled' });
    return { instance, exports, moduleStatus: null, stateFree: stateFreeExports(compiled.ir), grows: growingExports(compiled.ir) };
  };
  const isStatus = (x: CompiledModel | ExportStatus): x is ExportStatus => 'kind' in x;

  const whole = await tryCompile();
  if (!isStatus(whole)) return finish(whole, funcs);
  if (whole.kind === 'crashed' || funcs.length === 0) return failAll(funcs, whole);
  // The exports the frontend takes on their own, then (if the backend still rejects them
  // together) the ones the whole compiler takes on their own.
  let keep = await screen(funcs, (f) => compileToIR(wasm, { filename, exports: [f] }));
  if (keep.length === 0) return { instance: null, exports, moduleStatus: whole, stateFree: new Set(), grows: new Set() };
  let part = await tryCompile(keep);
  if (isStatus(part) && part.kind === 'unsupported' && keep.length > 1) {
    const reason = part;
    keep = await screen(keep, (f) => compile(wasm, { filename, exports: [f] }));
    part = keep.length > 0 ? await tryCompile(keep) : reason;
  }
  if (isStatus(part)) return failAll(keep, part);
  return finish(part, keep);
}

// ---------------------------------------------------------------------------
// The script

export async function runScript(script: SpecScript, opts: RunScriptOptions = {}): Promise<ScriptReport> {
  const started = performance.now();
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const rep: ScriptReport = {
    script: script.name, passed: 0, failed: 0, unsupported: 0, unsupportedI32: 0, rejectChecks: 0, rejectPassed: 0, reasons: new Map(), reasonsI32: new Map(),
    failures: [], oracleNotes: [], memoryCopies: 0, invokes: 0, steps: 0, ms: 0,
  };
  const imports = spectestImports();
  const externs: ExternRefs = new Map();
  const named = new Map<string, LiveModule>();
  let current: LiveModule | null = null;

  const record = (cmd: SpecCommand, what: string, v: Verdict, i32: boolean) => {
    if (v.kind === 'passed') rep.passed++;
    else if (v.kind === 'failed') {
      rep.failed++;
      rep.failures.push(`${script.name}:${cmd.line} ${what}: ${v.detail}`);
    } else {
      rep.unsupported++;
      rep.reasons.set(v.reason, (rep.reasons.get(v.reason) ?? 0) + 1);
      if (i32) {
        rep.unsupportedI32++;
        rep.reasonsI32.set(v.reason, (rep.reasonsI32.get(v.reason) ?? 0) + 1);
      }
    }
  };

  const readModule = async (cmd: SpecCommand): Promise<Uint8Array | string | Error> => {
    const file = join(script.dir, cmd.filename ?? '');
    try {
      if (cmd.filename?.endsWith('.wat') || cmd.module_type === 'text') return readFileSync(file, 'utf8');
      return new Uint8Array(readFileSync(file));
    } catch (e) {
      return new Error(`cannot read ${cmd.filename ?? '(no filename)'}: ${firstLine(e)}`);
    }
  };

  const loadModule = async (cmd: SpecCommand): Promise<LiveModule> => {
    const label = `${cmd.filename}@${cmd.line}`;
    const mod: LiveModule = { label, native: null, instance: null, exports: new Map(), moduleStatus: null, diverged: null, stateFree: new Set(), grows: new Set() };
    const input = await readModule(cmd);
    if (input instanceof Error) {
      mod.moduleStatus = { kind: 'crashed', detail: input.message };
      return mod;
    }
    let wasm: Uint8Array;
    try {
      wasm = typeof input === 'string' ? await watToWasm(input, cmd.filename) : input;
    } catch (e) {
      mod.moduleStatus = { kind: 'unsupported', reason: `text module: ${reasonOf(e)}` };
      return mod;
    }
    try {
      mod.native = await NativeInstance.create(wasm, imports);
    } catch {
      mod.native = null; // e.g. imports this runner does not provide; our side decides alone
    }
    const funcs = mod.native?.exports() ?? (await exportedFunctions(wasm)) ?? [];
    const c = await compileModule(wasm, cmd.filename ?? 'module.wasm', funcs);
    mod.instance = c.instance;
    mod.exports = c.exports;
    mod.moduleStatus = c.moduleStatus;
    mod.stateFree = c.stateFree;
    mod.grows = c.grows;
    return mod;
  };

  /**
   * Keep V8 in step with a call we do not run ourselves. When it changes only memory, the
   * transformer gets V8's memory (its later asserts still run); when it changes an exported
   * global or the memory size, or cannot be followed, the module's state has diverged.
   */
  const runNativeOnly = (mod: LiveModule, act: SpecAction, line: number) => {
    if (!mod.instance || mod.diverged) return; // nothing of ours to keep in step
    if (!mod.native) {
      mod.diverged = 'state diverged (no native instance to follow a skipped call)';
      return;
    }
    const args = (act.args ?? []).map((a) => toNative(a, externs));
    if (args.some((a) => a === null) || !mod.native.exports().includes(act.field)) {
      mod.diverged = `state diverged: a call at line ${line} could not be followed`;
      return;
    }
    const before = nativeState(mod.native);
    const out = callNative(mod.native, act.field, args.map((a) => a!.value));
    if (out === null) {
      mod.diverged = `state diverged: a call at line ${line} could not be followed`;
      return;
    }
    const after = nativeState(mod.native);
    if (!sameGlobals(before, after)) mod.diverged = `state diverged: a call at line ${line} we could not run changed an exported global`;
    else if (sameBytes(before.memory, after.memory)) return;
    else if (copyMemory(mod.instance, after.memory)) rep.memoryCopies++;
    else mod.diverged = `state diverged: a call at line ${line} we could not run changed the memory size`;
  };

  /** The verdict of an invoke-like command (counted = not a bare action). */
  const runAction = async (cmd: SpecCommand): Promise<{ verdict: Verdict; what: string; i32: boolean }> => {
    const act = cmd.action!;
    const args = act.args ?? [];
    const what = `${cmd.type} ${act.field}(${args.map((a) => (a.type === 'i32' && typeof a.value === 'string' ? String(i32Of(a)) : `${a.type}:${String(a.value)}`)).join(', ')})`;
    const mod = act.module !== undefined ? named.get(act.module) ?? null : current;
    if (!mod) return { verdict: { kind: 'unsupported', reason: `no module${act.module ? ` named ${act.module}` : ''} to run on` }, what, i32: false };
    if (act.type !== 'invoke') return { verdict: { kind: 'unsupported', reason: `"${act.type}" action (the library reads no exported globals)` }, what, i32: false };
    const isTrap = cmd.type === 'assert_trap' || cmd.type === 'assert_exhaustion';
    const sig = nonI32Signature(args, cmd.expected ?? [], isTrap || cmd.type === 'action');
    const status = mod.exports.get(act.field) ?? mod.moduleStatus;
    const skip = (v: Verdict, i32: boolean) => {
      runNativeOnly(mod, act, cmd.line);
      return { verdict: v, what, i32 };
    };
    if (sig !== null) return skip({ kind: 'unsupported', reason: sig }, false);
    if (!status) return skip({ kind: 'failed', detail: `no exported function "${act.field}" in ${mod.label}` }, true);
    if (status.kind === 'crashed') return skip({ kind: 'failed', detail: status.detail }, true);
    if (status.kind === 'unsupported') return skip({ kind: 'unsupported', reason: status.reason }, true);
    if (mod.diverged && !mod.stateFree.has(act.field)) return skip({ kind: 'unsupported', reason: mod.diverged.replace(/ at line \d+/, '') }, true);
    const ints = args.map(i32Of);
    const expect: Expectation =
      cmd.type === 'assert_exhaustion' ? { trap: cmd.text ?? EXHAUSTED }
      : cmd.type === 'assert_trap' ? { trap: cmd.text ?? '' }
      : { results: (cmd.expected ?? []).map(i32Of) };
    const native = mod.native?.exports().includes(act.field) ? callNative(mod.native, act.field, ints) : null;
    const nat = native ? { results: native.results.map((x) => Number(x) | 0), trap: native.trap } : null;
    const t = await invokeTransformer(mod.instance!, act.field, ints, maxSteps);
    rep.invokes++;
    const nativeSays = nat ? `; native gives ${describe(nat)}` : '';
    if (cmd.type !== 'action' && nat && !matches(nat, expect, true)) {
      rep.oracleNotes.push(`${script.name}:${cmd.line} ${what}: expected ${describeExpect(expect)}, native gives ${describe(nat)}`);
    }
    if (t instanceof Error) return { verdict: { kind: 'failed', detail: `expected ${describeExpect(expect)}; transformer: ${t.name}: ${firstLine(t)}${nativeSays}` }, what, i32: true };
    rep.steps += t.steps;
    if (cmd.type === 'action') return { verdict: { kind: 'passed' }, what, i32: true };
    if (!matches(t, expect)) {
      // memory.grow may fail (the spec allows it): past the pages the transformer supports it returns -1
      const grewPastLimit = mod.grows.has(act.field) && !t.trap && t.results.length === 1 && t.results[0] === -1;
      if (grewPastLimit) return { verdict: { kind: 'unsupported', reason: `memory.grow past the ${MAX_GROW_PAGES} pages the transformer supports` }, what, i32: true };
      return { verdict: { kind: 'failed', detail: `expected ${describeExpect(expect)}; transformer gives ${describe(t)}${nativeSays}` }, what, i32: true };
    }
    return { verdict: { kind: 'passed' }, what, i32: true };
  };

  /** assert_invalid / assert_malformed: compile must reject the module with a CompileError. */
  const runReject = async (cmd: SpecCommand): Promise<Verdict> => {
    const input = await readModule(cmd);
    if (input instanceof Error) return { kind: 'failed', detail: input.message };
    try {
      await compile(input, { filename: cmd.filename });
    } catch (e) {
      if (e instanceof CompileError) return { kind: 'passed' };
      return { kind: 'failed', detail: `compiler threw ${e instanceof Error ? e.name : typeof e} instead of a CompileError: ${firstLine(e)}` };
    }
    return { kind: 'failed', detail: `module accepted (expected "${cmd.text ?? ''}")` };
  };

  const total = script.commands.length;
  const budgetNote = `the script's time budget (${Math.round((opts.timeBudgetMs ?? 0) / 1000)} s) was spent`;
  for (let k = 0; k < total; k++) {
    const cmd = script.commands[k]!;
    const spent = opts.timeBudgetMs !== undefined && performance.now() - started > opts.timeBudgetMs;
    if (spent && (cmd.type === 'module' || cmd.type === 'action')) continue;
    if (spent && (cmd.type === 'assert_return' || cmd.type === 'assert_trap' || cmd.type === 'assert_exhaustion')) {
      record(cmd, cmd.type, { kind: 'unsupported', reason: budgetNote }, true);
      continue;
    }
    switch (cmd.type) {
      case 'module':
        current = await loadModule(cmd);
        if (cmd.name) named.set(cmd.name, current);
        break;
      case 'register': {
        const m = cmd.name ? named.get(cmd.name) : current;
        if (m?.native && cmd.as) imports[cmd.as] = m.native.exportValues();
        break;
      }
      case 'action': {
        // A bare action: it runs (its effects matter) but is not an assert, so only a
        // failure counts. One we cannot run is followed natively (divergence noted there).
        const r = cmd.action ? await runAction(cmd) : null;
        if (r?.verdict.kind === 'failed') record(cmd, r.what, r.verdict, true);
        break;
      }
      case 'assert_return':
      case 'assert_trap':
      case 'assert_exhaustion': {
        if (!cmd.action) {
          record(cmd, cmd.type, { kind: 'unsupported', reason: `${cmd.type} without an action (module form)` }, false);
          break;
        }
        const r = await runAction(cmd);
        record(cmd, r.what, r.verdict, r.i32);
        break;
      }
      case 'assert_invalid':
      case 'assert_malformed': {
        const v = await runReject(cmd);
        rep.rejectChecks++;
        if (v.kind === 'passed') rep.rejectPassed++;
        record(cmd, `${cmd.type} ${cmd.filename ?? ''}`, v, true);
        break;
      }
      default:
        record(cmd, cmd.type, { kind: 'unsupported', reason: `command ${cmd.type} (not checked)` }, false);
    }
    opts.onCommand?.(k + 1, total);
  }
  rep.ms = performance.now() - started;
  return rep;
}
