// frontend/index.ts — public entry point of the frontend.
//
// parseModule: .wasm bytes or .wat text → validated, typed WasmModule.
// compileToIR: the whole front half of the compiler — load, decode, rewrite
// i64/f32/f64 values as i32 words, pick the functions the selected exports
// reach, hold them to the subset, validate, lower to SSA IR, simplify, reject
// observed poison and verify.

import { CompileError } from './errors.js';
import { decodeWasm, type DecodedModule } from './decode.js';
import { checkSubset, cleanExports, reachable } from './subset.js';
import { validateModule } from './validate.js';
import { loadInput } from './wat.js';
import type { WasmModule } from './module.js';
import type { Module } from '../ir/ir.js';
import { lowerModule, type LowerOptions } from '../ir/wasm_to_ir.js';
import { simplifyModule } from '../ir/simplify.js';
import { verifyModule } from '../ir/verify.js';
import { cseModule } from '../ir/cse.js';
import { rejectObservedPoison } from '../ir/poison.js';
import { lowerWords } from './lower_words.js';

export { loadInput } from './wat.js';
export { CompileError, RunError, SUPPORTED_INSTRUCTIONS } from './errors.js';
export type { WasmModule, WasmFunc, WasmInstr, WasmMemory, WasmDataSegment, WasmExport, WasmGlobal } from './module.js';

export interface CompileOptions extends LowerOptions {
  filename?: string;
  exports?: string[]; // compile only these exported functions (and what they call)
}

/** Function indices of the requested export names (every defined function if none given). */
export function selectFunctions(m: DecodedModule, names?: readonly string[]): number[] {
  if (names === undefined) return m.funcs.map((f) => f.func.index);
  const list = m.exports.map((e) => (e.kind === 'func' ? e.name : `${e.name} (${e.kind})`));
  const indices = names.map((name) => {
    const e = m.exports.find((x) => x.name === name);
    if (!e || e.kind !== 'func' || e.index < m.numImportedFuncs) {
      const why = !e ? 'is not exported by the module' : e.kind !== 'func' ? `is a ${e.kind}, not a function` : 'is an imported function';
      throw new CompileError(`export "${name}" ${why}; the module exports: ${list.join(', ') || '(nothing)'}`);
    }
    return e.index;
  });
  return [...new Set(indices)].sort((a, b) => a - b);
}

/** Decode and validate wasm bytes (already loaded); with `exports`, only the functions they reach. */
export function decodeAndValidate(wasm: Uint8Array, exports?: readonly string[]): WasmModule {
  const m = lowerWords(decodeWasm(wasm));
  const roots = selectFunctions(m, exports);
  const funcs = reachable(m, roots);
  checkSubset(m, funcs, roots);
  return validateModule(m, funcs, wasm);
}

/**
 * The function exports that can be compiled: those whose reachable code stays inside the
 * subset (module-level unsupported features, e.g. a start function, leave none). Compiling
 * with `exports` set to this list gives one instance with all of them (shared memory and globals).
 */
export function supportedExports(wasm: Uint8Array): string[] {
  const m = decodeWasm(wasm);
  return m.moduleUnsupported.length > 0 ? [] : cleanExports(m);
}

/** Load (assembling WAT if needed), decode and validate a module. */
export async function parseModule(data: Uint8Array | string, filename?: string): Promise<WasmModule> {
  return decodeAndValidate(await loadInput(data, filename));
}

/** Compile wasm/WAT input to verified, simplified IR. */
export async function compileToIR(
  data: Uint8Array | string,
  opts: CompileOptions = {},
): Promise<{ ir: Module; wasm: Uint8Array }> {
  const wasm = await loadInput(data, opts.filename);
  const mod = decodeAndValidate(wasm, opts.exports);
  const lowered = lowerModule(mod, opts);
  verifyModule(lowered);
  const ir = simplifyModule(cseModule(simplifyModule(lowered)));
  rejectObservedPoison(ir);
  verifyModule(ir);
  // located at the end of the module: there is no code section to point into
  if (ir.funcs.length === 0) throw new CompileError('nothing to compile: the module defines no functions', { offset: wasm.length });
  return { ir, wasm };
}
