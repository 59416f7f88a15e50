// test/support/spec.ts — harness that runs the WebAssembly core spec test scripts
// (wast2json output in ../shared/spec-tests/json, read in place) through
// wasmformer: transformer and IR interpreter, with V8 running the original
// module alongside.
//
// Modules: a module that compiles as a whole is "full". Otherwise (some
// function uses an unsupported instruction, an import, a global...) each
// exported function is compiled on its own (`exports: [name]`: the frontend
// decodes only that function and skips the imports, tables, globals... it
// cannot use), and the module is compiled once more for all exports that
// compiled ("partial"); its assertions on those exports run. V8 runs the
// original module (runtime/native.ts's NativeInstance, with the `spectest`
// imports and registered modules), so no binary surgery happens here.
// One transformer memory and one IR memory persist across a module's invokes.
// Invokes that cannot run through the transformer (unsupported function,
// non-i32 values) still run natively on the original module; if they change
// the memory (or its size), the module's memory has diverged from ours and its
// remaining assertions are skipped as "memory diverged".
//
// assert_invalid / assert_malformed with binary modules must be rejected with
// a CompileError (any other exception, or acceptance, is a mismatch).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type CompiledModel } from '../../index.js';
import { compileToIR } from '../../frontend/index.js';
import { CompileError } from '../../frontend/errors.js';
import { interpret, findFunc } from '../../ir/interp.js';
import { initialMemory, type Module } from '../../ir/ir.js';
import { NativeInstance, type NativeCall } from '../../harness/native.js';
import { decodeMemory, initialRows, MemoryState, TransformerModel, TRAP_OOB, type Outcome } from '../../runtime/transformer.js';

export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SPEC_DIR: string = resolve(REPO_ROOT, '../shared/spec-tests');
export const MAX_STEPS = 100_000;

/** The spec-tests json directory, or an Error explaining what is missing. */
export function specJsonDir(specDir: string = SPEC_DIR): string | Error {
  const dir = join(specDir, 'json');
  if (!existsSync(dir)) {
    return new Error(
      `WebAssembly spec tests not found: expected wast2json output in ${dir} ` +
        `(../shared/spec-tests relative to the repository root ${REPO_ROOT})`,
    );
  }
  return dir;
}

/** Names of the scripts (json/NAME/NAME.json), sorted. */
export function listScripts(jsonDir: string): string[] {
  return readdirSync(jsonDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(jsonDir, d.name, `${d.name}.json`)))
    .map((d) => d.name)
    .sort();
}

// ---------------------------------------------------------------------------
// wast2json command shapes

interface SpecValue {
  type: string;
  value?: string | string[];
}
interface SpecAction {
  type: 'invoke' | 'get';
  module?: string;
  field: string;
  args?: SpecValue[];
}
interface SpecCommand {
  type: string;
  line: number;
  filename?: string;
  name?: string;
  as?: string;
  module_type?: 'binary' | 'text';
  text?: string;
  action?: SpecAction;
  expected?: SpecValue[];
}

// ---------------------------------------------------------------------------
// Native (V8) side: the original module on runtime/native.ts's NativeInstance

type Imports = Record<string, Record<string, WebAssembly.ExportValue>>;

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

/** Names of the functions a module exports (when V8 could not instantiate it). */
async function exportedFunctions(wasm: Uint8Array): Promise<string[]> {
  try {
    const mod = await WebAssembly.compile(new Uint8Array(wasm));
    return WebAssembly.Module.exports(mod).filter((d) => d.kind === 'function').map((d) => d.name);
  } catch {
    return [];
  }
}

/** A spec value as a JS value for a native call (null when it cannot be passed). */
function toNative(v: SpecValue): unknown | null {
  const s = typeof v.value === 'string' ? v.value : null;
  if (s === null) return null;
  const dv = new DataView(new ArrayBuffer(8));
  switch (v.type) {
    case 'i32': return Number(s) | 0;
    case 'i64': return BigInt.asIntN(64, BigInt(s));
    case 'f32': if (/^\d+$/.test(s)) { dv.setUint32(0, Number(s)); return dv.getFloat32(0); } return null;
    case 'f64': if (/^\d+$/.test(s)) { dv.setBigUint64(0, BigInt(s)); return dv.getFloat64(0); } return null;
    default: return null;
  }
}

const isI32 = (v: SpecValue) => v.type === 'i32' && typeof v.value === 'string';
const i32 = (v: SpecValue) => Number(v.value as string) | 0;

// ---------------------------------------------------------------------------
// The harness

export type SkipReason =
  | 'module unsupported'
  | 'function unsupported'
  | 'non-i32 values'
  | 'memory diverged'
  | 'other command';

export interface ScriptReport {
  script: string;
  modules: number;
  modulesFull: number;
  modulesPartial: number;
  exportedFuncs: number; // exported functions over all modules
  supportedFuncs: number; // of which compiled (full or partial module)
  assertions: number; // assert_return + assert_trap
  run: number; // executed through transformer and IR interpreter
  passed: number;
  batched: number; // of `run`, executed inside a batch of > 1
  skipped: Partial<Record<SkipReason, number>>;
  rejectChecked: number; // assert_invalid / assert_malformed (binary) checked
  rejectPassed: number;
  otherCommands: number; // commands not checked (assert_exhaustion, text modules, get, ...)
  resynced: number; // memory images taken over from native after a skipped call changed them
  transformerSteps: number;
  mismatches: string[];
  unsupportedReasons: Map<string, number>; // first CompileError message (shortened) per unsupported function/module
}

interface LiveModule {
  label: string;
  native: NativeInstance | null;
  compiled: CompiledModel | null;
  model: TransformerModel | null;
  ir: Module | null;
  tMem: MemoryState | null; // transformer memory
  irMem: Uint8Array | null;
  diverged: boolean;
  storeFree: Set<string>; // exports whose function has no store
  memoryFree: Set<string>; // exports whose function neither loads nor stores
}

interface PendingInvoke {
  cmd: SpecCommand;
  args: number[];
  expect: { results: number[] } | { trap: string };
  nativeOut: NativeCall | null;
}

/**
 * Our memories take over a native memory image: the IR memory is overwritten, the
 * transformer gets a fresh memory whose initial rows encode the image (as if the
 * module were instantiated again with the image as its data).
 */
function resync(mod: LiveModule, image: Uint8Array): void {
  mod.irMem!.set(image);
  const layout = mod.model!.layout.memory!;
  const rows = initialRows({ ...layout, data: [{ offset: 0, base64: Buffer.from(image).toString('base64') }] });
  mod.tMem = new MemoryState(layout.features, rows);
}

function shortReason(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  return m.replace(/; wasmformer supports only.*?(\(|$)/, ' (').replace(/\s*\(.*$/, '').slice(0, 70);
}

function fmt(o: { results: number[]; trap: string | null }): string {
  return o.trap !== null ? `trap "${o.trap}"` : `[${o.results.join(', ')}]`;
}

function matchesExpect(o: { results: number[]; trap: string | null }, ex: PendingInvoke['expect']): boolean {
  if ('trap' in ex) {
    if (o.trap === null) return false;
    return ex.trap === TRAP_OOB ? o.trap === TRAP_OOB : true; // other trap texts: any trap
  }
  return o.trap === null && o.results.length === ex.results.length && o.results.every((x, i) => (x | 0) === ex.results[i]);
}

export interface RunScriptOptions {
  /** Largest group of consecutive store-free invokes of one export run as one transformer batch. */
  maxBatch?: number;
  log?: (line: string) => void;
}

export async function runScript(jsonDir: string, script: string, opts: RunScriptOptions = {}): Promise<ScriptReport> {
  const dir = join(jsonDir, script);
  const json = JSON.parse(readFileSync(join(dir, `${script}.json`), 'utf8')) as { commands: SpecCommand[] };
  const rep: ScriptReport = {
    script, modules: 0, modulesFull: 0, modulesPartial: 0, exportedFuncs: 0, supportedFuncs: 0,
    assertions: 0, run: 0, passed: 0, batched: 0, skipped: {}, rejectChecked: 0, rejectPassed: 0, otherCommands: 0, resynced: 0,
    transformerSteps: 0, mismatches: [], unsupportedReasons: new Map(),
  };
  const skip = (why: SkipReason) => (rep.skipped[why] = (rep.skipped[why] ?? 0) + 1);
  const noteUnsupported = (e: unknown) => {
    const r = shortReason(e);
    rep.unsupportedReasons.set(r, (rep.unsupportedReasons.get(r) ?? 0) + 1);
  };
  const imports = spectestImports();
  const named = new Map<string, LiveModule>();
  let current: LiveModule | null = null;
  let pending: { mod: LiveModule; field: string; items: PendingInvoke[] } | null = null;
  const maxBatch = opts.maxBatch ?? 64;

  const flush = async () => {
    if (!pending) return;
    const { mod, field, items } = pending;
    pending = null;
    await execute(mod, field, items);
  };

  /** Runs invokes of one export through IR interpreter and transformer, in order, and compares. */
  const execute = async (mod: LiveModule, field: string, items: PendingInvoke[]) => {
    const where = (it: PendingInvoke) => `${script}:${it.cmd.line} ${field}(${it.args.join(', ')})`;
    // IR interpreter, sequential on the module's IR memory
    const irOuts = items.map((it) => {
      try {
        return interpret(mod.ir!, field, it.args, { memory: mod.irMem!, maxSteps: MAX_STEPS });
      } catch (e) {
        return e as Error;
      }
    });
    // Transformer: sequential on the shared memory, or one batch on clones when the export never stores
    let tOuts: Array<Outcome | Error>;
    if (items.length > 1) {
      const mems = items.map(() => mod.tMem!.clone());
      try {
        tOuts = await mod.model!.runBatch(field, items.map((it) => it.args), mems, { maxSteps: MAX_STEPS });
        // keep the shared memory's clock ahead of every step taken
        mod.tMem!.position = Math.max(...mems.map((m) => m.position));
      } catch (e) {
        tOuts = items.map(() => e as Error);
      }
      rep.batched += items.length;
    } else {
      tOuts = [];
      for (const it of items) {
        try {
          const [o] = await mod.model!.runBatch(field, [it.args], [mod.tMem!], { maxSteps: MAX_STEPS });
          tOuts.push(o!);
        } catch (e) {
          tOuts.push(e as Error);
        }
      }
    }
    items.forEach((it, k) => {
      rep.run++;
      const irr = irOuts[k]!;
      const t = tOuts[k]!;
      const exp = 'trap' in it.expect ? `trap "${it.expect.trap}"` : `[${it.expect.results.join(', ')}]`;
      const problems: string[] = [];
      if (irr instanceof Error) problems.push(`IR interpreter threw: ${irr.message}`);
      else if (!matchesExpect(irr, it.expect)) problems.push(`IR interpreter ${fmt(irr)}`);
      if (t instanceof Error) problems.push(`transformer threw: ${t.message}`);
      else {
        rep.transformerSteps += t.steps;
        if (!matchesExpect(t, it.expect)) problems.push(`transformer ${fmt(t)}`);
        if (!(irr instanceof Error) && t.steps !== irr.steps) problems.push(`transformer ${t.steps} steps, IR interpreter ${irr.steps}`);
      }
      if (it.nativeOut) {
        const n = { results: it.nativeOut.results.map((x) => Number(x) | 0), trap: it.nativeOut.trap };
        if (!matchesExpect(n, it.expect)) problems.push(`native ${fmt(n)} (harness problem?)`);
      }
      if (problems.length) rep.mismatches.push(`${where(it)}: expected ${exp}; ${problems.join('; ')}`);
      else rep.passed++;
    });
  };

  const checkMemories = (mod: LiveModule) => {
    if (!mod.compiled?.ir.memory || !mod.tMem || !mod.irMem) return;
    const t = decodeMemory(mod.model!.layout.memory!, mod.tMem);
    const diff = (a: Uint8Array, b: Uint8Array) => {
      if (a.length !== b.length) return -2;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
      return -1;
    };
    const d1 = diff(t, mod.irMem);
    if (d1 !== -1) rep.mismatches.push(`${script} ${mod.label}: final transformer memory differs from IR interpreter memory at byte ${d1}`);
    const n = !mod.diverged ? mod.native?.memory() : null;
    if (n) {
      const d2 = diff(n, mod.irMem);
      if (d2 !== -1) rep.mismatches.push(`${script} ${mod.label}: final IR interpreter memory differs from native memory at byte ${d2}`);
    }
  };

  const loadModule = async (cmd: SpecCommand): Promise<LiveModule> => {
    const wasm = new Uint8Array(readFileSync(join(dir, cmd.filename!)));
    const label = `${cmd.filename}@${cmd.line}`;
    const mod: LiveModule = {
      label, native: null, compiled: null, model: null, ir: null, tMem: null, irMem: null, diverged: false, storeFree: new Set(), memoryFree: new Set(),
    };
    rep.modules++;
    try {
      mod.native = await NativeInstance.create(wasm, imports);
    } catch {
      mod.native = null;
    }
    const funcNames = mod.native?.exports() ?? (await exportedFunctions(wasm));
    rep.exportedFuncs += funcNames.length;
    try {
      mod.compiled = await compile(wasm, { filename: cmd.filename });
      rep.modulesFull++;
    } catch (e) {
      if (!(e instanceof CompileError)) {
        rep.mismatches.push(`${script} ${label}: compile crashed (${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')})`);
        return mod;
      }
      // Partial: each export that compiles on its own (the frontend then decodes only that
      // function), then all of them together.
      const keep: string[] = [];
      for (const name of funcNames) {
        try {
          await compileToIR(wasm, { filename: cmd.filename, exports: [name] });
          keep.push(name);
        } catch (e2) {
          if (!(e2 instanceof CompileError)) {
            rep.mismatches.push(`${script} ${label}: compileToIR crashed on export "${name}" (${(e2 as Error).message})`);
          } else noteUnsupported(e2);
        }
      }
      if (keep.length === 0) {
        if (funcNames.length === 0) noteUnsupported(e);
        return mod;
      }
      try {
        mod.compiled = await compile(wasm, { filename: cmd.filename, exports: keep });
        rep.modulesPartial++;
      } catch (e3) {
        rep.mismatches.push(`${script} ${label}: its ${keep.length} supported exports failed to compile together: ${(e3 as Error).message}`);
        return mod;
      }
    }
    const c = mod.compiled!;
    rep.supportedFuncs += c.ir.funcs.filter((f) => f.exportNames.length > 0).length;
    mod.ir = c.ir;
    mod.irMem = initialMemory(c.ir);
    mod.model = await TransformerModel.load(c.onnx);
    mod.tMem = mod.model.newMemory();
    for (const e of mod.model.layout.entries) {
      const f = findFunc(c.ir, e.name);
      if (!f.blocks.some((b) => b.insts.some((i) => i.op === 'store'))) mod.storeFree.add(e.name);
      if (!f.blocks.some((b) => b.insts.some((i) => i.op === 'store' || i.op === 'load'))) mod.memoryFree.add(e.name);
    }
    return mod;
  };

  for (const cmd of json.commands) {
    switch (cmd.type) {
      case 'module': {
        await flush();
        if (current) checkMemories(current);
        current = await loadModule(cmd);
        if (cmd.name) named.set(cmd.name, current);
        break;
      }
      case 'register': {
        const m = cmd.name ? named.get(cmd.name) : current;
        if (m?.native && cmd.as) imports[cmd.as] = m.native.exportValues();
        break;
      }
      case 'assert_return':
      case 'assert_trap':
      case 'action': {
        const act = cmd.action!;
        const mod = act.module ? named.get(act.module) ?? null : current;
        const counted = cmd.type !== 'action';
        if (counted) rep.assertions++;
        if (act.type !== 'invoke' || !mod) {
          await flush();
          if (counted) skip(mod ? 'non-i32 values' : 'module unsupported');
          break;
        }
        const args = act.args ?? [];
        const expected = cmd.expected ?? [];
        const allI32 = args.every(isI32) && (cmd.type === 'assert_trap' || expected.every(isI32));
        const runnable = mod.model !== null && allI32 && mod.model.layout.entries.some((e) => e.name === act.field);
        // After a memory divergence only functions that never touch memory still run.
        if (!runnable || (mod.diverged && !mod.memoryFree.has(act.field))) {
          await flush();
          if (counted) {
            skip(
              mod.model === null ? 'module unsupported'
              : !mod.model.layout.entries.some((e) => e.name === act.field) ? 'function unsupported'
              : !allI32 ? 'non-i32 values'
              : 'memory diverged',
            );
          }
          // Keep the native instance in step. When the skipped call changed the memory, our
          // memories take over the native image (same size) or the module's checks end.
          if (!mod.ir?.memory || mod.diverged) {
            // nothing to keep in step
          } else if (mod.native) {
            const before = mod.native.memory();
            const nargs = args.map(toNative);
            if (nargs.some((x) => x === null)) mod.diverged = true;
            else {
              mod.native.call(act.field, nargs);
              const after = mod.native.memory();
              const same = before.length === after.length && before.every((b, i) => b === after[i]);
              if (!same) {
                if (after.length === mod.irMem!.length) {
                  resync(mod, after);
                  rep.resynced++;
                } else mod.diverged = true;
              }
            }
          } else mod.diverged = true;
          break;
        }
        const item: PendingInvoke = {
          cmd,
          args: args.map(i32),
          expect: cmd.type === 'assert_trap' ? { trap: cmd.text ?? '' } : { results: expected.map(i32) },
          nativeOut: mod.native ? mod.native.call(act.field, args.map(i32)) : null,
        };
        if (!counted) {
          // a bare action: run it (memory effects matter) but do not count it
          await flush();
          const irr = interpret(mod.ir!, act.field, item.args, { memory: mod.irMem!, maxSteps: MAX_STEPS });
          await mod.model!.runBatch(act.field, [item.args], [mod.tMem!], { maxSteps: MAX_STEPS });
          void irr;
          break;
        }
        const batchable = mod.storeFree.has(act.field);
        const p = pending as { mod: LiveModule; field: string; items: PendingInvoke[] } | null;
        if (p && batchable && p.mod === mod && p.field === act.field && p.items.length < maxBatch) {
          p.items.push(item);
        } else {
          await flush();
          if (batchable) pending = { mod, field: act.field, items: [item] };
          else await execute(mod, act.field, [item]);
        }
        break;
      }
      case 'assert_invalid':
      case 'assert_malformed': {
        await flush();
        if (cmd.module_type !== 'binary') {
          rep.otherCommands++;
          break;
        }
        rep.rejectChecked++;
        const bytes = new Uint8Array(readFileSync(join(dir, cmd.filename!)));
        try {
          await compileToIR(bytes, { filename: cmd.filename });
          rep.mismatches.push(`${script}:${cmd.line} ${cmd.type} (${cmd.text}): module accepted by compileToIR`);
        } catch (e) {
          if (e instanceof CompileError) rep.rejectPassed++;
          else rep.mismatches.push(`${script}:${cmd.line} ${cmd.type} (${cmd.text}): crashed with ${(e as Error).name}: ${(e as Error).message}`);
        }
        break;
      }
      default:
        await flush();
        rep.otherCommands++;
    }
  }
  await flush();
  if (current) checkMemories(current);
  for (const m of named.values()) if (m !== current) checkMemories(m);
  const total = Object.values(rep.skipped).reduce((s, n) => s + (n ?? 0), 0);
  if (total + rep.run !== rep.assertions) rep.mismatches.push(`${script}: harness bookkeeping: ${rep.run} run + ${total} skipped != ${rep.assertions}`);
  opts.log?.(`${script}: ${rep.run}/${rep.assertions} run, ${rep.mismatches.length} mismatches`);
  return rep;
}

/** A fixed-width table of per-script reports. */
export function summaryTable(reports: ScriptReport[]): string {
  const head = ['script', 'modules full+partial/total', 'funcs ok/exported', 'assertions', 'run', 'passed', 'skipped (unsup mod/func, non-i32, diverged)', 'invalid+malformed rejected', 'other', 'resync', 'steps'];
  const rows = reports.map((r) => [
    r.script,
    `${r.modulesFull}+${r.modulesPartial}/${r.modules}`,
    `${r.supportedFuncs}/${r.exportedFuncs}`,
    String(r.assertions),
    String(r.run),
    String(r.passed),
    `${r.skipped['module unsupported'] ?? 0}/${r.skipped['function unsupported'] ?? 0}, ${r.skipped['non-i32 values'] ?? 0}, ${r.skipped['memory diverged'] ?? 0}`,
    `${r.rejectPassed}/${r.rejectChecked}`,
    String(r.otherCommands),
    String(r.resynced),
    String(r.transformerSteps),
  ]);
  const sum = (f: (r: ScriptReport) => number) => String(reports.reduce((s, r) => s + f(r), 0));
  rows.push([
    'TOTAL',
    `${sum((r) => r.modulesFull)}+${sum((r) => r.modulesPartial)}/${sum((r) => r.modules)}`,
    `${sum((r) => r.supportedFuncs)}/${sum((r) => r.exportedFuncs)}`,
    sum((r) => r.assertions),
    sum((r) => r.run),
    sum((r) => r.passed),
    `${sum((r) => r.skipped['module unsupported'] ?? 0)}/${sum((r) => r.skipped['function unsupported'] ?? 0)}, ${sum((r) => r.skipped['non-i32 values'] ?? 0)}, ${sum((r) => r.skipped['memory diverged'] ?? 0)}`,
    `${sum((r) => r.rejectPassed)}/${sum((r) => r.rejectChecked)}`,
    sum((r) => r.otherCommands),
    sum((r) => r.resynced),
    sum((r) => r.transformerSteps),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
