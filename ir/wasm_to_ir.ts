// ir/wasm_to_ir.ts — lower validated wasm functions to SSA basic blocks.
//
// Locals and operand-stack values become SSA values. Structured control flow
// maps to blocks: a `block`'s or `if`'s label is a continuation block created
// at the construct (params: every local, then the results), a `loop`'s label
// is its header block (params: every local, then the loop's params). An `if`
// ends its block with br_if to a then-block and an else-block (an absent else
// passes its params through). Values on the operand stack below a construct
// (and a block's params) are defined before it and dominate its
// continuation, so they are referenced directly. br_if splits the current
// block (fallthrough block with no params); br_table ends it. A `call` ends
// its block: the continuation's params are the callee's results, and values
// live across the call are referenced directly (ir/localize.ts turns them
// into the carried frame). A call to the env.output_byte import is the
// `output` instruction. A `call_indirect` (through a table whose entries the
// frontend fixed) is a br_table on the index over the entries: each function of
// the instruction's type is a block calling it (whose continuation jumps to a
// join block taking the results), a null entry traps "uninitialized element",
// another type "indirect call type mismatch", an index past the end "undefined
// element" (tables of more than 64 entries dispatch in levels of 64). Code after br/br_table/return/unreachable is skipped
// until the enclosing `end` or `else`. Branching to the function's own label
// (or `return`) is an IR `return`. Each instruction's IR form comes from its
// entry in ir/instructions.ts. ir/simplify.ts then makes the blocks maximal
// and prunes params.

import { TrapCode } from '../format/errors.js';
import { formOf, type Form } from './instructions.js';
import { MAX_MEMORY_PAGES, type Block, type BlockId, type BlockTarget, type Func, type Inst, type Module, type Terminator, type ValueId } from './ir.js';
import { removeUnreachable } from './simplify.js';
import { sameSig, type BlockSig, type FuncSig, type WasmFunc, type WasmInstr, type WasmModule, type WasmTable } from '../frontend/module.js';

export interface LowerOptions {
  /** memory.grow fails past this many pages even without a declared maximum (default: MAX_MEMORY_PAGES). */
  maxMemoryPages?: number;
}

interface Frame {
  kind: 'func' | 'block' | 'loop' | 'if' | 'dead';
  sig: BlockSig;
  target: BlockId; // block/if: continuation; loop: header; func/dead: unused (-1)
  height: number; // operand stack height at entry, below the params
  reached: boolean; // block/if: some edge reaches the continuation
  elseBlock: BlockId; // if: where the else arm starts
  hasElse: boolean;
  entryLocals: ValueId[]; // if: locals at entry (the else arm starts from them)
  paramVals: ValueId[]; // if: its params (the else arm starts with them)
}

interface ModuleInfo {
  funcName: Map<number, string>;
  results: Map<number, number>;
  params: Map<number, number>;
  globalIndex: Map<number, number>; // wasm global index -> IR global index
  outputImport: number | null;
  funcSigs: ReadonlyArray<FuncSig | null>;
  typeSigs: ReadonlyArray<FuncSig | null>;
  tables: ReadonlyArray<WasmTable | null>;
}

interface Lowering {
  info: ModuleInfo;
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

function popN(L: Lowering, n: number): ValueId[] {
  return n === 0 ? [] : L.stack.splice(L.stack.length - n, n);
}

function topValues(L: Lowering, n: number): ValueId[] {
  return n === 0 ? [] : L.stack.slice(L.stack.length - n);
}

function frameAt(L: Lowering, depth: number): Frame {
  return L.frames[L.frames.length - 1 - depth] as Frame;
}

function frame(kind: Frame['kind'], sig: BlockSig, target: BlockId, height: number): Frame {
  return { kind, sig, target, height, reached: false, elseBlock: -1, hasElse: false, entryLocals: [], paramVals: [] };
}

/** A block that returns the values now on top of the stack (a branch to the function label). */
function returnBlock(L: Lowering): BlockTarget {
  const ret = newBlock(L, 0);
  (L.blocks[ret] as Block).term = { op: 'return', values: topValues(L, L.numResults) };
  return { block: ret, args: [] };
}

/** Where a branch to `f` goes: a block target, or null for the function exit. */
function branchTarget(L: Lowering, f: Frame): BlockTarget | null {
  if (f.kind === 'func') return null;
  if (f.kind === 'loop') return { block: f.target, args: [...L.locals, ...topValues(L, f.sig.params)] };
  f.reached = true;
  return { block: f.target, args: [...L.locals, ...topValues(L, f.sig.results)] };
}

function br(L: Lowering, f: Frame): void {
  const t = branchTarget(L, f);
  terminate(L, t ? { op: 'jump', target: t } : { op: 'return', values: topValues(L, L.numResults) });
}

function brIf(L: Lowering, f: Frame): void {
  const cond = pop(L);
  const then = branchTarget(L, f) ?? returnBlock(L);
  const fall = newBlock(L, 0);
  current(L).term = { op: 'br_if', cond, then, else: { block: fall, args: [] } };
  L.cur = fall;
}

function brTable(L: Lowering, ins: WasmInstr): void {
  if (ins.imm !== 'br_table') return;
  const index = pop(L);
  let ret: BlockTarget | null = null;
  const to = (depth: number): BlockTarget => branchTarget(L, frameAt(L, depth)) ?? (ret ??= returnBlock(L));
  const targets = ins.targets.map(to);
  terminate(L, { op: 'br_table', index, targets, default: to(ins.default) });
}

function enter(L: Lowering, ins: WasmInstr, kind: 'block' | 'loop' | 'if'): void {
  const sig = ins.imm === 'block' ? ins.sig : { params: 0, results: 0 };
  if (L.cur === null) {
    L.frames.push(frame('dead', sig, -1, L.stack.length));
    return;
  }
  const cond = kind === 'if' ? pop(L) : -1;
  const height = L.stack.length - sig.params;
  const nl = L.locals.length;
  if (kind === 'block') {
    L.frames.push(frame('block', sig, newBlock(L, nl + sig.results), height));
  } else if (kind === 'loop') {
    const header = newBlock(L, nl + sig.params);
    terminate(L, { op: 'jump', target: { block: header, args: [...L.locals, ...topValues(L, sig.params)] } });
    L.cur = header;
    const params = (L.blocks[header] as Block).params;
    L.locals = params.slice(0, nl);
    L.stack.length = height;
    L.stack.push(...params.slice(nl));
    L.frames.push(frame('loop', sig, header, height));
  } else {
    const f = frame('if', sig, newBlock(L, nl + sig.results), height);
    const thenB = newBlock(L, 0);
    f.elseBlock = newBlock(L, 0);
    f.entryLocals = [...L.locals];
    f.paramVals = topValues(L, sig.params);
    current(L).term = { op: 'br_if', cond, then: { block: thenB, args: [] }, else: { block: f.elseBlock, args: [] } };
    L.cur = thenB;
    L.frames.push(f);
  }
}

/** Start the else arm of an `if` (the then arm, if still live, jumps to the continuation). */
function startElse(L: Lowering, f: Frame): void {
  if (L.cur !== null) br(L, f);
  L.cur = f.elseBlock;
  L.locals = [...f.entryLocals];
  L.stack.length = f.height;
  L.stack.push(...f.paramVals);
  f.hasElse = true;
}

function leave(L: Lowering): void {
  const f = L.frames[L.frames.length - 1] as Frame;
  if (f.kind === 'if' && !f.hasElse) startElse(L, f); // the implicit else passes its params on
  L.frames.pop();
  if (f.kind === 'dead') return;
  if (f.kind === 'func') {
    if (L.cur !== null) terminate(L, { op: 'return', values: topValues(L, f.sig.results) });
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

function push(L: Lowering, make: (dst: ValueId) => Inst): void {
  const dst = fresh(L);
  emit(L, make(dst));
  L.stack.push(dst);
}

function call(L: Lowering, index: number): void {
  if (index === L.info.outputImport) {
    emit(L, { op: 'output', value: pop(L) });
    return;
  }
  const func = L.info.funcName.get(index) as string;
  const args = popN(L, L.info.params.get(index) as number);
  const cont = newBlock(L, L.info.results.get(index) as number);
  terminate(L, { op: 'call', func, args, cont: { block: cont, args: [] } });
  L.cur = cont;
  L.stack.push(...(L.blocks[cont] as Block).params);
}

/** call_indirect through a fixed table: a br_table over its entries (see the header). */
function callIndirect(L: Lowering, ins: WasmInstr): void {
  if (ins.imm !== 'call_indirect') return;
  const sig = L.info.typeSigs[ins.type] as FuncSig;
  const entries = (L.info.tables[ins.table] as WasmTable).entries;
  const index = pop(L);
  const args = popN(L, sig.params);
  const join = newBlock(L, sig.results);
  const traps = new Map<TrapCode, BlockTarget>();
  const trapTo = (code: TrapCode): BlockTarget => {
    let t = traps.get(code);
    if (t === undefined) {
      const b = newBlock(L, 0);
      (L.blocks[b] as Block).term = { op: 'trap', code };
      traps.set(code, (t = { block: b, args: [] }));
    }
    return t;
  };
  const calls = new Map<number, BlockTarget>();
  const callTo = (f: number): BlockTarget => {
    let t = calls.get(f);
    if (t === undefined) {
      const b = newBlock(L, 0);
      const cont = newBlock(L, sig.results);
      (L.blocks[b] as Block).term = { op: 'call', func: L.info.funcName.get(f) as string, args, cont: { block: cont, args: [] } };
      (L.blocks[cont] as Block).term = { op: 'jump', target: { block: join, args: [...(L.blocks[cont] as Block).params] } };
      calls.set(f, (t = { block: b, args: [] }));
    }
    return t;
  };
  const targets = entries.map((e) => {
    if (e === null) return trapTo(TrapCode.UninitializedElement);
    const s = L.info.funcSigs[e];
    return s && sameSig(s, sig) ? callTo(e) : trapTo(TrapCode.IndirectCallTypeMismatch);
  });
  tableSwitch(L, index, targets, trapTo(TrapCode.UndefinedElement));
  L.cur = join;
  L.stack.push(...(L.blocks[join] as Block).params);
}

/** The most targets one br_table of a call_indirect gets; a larger table is dispatched in levels. */
const SWITCH_FANOUT = 64;

/**
 * End the current block with a dispatch of `index` (unsigned) over `targets`, `dflt` past
 * them: one br_table, or for more than SWITCH_FANOUT targets a br_table on index >> k over
 * chunks of 2^k targets, each dispatching on index & (2^k − 1) the same way.
 */
function tableSwitch(L: Lowering, index: ValueId, targets: BlockTarget[], dflt: BlockTarget): void {
  if (targets.length <= SWITCH_FANOUT) {
    terminate(L, { op: 'br_table', index, targets, default: dflt });
    return;
  }
  let chunk = SWITCH_FANOUT;
  while (chunk * SWITCH_FANOUT < targets.length) chunk *= SWITCH_FANOUT;
  const value = (v: number): ValueId => {
    const dst = fresh(L);
    emit(L, { op: 'iconst', dst, value: v });
    return dst;
  };
  const shift = value(Math.log2(chunk));
  const hi = fresh(L);
  emit(L, { op: 'binary', code: 'shr_u', dst: hi, a: index, b: shift });
  const mask = value(chunk - 1);
  const lo = fresh(L);
  emit(L, { op: 'binary', code: 'and', dst: lo, a: index, b: mask });
  const chunks: BlockTarget[] = [];
  for (let k = 0; k < targets.length; k += chunk) chunks.push({ block: newBlock(L, 0), args: [] });
  terminate(L, { op: 'br_table', index: hi, targets: chunks, default: dflt });
  chunks.forEach((c, j) => {
    L.cur = c.block;
    tableSwitch(L, lo, targets.slice(j * chunk, (j + 1) * chunk), dflt);
  });
}

function indexOf(ins: WasmInstr): number {
  return ins.imm === 'index' ? ins.index : -1;
}

function offsetOf(ins: WasmInstr): number {
  return ins.imm === 'memarg' ? ins.offset : 0;
}

function control(L: Lowering, ins: WasmInstr, c: Extract<Form, { kind: 'control' }>['control']): void {
  switch (c) {
    case 'nop': return;
    case 'drop': pop(L); return;
    case 'unreachable': terminate(L, { op: 'trap', code: TrapCode.Unreachable }); return;
    case 'br': return br(L, frameAt(L, indexOf(ins)));
    case 'br_if': return brIf(L, frameAt(L, indexOf(ins)));
    case 'br_table': return brTable(L, ins);
    case 'return': return br(L, L.frames[0] as Frame);
    case 'call': return call(L, indexOf(ins));
    case 'call_indirect': return callIndirect(L, ins);
    default: return; // structure (block/loop/if/else/end) is handled by lowerInstr
  }
}

function lowerForm(L: Lowering, ins: WasmInstr, form: Form): void {
  switch (form.kind) {
    case 'const': return push(L, (dst) => ({ op: 'iconst', dst, value: ins.imm === 'i32' ? ins.value | 0 : 0 }));
    case 'unary': { const a = pop(L); return push(L, (dst) => ({ op: 'unary', code: form.code, dst, a })); }
    case 'binary': {
      const b = pop(L);
      const a = pop(L);
      return push(L, (dst) => ({ op: 'binary', code: form.code, dst, a, b }));
    }
    case 'select': {
      const cond = pop(L);
      const b = pop(L);
      const a = pop(L);
      return push(L, (dst) => ({ op: 'select', dst, cond, a, b }));
    }
    case 'load': {
      const addr = pop(L);
      return push(L, (dst) => ({ op: 'load', dst, addr, offset: offsetOf(ins), bytes: form.bytes, signed: form.signed }));
    }
    case 'store': {
      const value = pop(L);
      emit(L, { op: 'store', addr: pop(L), value, offset: offsetOf(ins), bytes: form.bytes });
      return;
    }
    case 'memory_size': return push(L, (dst) => ({ op: 'memory_size', dst }));
    case 'memory_grow': { const delta = pop(L); return push(L, (dst) => ({ op: 'memory_grow', dst, delta })); }
    case 'local': {
      const i = indexOf(ins);
      if (form.access === 'get') L.stack.push(L.locals[i] as ValueId);
      else if (form.access === 'set') L.locals[i] = pop(L);
      else L.locals[i] = L.stack[L.stack.length - 1] as ValueId;
      return;
    }
    case 'global': {
      const index = L.info.globalIndex.get(indexOf(ins)) as number;
      if (form.access === 'get') return push(L, (dst) => ({ op: 'global_get', dst, index }));
      emit(L, { op: 'global_set', index, value: pop(L) });
      return;
    }
    case 'control': return control(L, ins, form.control);
    case 'poison': return push(L, (dst) => ({ op: 'poison', dst, what: ins.imm === 'poison' ? ins.what : ins.op, offset: ins.pos }));
    case 'wide': throw new Error(`wasm_to_ir: ${ins.op} was not lowered to words (frontend/lower_words.ts)`);
  }
}

function lowerInstr(L: Lowering, ins: WasmInstr): void {
  if (ins.op === 'block' || ins.op === 'loop' || ins.op === 'if') return enter(L, ins, ins.op);
  if (ins.op === 'end') return leave(L);
  if (ins.op === 'else') {
    const f = L.frames[L.frames.length - 1] as Frame;
    if (f.kind === 'if') startElse(L, f);
    return;
  }
  if (L.cur === null) return; // unreachable code: not emitted
  const form = formOf(ins.op);
  if (!form) throw new Error(`wasm_to_ir: ${ins.op} has no IR form (the frontend should have rejected it)`);
  lowerForm(L, ins, form);
}

/** IR name of a wasm function: its first export name, else `func<index>`. */
export function irFuncName(fn: WasmFunc): string {
  return fn.exportNames[0] ?? `func${fn.index}`;
}

function moduleInfo(m: WasmModule): ModuleInfo {
  const funcName = new Map<number, string>();
  const results = new Map<number, number>();
  const params = new Map<number, number>();
  for (const f of m.funcs) {
    funcName.set(f.index, irFuncName(f));
    results.set(f.index, f.numResults);
    params.set(f.index, f.numParams);
  }
  return {
    funcName, results, params, globalIndex: new Map(m.globals.map((g, i) => [g.index, i])), outputImport: m.outputImport,
    funcSigs: m.funcSigs, typeSigs: m.typeSigs, tables: m.tables,
  };
}

/** Lower one validated wasm function to IR (not yet simplified). */
export function lowerFunc(fn: WasmFunc, info: ModuleInfo): Func {
  const sig = { params: 0, results: fn.numResults };
  const L: Lowering = {
    info, blocks: [], nextValue: 0, cur: null, locals: [], stack: [], numResults: fn.numResults,
    frames: [frame('func', sig, -1, 0)],
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

/** Lower a validated module (every function it holds). */
export function lowerModule(m: WasmModule, opts: LowerOptions = {}): Module {
  const info = moduleInfo(m);
  const funcs = m.funcs.map((f) => lowerFunc(f, info));
  const limit = opts.maxMemoryPages ?? MAX_MEMORY_PAGES;
  const memory = m.memory
    ? {
      pages: m.memory.pages,
      maxPages: Math.max(m.memory.pages, Math.min(m.memory.maxPages ?? MAX_MEMORY_PAGES, limit)),
      data: m.memory.data.map((d) => ({ offset: d.offset, bytes: d.bytes.slice() })),
      ...(m.memory.offset !== undefined ? { offset: m.memory.offset } : {}),
    }
    : null;
  const globals = m.globals.map((g) => ({ mutable: g.mutable, init: g.init | 0, ...(g.name !== undefined ? { name: g.name } : {}) }));
  return { funcs, globals, memory };
}
