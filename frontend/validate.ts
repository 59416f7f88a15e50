// frontend/validate.ts — validation of the decoded functions that will be compiled
// (the wasm spec's validation algorithm, restricted to the i32-only subset).
//
// Every value in the subset is an i32, so operand-stack typing is stack
// heights, driven by each instruction's form in ir/instructions.ts (with the
// polymorphic stack after br/br_table/return/unreachable). Checks local,
// global, function, table, type and label indices, global mutability, block/if/loop
// parameter and result arity, memory presence and alignment, data segment
// bounds and export name uniqueness. Every failure is a CompileError naming
// the instruction, the function and the instruction's byte offset.

import { CompileError } from './errors.js';
import type { ConstExpr, DecodedFunc, DecodedModule } from './decode.js';
import { PAGE_SIZE } from '../ir/ir.js';
import { formOf, type Form } from '../ir/instructions.js';
import type { BlockSig, FuncSig, WasmFunc, WasmGlobal, WasmInstr, WasmModule } from './module.js';

interface Frame {
  kind: 'func' | 'block' | 'loop' | 'if' | 'else';
  sig: BlockSig;
  height: number; // operand stack height at entry (below the params)
  unreachable: boolean;
}

interface FuncState {
  fn: WasmFunc;
  m: DecodedModule;
  frames: Frame[];
  height: number; // operand stack height (all values are i32)
}

function fail(st: FuncState, ins: WasmInstr, message: string): never {
  throw new CompileError(`validation failed: ${message}`, { instruction: ins.op, func: st.fn.name, offset: ins.pos });
}

function top(st: FuncState): Frame {
  return st.frames[st.frames.length - 1] as Frame;
}

function pop(st: FuncState, ins: WasmInstr, n: number = 1): void {
  for (let i = 0; i < n; i++) {
    const f = top(st);
    if (st.height === f.height) {
      if (f.unreachable) continue;
      fail(st, ins, 'type mismatch: expected an i32 operand but the stack is empty');
    }
    st.height--;
  }
}

function markUnreachable(st: FuncState): void {
  const f = top(st);
  st.height = f.height;
  f.unreachable = true;
}

function labelArity(f: Frame): number {
  return f.kind === 'loop' ? f.sig.params : f.sig.results;
}

function label(st: FuncState, ins: WasmInstr, depth: number): Frame {
  const f = st.frames[st.frames.length - 1 - depth];
  if (f === undefined) fail(st, ins, `branch depth ${depth} exceeds the ${st.frames.length} enclosing labels`);
  return f;
}

function index(ins: WasmInstr): number {
  return ins.imm === 'index' ? ins.index : -1;
}

function checkLocal(st: FuncState, ins: WasmInstr): void {
  const n = st.fn.numParams + st.fn.numLocals;
  if (index(ins) >= n) fail(st, ins, `local index ${index(ins)} out of range (function has ${n} locals)`);
}

function checkMemarg(st: FuncState, ins: WasmInstr, bytes: number): void {
  if (!st.m.memory) fail(st, ins, `${ins.op} but the module defines no memory`);
  const align = ins.imm === 'memarg' ? ins.align : 0;
  if (2 ** align > bytes) fail(st, ins, `alignment 2**${align} exceeds the natural alignment ${bytes}`);
}

function checkMemory(st: FuncState, ins: WasmInstr): void {
  if (!st.m.memory) fail(st, ins, `${ins.op} but the module defines no memory`);
}

function checkEnd(st: FuncState, ins: WasmInstr, f: Frame): void {
  const found = st.height - f.height;
  if (found > f.sig.results || (found < f.sig.results && !f.unreachable)) {
    const what = f.kind === 'func' ? 'function body' : f.kind === 'else' ? 'else branch' : f.kind === 'if' ? 'if branch' : f.kind;
    fail(st, ins, `type mismatch: the ${what} must end with ${f.sig.results} i32 value(s) on the stack, found ${found}`);
  }
}

function endFrame(st: FuncState, ins: WasmInstr): void {
  const f = top(st);
  checkEnd(st, ins, f);
  if (f.kind === 'if' && f.sig.params !== f.sig.results) {
    fail(st, ins, `type mismatch: an if without else must leave what it takes (${f.sig.params} value(s)), not ${f.sig.results}`);
  }
  st.frames.pop();
  st.height = f.height + f.sig.results;
}

function openFrame(st: FuncState, ins: WasmInstr, kind: Frame['kind']): void {
  const sig = ins.imm === 'block' ? ins.sig : { params: 0, results: 0 };
  pop(st, ins, sig.params);
  st.frames.push({ kind, sig, height: st.height, unreachable: false });
  st.height += sig.params;
}

function control(st: FuncState, ins: WasmInstr, c: Extract<Form, { kind: 'control' }>['control']): void {
  switch (c) {
    case 'nop': return;
    case 'drop': pop(st, ins); return;
    case 'unreachable': markUnreachable(st); return;
    case 'block': case 'loop': openFrame(st, ins, c); return;
    case 'if': pop(st, ins); openFrame(st, ins, 'if'); return;
    case 'else': {
      const f = top(st);
      if (f.kind !== 'if') fail(st, ins, 'else without a matching if');
      checkEnd(st, ins, f);
      f.kind = 'else';
      f.unreachable = false;
      st.height = f.height + f.sig.params;
      return;
    }
    case 'end': endFrame(st, ins); return;
    case 'br': pop(st, ins, labelArity(label(st, ins, index(ins)))); markUnreachable(st); return;
    case 'br_if': {
      const n = labelArity(label(st, ins, index(ins)));
      pop(st, ins);
      pop(st, ins, n);
      st.height += n;
      return;
    }
    case 'br_table': {
      if (ins.imm !== 'br_table') return;
      const n = labelArity(label(st, ins, ins.default));
      for (const d of ins.targets) {
        const k = labelArity(label(st, ins, d));
        if (k !== n) fail(st, ins, `type mismatch: br_table targets carry ${k} and ${n} values`);
      }
      pop(st, ins);
      pop(st, ins, n);
      markUnreachable(st);
      return;
    }
    case 'return': pop(st, ins, st.fn.numResults); markUnreachable(st); return;
    case 'call': {
      const i = index(ins);
      if (i >= st.m.funcSigs.length) fail(st, ins, `call to unknown function ${i} (the module has ${st.m.funcSigs.length})`);
      const sig = st.m.funcSigs[i] as FuncSig;
      pop(st, ins, sig.params);
      st.height += sig.results;
      return;
    }
    case 'call_indirect': {
      if (ins.imm !== 'call_indirect') return;
      if (ins.table >= st.m.tables.length) fail(st, ins, `call_indirect through unknown table ${ins.table} (the module has ${st.m.tables.length})`);
      if (ins.type >= st.m.typeSigs.length) fail(st, ins, `call_indirect of unknown type ${ins.type} (the module has ${st.m.typeSigs.length})`);
      const sig = st.m.typeSigs[ins.type] as FuncSig; // all-i32: the decoder noted any other
      pop(st, ins); // the table index
      pop(st, ins, sig.params);
      st.height += sig.results;
      return;
    }
  }
}

function checkGlobal(st: FuncState, ins: WasmInstr, set: boolean): void {
  const i = index(ins);
  const g = st.m.globals[i];
  if (!g) fail(st, ins, `global index ${i} out of range (the module has ${st.m.globals.length} globals)`);
  if (set && !g.mutable) fail(st, ins, `global.set of the immutable global ${i}`);
}

function step(st: FuncState, ins: WasmInstr): void {
  const form = formOf(ins.op);
  if (!form) fail(st, ins, `${ins.op} is outside the subset`); // checkSubset rejects these first
  switch (form.kind) {
    case 'const': st.height++; return;
    case 'unary': pop(st, ins); st.height++; return;
    case 'binary': pop(st, ins, 2); st.height++; return;
    case 'select': pop(st, ins, 3); st.height++; return;
    case 'load': checkMemarg(st, ins, form.bytes); pop(st, ins); st.height++; return;
    case 'store': checkMemarg(st, ins, form.bytes); pop(st, ins, 2); return;
    case 'memory_size': checkMemory(st, ins); st.height++; return;
    case 'memory_grow': checkMemory(st, ins); pop(st, ins); st.height++; return;
    case 'local':
      checkLocal(st, ins);
      if (form.access !== 'get') pop(st, ins);
      if (form.access !== 'set') st.height++;
      return;
    case 'global':
      checkGlobal(st, ins, form.access === 'set');
      if (form.access === 'set') pop(st, ins);
      else st.height++;
      return;
    case 'control': control(st, ins, form.control); return;
    case 'poison': st.height++; return;
    case 'wide': fail(st, ins, `${ins.op} was not lowered to words`); // frontend/lower_words.ts rewrites these first
  }
}

function validateFunc(fn: WasmFunc, m: DecodedModule): void {
  const sig = { params: 0, results: fn.numResults };
  const st: FuncState = { fn, m, height: 0, frames: [{ kind: 'func', sig, height: 0, unreachable: false }] };
  for (const ins of fn.body) {
    if (st.frames.length === 0) fail(st, ins, 'instruction after the final end');
    step(st, ins);
  }
  if (st.frames.length !== 0) {
    throw new CompileError('validation failed: function body not terminated by end', { func: fn.name, offset: fn.pos });
  }
}

const CONST_TYPES: Record<string, string> = { 'i32.const': 'i32', 'i64.const': 'i64', 'f32.const': 'f32', 'f64.const': 'f64' };

/** A constant expression: one constant (or global.get of an imported immutable global) of the right type. */
function validateConstExpr(m: DecodedModule, c: ConstExpr): void {
  const bad = (ins: WasmInstr | undefined, message: string): never => {
    throw new CompileError(`validation failed: ${c.what}: ${message}`, {
      ...(ins ? { instruction: ins.op } : {}), offset: ins?.pos ?? c.pos,
    });
  };
  const types: string[] = [];
  for (const ins of c.body.slice(0, -1)) {
    const t = CONST_TYPES[ins.op];
    if (t !== undefined) { types.push(t); continue; }
    if (ins.op === 'global.get' && ins.imm === 'index') {
      const g = m.globals[ins.index];
      if (!g || ins.index >= c.globalsBefore) bad(ins, `unknown global ${ins.index}`);
      if (!g.imported || g.mutable) bad(ins, `constant expression required (global ${ins.index} must be an imported immutable global)`);
      types.push(g.type);
      continue;
    }
    if (ins.op === 'ref.null' || ins.op === 'ref.func') { types.push('ref'); continue; }
    bad(ins, `constant expression required, found ${ins.op}`);
  }
  if (types.length !== 1 || (types[0] !== c.type && !(types[0] === 'ref' && (c.type === 'funcref' || c.type === 'externref')))) {
    bad(c.body[c.body.length - 1], `type mismatch: expected one ${c.type} value, found [${types.join(', ')}]`);
  }
}

function validateData(m: DecodedModule): void {
  if (!m.memory) return;
  const size = m.memory.pages * PAGE_SIZE;
  for (const seg of m.memory.data) {
    if (seg.offset + seg.bytes.length > size) {
      throw new CompileError(
        `data segment at address ${seg.offset} with ${seg.bytes.length} bytes is out of bounds of the ${size}-byte memory`,
        { offset: seg.pos },
      );
    }
  }
}

function validateExports(m: DecodedModule): void {
  const seen = new Set<string>();
  for (const e of m.exports) {
    if (seen.has(e.name)) throw new CompileError(`duplicate export name "${e.name}"`);
    seen.add(e.name);
  }
}

/** The module's i32 globals with a constant initializer, named by their first export (else the name section). */
function definedGlobals(m: DecodedModule): WasmGlobal[] {
  const out: WasmGlobal[] = [];
  for (const g of m.globals) {
    if (g.imported || g.type !== 'i32' || g.init === null) continue;
    const name = m.exports.find((e) => e.kind === 'global' && e.index === g.index)?.name ?? g.debugName;
    out.push({ index: g.index, mutable: g.mutable, init: g.init | 0, ...(name !== undefined ? { name } : {}) });
  }
  return out;
}

/**
 * The error for a module the engine's validator rejects though ours accepted what it checked.
 * The frontend does not type dead code it dropped (it holds instructions outside the subset):
 * when the module is valid with those bytes made nops (same length, so nothing else moves),
 * the error is located at the first dropped run the engine rejects on its own.
 */
function invalidModule(m: DecodedModule, bytes: Uint8Array): CompileError {
  const runs = m.funcs.flatMap((f) => f.dropped.map((d) => ({ ...d, func: f.func.name })));
  const NOP = 0x01;
  const patched = (except: number | null): Uint8Array<ArrayBuffer> => {
    const b = new Uint8Array(bytes);
    runs.forEach((d, k) => { if (k !== except) b.fill(NOP, d.start, d.end); });
    return b;
  };
  if (runs.length > 0 && WebAssembly.validate(patched(null))) {
    const bad = runs.find((_, k) => !WebAssembly.validate(patched(k))) ?? (runs[0] as (typeof runs)[number]);
    return new CompileError(
      `validation failed: code after ${bad.after} that never runs is invalid (not typed here, as it holds instructions outside the subset, but the engine's validator rejects it)`,
      { func: bad.func, offset: bad.start },
    );
  }
  return new CompileError('invalid module (rejected by the WebAssembly validator)');
}

/** Validate the functions to compile (already held to the subset); returns the typed WasmModule. */
export function validateModule(m: DecodedModule, funcs: readonly DecodedFunc[], bytes: Uint8Array): WasmModule {
  validateExports(m);
  for (const c of m.constExprs) validateConstExpr(m, c);
  for (const f of funcs) validateFunc(f.func, m);
  // Functions not compiled are validated too where the subset's typing covers them, so that
  // an invalid module is rejected with a location rather than only by the engine's check.
  const compiled = new Set(funcs);
  for (const f of m.funcs) {
    if (compiled.has(f) || f.unsupported.length > 0 || f.calls.some((c) => (m.funcSigs[c] ?? null) === null)) continue;
    validateFunc(f.func, m);
  }
  validateData(m);
  // Belt and braces: the engine's own validator must agree.
  if (!WebAssembly.validate(new Uint8Array(bytes))) throw invalidModule(m, bytes);
  const memory = m.memory ? { pages: m.memory.pages, maxPages: m.memory.maxPages, data: m.memory.data, ...(m.memory.offset !== undefined ? { offset: m.memory.offset } : {}) } : null;
  return {
    funcs: funcs.map((f) => f.func), funcSigs: m.funcSigs, typeSigs: m.typeSigs,
    tables: m.tables.map((t) => (t.entries ? { entries: t.entries } : null)), outputImport: m.outputImport,
    globals: definedGlobals(m), memory, exports: m.exports,
  };
}
