// frontend/validate.ts — validation of a decoded module (the wasm spec's
// validation algorithm, restricted to the supported i32-only subset).
//
// Checks operand-stack typing (with the polymorphic stack after br/return),
// local indices, label depths, block and function result arity, memory
// presence and alignment for loads/stores, data segment bounds and export
// name uniqueness. Every failure is a CompileError naming the instruction,
// the function and the instruction's byte offset.

import { CompileError } from './errors.js';
import type { DecodedModule } from './decode.js';
import { PAGE_SIZE } from '../ir/ir.js';
import type { WasmFunc, WasmInstr, WasmModule } from './module.js';

interface Frame {
  kind: 'func' | 'block' | 'loop';
  labelArity: number; // values a branch to this label carries
  endArity: number; // values left on the stack at its end
  height: number; // operand stack height at entry
  unreachable: boolean;
}

interface FuncState {
  fn: WasmFunc;
  hasMemory: boolean;
  frames: Frame[];
  height: number; // operand stack height (all values are i32)
}

function fail(st: FuncState, ins: WasmInstr, message: string): never {
  throw new CompileError(`validation failed: ${message}`, {
    instruction: ins.op, func: st.fn.name, offset: ins.pos,
  });
}

function top(st: FuncState): Frame {
  return st.frames[st.frames.length - 1] as Frame;
}

function pop(st: FuncState, ins: WasmInstr, n: number = 1): void {
  for (let i = 0; i < n; i++) {
    const f = top(st);
    if (st.height === f.height) {
      if (f.unreachable) continue;
      fail(st, ins, `type mismatch: expected an i32 operand but the stack is empty`);
    }
    st.height--;
  }
}

function markUnreachable(st: FuncState): void {
  const f = top(st);
  st.height = f.height;
  f.unreachable = true;
}

function label(st: FuncState, ins: WasmInstr, depth: number): Frame {
  const f = st.frames[st.frames.length - 1 - depth];
  if (f === undefined) fail(st, ins, `branch depth ${depth} exceeds the ${st.frames.length} enclosing labels`);
  return f;
}

function checkLocal(st: FuncState, ins: WasmInstr, index: number): void {
  const n = st.fn.numParams + st.fn.numLocals;
  if (index >= n) fail(st, ins, `local index ${index} out of range (function has ${n} locals)`);
}

function checkMemarg(st: FuncState, ins: { op: string; align: number } & WasmInstr): void {
  if (!st.hasMemory) fail(st, ins, `${ins.op} but the module defines no memory`);
  if (ins.align > 2) fail(st, ins, `alignment 2**${ins.align} exceeds the natural alignment 4`);
}

function endFrame(st: FuncState, ins: WasmInstr): void {
  const f = top(st);
  const found = st.height - f.height;
  if (found > f.endArity || (found < f.endArity && !f.unreachable)) {
    const what = f.kind === 'func' ? 'function body' : f.kind;
    fail(st, ins, `type mismatch: the ${what} must end with ${f.endArity} i32 value(s) on the stack, found ${found}`);
  }
  st.height = f.height;
  st.frames.pop();
  st.height += f.endArity;
}

function step(st: FuncState, ins: WasmInstr): void {
  switch (ins.op) {
    case 'nop': return;
    case 'i32.const': st.height++; return;
    case 'i32.add': pop(st, ins, 2); st.height++; return;
    case 'drop': pop(st, ins); return;
    case 'local.get': checkLocal(st, ins, ins.index); st.height++; return;
    case 'local.set': checkLocal(st, ins, ins.index); pop(st, ins); return;
    case 'local.tee': checkLocal(st, ins, ins.index); pop(st, ins); st.height++; return;
    case 'i32.load': checkMemarg(st, ins); pop(st, ins); st.height++; return;
    case 'i32.store': checkMemarg(st, ins); pop(st, ins, 2); return;
    case 'block':
    case 'loop':
      st.frames.push({
        kind: ins.op, labelArity: ins.op === 'loop' ? 0 : ins.results, endArity: ins.results,
        height: st.height, unreachable: false,
      });
      return;
    case 'end': endFrame(st, ins); return;
    case 'br': pop(st, ins, label(st, ins, ins.depth).labelArity); markUnreachable(st); return;
    case 'br_if': {
      const n = label(st, ins, ins.depth).labelArity;
      pop(st, ins);
      pop(st, ins, n);
      st.height += n;
      return;
    }
    case 'return': pop(st, ins, st.fn.numResults); markUnreachable(st); return;
  }
}

function validateFunc(fn: WasmFunc, hasMemory: boolean): void {
  const st: FuncState = {
    fn, hasMemory, height: 0,
    frames: [{ kind: 'func', labelArity: fn.numResults, endArity: fn.numResults, height: 0, unreachable: false }],
  };
  for (const ins of fn.body) {
    if (st.frames.length === 0) fail(st, ins, 'instruction after the final end');
    step(st, ins);
  }
  if (st.frames.length !== 0) {
    throw new CompileError('validation failed: function body not terminated by end', { func: fn.name, offset: fn.pos });
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

/** Validate a decoded module; returns it as the typed WasmModule. */
export function validateModule(m: DecodedModule, bytes: Uint8Array): WasmModule {
  validateExports(m);
  for (const fn of m.funcs) validateFunc(fn, m.memory !== null);
  validateData(m);
  // Belt and braces: the engine's own validator must agree.
  if (!WebAssembly.validate(new Uint8Array(bytes))) throw new CompileError('invalid module (rejected by the WebAssembly validator)');
  return { funcs: m.funcs, memory: m.memory, exports: m.exports };
}
