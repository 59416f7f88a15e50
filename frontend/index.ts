// frontend/index.ts — public entry point of the frontend.
//
// parseModule: .wasm bytes or .wat text → validated, typed WasmModule.
// compileToIR: the whole front half of the compiler — load, decode, validate,
// select exports, lower to SSA IR, simplify and verify.

import { CompileError } from './errors.js';
import { decodeWasm } from './decode.js';
import { validateModule } from './validate.js';
import { loadInput } from './wat.js';
import type { WasmModule } from './module.js';
import type { Module } from '../ir/ir.js';
import { lowerModule } from '../ir/wasm_to_ir.js';
import { simplifyModule } from '../ir/simplify.js';
import { verifyModule } from '../ir/verify.js';
import { cseModule } from '../ir/cse.js';

export { loadInput } from './wat.js';
export { CompileError, RunError, SUPPORTED_INSTRUCTIONS } from './errors.js';
export type { WasmModule, WasmFunc, WasmInstr, WasmMemory, WasmDataSegment, WasmExport } from './module.js';

export interface CompileOptions {
  filename?: string;
  exports?: string[]; // keep only these exported functions
}

/** Decode and validate wasm bytes (already loaded); with `exports`, only those functions. */
export function decodeAndValidate(wasm: Uint8Array, exports?: readonly string[]): WasmModule {
  return validateModule(decodeWasm(wasm, exports), wasm);
}

/** Load (assembling WAT if needed), decode and validate a module. */
export async function parseModule(data: Uint8Array | string, filename?: string): Promise<WasmModule> {
  return decodeAndValidate(await loadInput(data, filename));
}

/** Function indices for the requested export names (all functions if none given). */
export function selectFunctions(m: WasmModule, names?: string[]): number[] {
  if (names === undefined) return m.funcs.map((f) => f.index);
  const list = m.exports.map((e) => (e.kind === 'func' ? e.name : `${e.name} (memory)`));
  const indices = names.map((name) => {
    const e = m.exports.find((x) => x.name === name);
    if (!e || e.kind !== 'func' || e.index < 0) {
      const why = !e ? 'is not exported by the module' : e.kind !== 'func' ? 'is a memory, not a function' : 'is an imported function';
      throw new CompileError(`export "${name}" ${why}; the module exports: ${list.join(', ') || '(nothing)'}`);
    }
    return e.index;
  });
  return [...new Set(indices)].sort((a, b) => a - b);
}

/** Compile wasm/WAT input to verified, simplified IR. */
export async function compileToIR(
  data: Uint8Array | string,
  opts: CompileOptions = {},
): Promise<{ ir: Module; wasm: Uint8Array }> {
  const wasm = await loadInput(data, opts.filename);
  const mod = decodeAndValidate(wasm, opts.exports);
  const lowered = lowerModule(mod, selectFunctions(mod, opts.exports));
  verifyModule(lowered);
  const ir = simplifyModule(cseModule(simplifyModule(lowered)));
  verifyModule(ir);
  return { ir, wasm };
}
