// ir/wasm_to_ir.ts — lower validated wasm functions to SSA basic blocks.
//
// Locals and operand-stack values become SSA values. Structured control flow
// maps to blocks: a `block`'s label is a continuation block created at the
// `block` (params: every local, then the block's result), a `loop`'s label is
// its header block (params: every local). Values on the operand stack below a
// construct are defined before it and dominate its continuation, so they are
// referenced directly. br_if splits the current block (fallthrough block with
// no params). Code after br/return is skipped until the enclosing `end`.
// Branching to the function's own label (or `return`) is an IR `return`.
// ir/simplify.ts then makes the blocks maximal and prunes params.

import type { Block, BlockId, BlockTarget, Func, Inst, Module, Terminator, ValueId } from './ir.js';
import { removeUnreachable } from './simplify.js';
import type { WasmFunc, WasmInstr, WasmModule } from '../frontend/module.js';

interface Frame {
  kind: 'func' | 'block' | 'loop' | 'dead';
  arity: number; // values at the frame's end (and carried by a branch to a block)
  target: BlockId; // block: continuation; loop: header; func/dead: unused (-1)
  height: number; // operand stack height at entry
  reached: boolean; // block: some edge reaches the continuation
}

interface Lowering {
  blocks: Block[];
  nextValue: number;
  cur: BlockId | null; // null while the code is unreachable
  locals: ValueId[];
  stack: ValueId[];
  frames: Frame[];
  numResults: number;
}

const OPEN: Terminator = { op: 'return', values: [] }; // placeholder until terminated

function fresh(L: Lowering): ValueId {
  return L.nextValue++;
}

function newBlock(L: Lowering, numParams: number): BlockId {
  const params = Array.from({ length: numParams }, () => fresh(L));
  L.blocks.push({ params, insts: [], term: OPEN });
  return L.blocks.length - 1;
}

function current(L: Lowering): Block {
  return L.blocks[L.cur as BlockId] as Block;
}

function emit(L: Lowering, inst: Inst): void {
  current(L).insts.push(inst);
}

function terminate(L: Lowering, term: Terminator): void {
  current(L).term = term;
  L.cur = null;
}

function pop(L: Lowering): ValueId {
  return L.stack.pop() as ValueId;
}

function topValues(L: Lowering, n: number): ValueId[] {
  return n === 0 ? [] : L.stack.slice(L.stack.length - n);
}

function frameAt(L: Lowering, depth: number): Frame {
  return L.frames[L.frames.length - 1 - depth] as Frame;
}

/** Where a branch to `f` goes: a block target, or null for the function exit. */
function branchTarget(L: Lowering, f: Frame): BlockTarget | null {
  if (f.kind === 'func') return null;
  if (f.kind === 'loop') return { block: f.target, args: [...L.locals] };
  f.reached = true;
  return { block: f.target, args: [...L.locals, ...topValues(L, f.arity)] };
}

function br(L: Lowering, f: Frame): void {
  const t = branchTarget(L, f);
  terminate(L, t ? { op: 'jump', target: t } : { op: 'return', values: topValues(L, L.numResults) });
}

function brIf(L: Lowering, f: Frame): void {
  const cond = pop(L);
  let then = branchTarget(L, f);
  if (!then) {
    const ret = newBlock(L, 0);
    (L.blocks[ret] as Block).term = { op: 'return', values: topValues(L, L.numResults) };
    then = { block: ret, args: [] };
  }
  const fall = newBlock(L, 0);
  current(L).term = { op: 'br_if', cond, then, else: { block: fall, args: [] } };
  L.cur = fall;
}

function enter(L: Lowering, ins: { op: 'block' | 'loop'; results: 0 | 1 }): void {
  const height = L.stack.length;
  if (L.cur === null) {
    L.frames.push({ kind: 'dead', arity: 0, target: -1, height, reached: false });
  } else if (ins.op === 'block') {
    const cont = newBlock(L, L.locals.length + ins.results);
    L.frames.push({ kind: 'block', arity: ins.results, target: cont, height, reached: false });
  } else {
    const header = newBlock(L, L.locals.length);
    terminate(L, { op: 'jump', target: { block: header, args: [...L.locals] } });
    L.cur = header;
    L.locals = [...(L.blocks[header] as Block).params];
    L.frames.push({ kind: 'loop', arity: ins.results, target: header, height, reached: false });
  }
}

function leave(L: Lowering): void {
  const f = L.frames.pop() as Frame;
  if (f.kind === 'dead') return;
  if (f.kind === 'func') {
    if (L.cur !== null) terminate(L, { op: 'return', values: topValues(L, f.arity) });
    return;
  }
  if (f.kind === 'loop') {
    if (L.cur === null) L.stack.length = f.height;
    return;
  }
  if (L.cur !== null) br(L, f);
  L.stack.length = f.height;
  if (!f.reached) return; // continuation unreachable; stay dead
  const params = (L.blocks[f.target] as Block).params;
  L.cur = f.target;
  L.locals = params.slice(0, L.locals.length);
  L.stack.push(...params.slice(L.locals.length));
}

function lowerInstr(L: Lowering, ins: WasmInstr): void {
  if (ins.op === 'block' || ins.op === 'loop') return enter(L, ins);
  if (ins.op === 'end') return leave(L);
  if (L.cur === null) return; // unreachable code: not emitted
  switch (ins.op) {
    case 'nop': return;
    case 'drop': pop(L); return;
    case 'i32.const': {
      const dst = fresh(L);
      emit(L, { op: 'iconst', dst, value: ins.value | 0 });
      L.stack.push(dst);
      return;
    }
    case 'i32.add': {
      const b = pop(L);
      const a = pop(L);
      const dst = fresh(L);
      emit(L, { op: 'iadd', dst, a, b });
      L.stack.push(dst);
      return;
    }
    case 'i32.load': {
      const dst = fresh(L);
      emit(L, { op: 'load', dst, addr: pop(L), offset: ins.offset });
      L.stack.push(dst);
      return;
    }
    case 'i32.store': {
      const value = pop(L);
      emit(L, { op: 'store', addr: pop(L), value, offset: ins.offset });
      return;
    }
    case 'local.get': L.stack.push(L.locals[ins.index] as ValueId); return;
    case 'local.set': L.locals[ins.index] = pop(L); return;
    case 'local.tee': L.locals[ins.index] = L.stack[L.stack.length - 1] as ValueId; return;
    case 'br': return br(L, frameAt(L, ins.depth));
    case 'br_if': return brIf(L, frameAt(L, ins.depth));
    case 'return': return br(L, L.frames[0] as Frame);
  }
}

/** IR name of a wasm function: its first export name, else `func<index>`. */
export function irFuncName(fn: WasmFunc): string {
  return fn.exportNames[0] ?? `func${fn.index}`;
}

/** Lower one validated wasm function to IR (not yet simplified). */
export function lowerFunc(fn: WasmFunc): Func {
  const L: Lowering = {
    blocks: [], nextValue: 0, cur: null, locals: [], stack: [], numResults: fn.numResults,
    frames: [{ kind: 'func', arity: fn.numResults, target: -1, height: 0, reached: false }],
  };
  L.cur = newBlock(L, fn.numParams);
  L.locals = [...(L.blocks[0] as Block).params];
  if (fn.numLocals > 0) {
    const zero = fresh(L);
    emit(L, { op: 'iconst', dst: zero, value: 0 });
    for (let i = 0; i < fn.numLocals; i++) L.locals.push(zero);
  }
  for (const ins of fn.body) lowerInstr(L, ins);
  // Continuations nothing reaches keep their placeholder terminator: drop them.
  return removeUnreachable({
    name: irFuncName(fn), exportNames: [...fn.exportNames],
    numParams: fn.numParams, numResults: fn.numResults, blocks: L.blocks,
  });
}

/** Lower a validated module; `funcIndices` selects functions (default: all). */
export function lowerModule(m: WasmModule, funcIndices?: number[]): Module {
  const keep = funcIndices ? new Set(funcIndices) : null;
  const funcs = m.funcs.filter((f) => keep === null || keep.has(f.index)).map(lowerFunc);
  const memory = m.memory
    ? { pages: m.memory.pages, data: m.memory.data.map((d) => ({ offset: d.offset, bytes: d.bytes.slice() })) }
    : null;
  return { funcs, memory };
}
