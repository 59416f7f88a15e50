// ir/ir.ts — the SSA intermediate representation shared by every pass.
//
// A module is a set of functions, i32 globals and (at most) one linear memory.
// A function is a list of basic blocks; block 0 is the entry and its
// parameters are the function's parameters. Every value is an i32 SSA value
// defined exactly once, either as a block parameter or as the result of an
// instruction. Blocks end in exactly one terminator; branch targets receive
// values through block parameters (no phi nodes).
//
// Text form (printed by ir/print.ts, parsed by ir/parse.ts):
//
//   memory pages=1 max=2
//   data 16 "\41\42\05"
//   global mut 65536 $__stack_pointer
//   func $lookup (export "lookup") params=1 results=1
//   block0(v0):
//     v1 = iconst 5
//     v2 = add v0, v1             ; any binary code: sub mul div_s ... lt_u ge_s
//     v3 = eqz v2                 ; any unary code: clz ctz popcnt extend8_s extend16_s
//     v4 = select v3, v1, v2      ; v3 != 0 ? v1 : v2
//     v5 = load8_s v2 offset=0    ; load / load8_s / load8_u / load16_s / load16_u
//     store16 v2, v3 offset=4     ; store / store8 / store16
//     v6 = global_get 0
//     global_set 0, v6
//     v7 = memory_size
//     v8 = memory_grow v7
//     output v8
//     v12 = poison "f32.add" 42   ; a float value not computed, at byte offset 42 (never reaches the backend)
//     br_if v3, block1(v2), block2(v0, v1)
//   block1(v9):
//     br_table v9, [block2(v9, v9), block3], block3
//   block2(v10, v11):
//     call $lookup(v10), block3(v11)   ; continues at block3(results..., v11)
//   block3(...):
//     trap unreachable
//
// Semantics (exactly WebAssembly's): arithmetic wraps mod 2^32; comparisons
// yield 0/1; div/rem trap as wasm does (ir/instructions.ts has each operator's
// evaluate and trap); load/store use ea = addr_u32 + offset (no wrap) and trap
// "out of bounds memory access" if ea + bytes > memory size (a trapping store
// writes nothing); memory_grow returns the old size in pages, or -1 when the
// new size would pass maxPages; `output v` writes the byte v & 255 to the
// program's output (the import env.output_byte). A `call` ends its block:
// when the callee returns, control continues at cont.block, whose params are
// [...results, ...cont.args] (cont.args: the caller's values live across the
// call, the saved frame). One "step" of execution is one basic block: the IR
// interpreter, the transformer runtime and the CLI all count steps this way.

import type { TrapCode } from '../format/errors.js';
import { binaryMayTrap, type BinaryCode, type UnaryCode } from './instructions.js';

export type { BinaryCode, UnaryCode } from './instructions.js';

export type ValueId = number; // printed as v<N>; unique within a function
export type BlockId = number; // index into Func.blocks; printed as block<N>

export interface BlockTarget {
  block: BlockId;
  args: ValueId[];
}

export type Inst =
  | { op: 'iconst'; dst: ValueId; value: number }
  | { op: 'unary'; code: UnaryCode; dst: ValueId; a: ValueId }
  | { op: 'binary'; code: BinaryCode; dst: ValueId; a: ValueId; b: ValueId }
  | { op: 'select'; dst: ValueId; cond: ValueId; a: ValueId; b: ValueId }
  /**
   * Accesses and outputs may carry a `guard` (backend/merge_steps.ts): they happen, and may trap,
   * only when the guard value is nonzero (a guarded load that does not happen reads 0).
   */
  | { op: 'load'; dst: ValueId; addr: ValueId; offset: number; bytes: 1 | 2 | 4; signed: boolean; guard?: ValueId }
  | { op: 'store'; addr: ValueId; value: ValueId; offset: number; bytes: 1 | 2 | 4; guard?: ValueId }
  | { op: 'global_get'; dst: ValueId; index: number }
  | { op: 'global_set'; index: number; value: ValueId }
  | { op: 'memory_size'; dst: ValueId }
  | { op: 'memory_grow'; dst: ValueId; delta: ValueId }
  | { op: 'output'; value: ValueId; guard?: ValueId }
  /**
   * A float value the compiler does not compute (frontend/lower_words.ts): pure, so removed when
   * unused; one still present after simplification is a CompileError (ir/poison.ts). `what` is the
   * instruction, `offset` its byte offset.
   */
  | { op: 'poison'; dst: ValueId; what: string; offset: number };

export type Terminator =
  | { op: 'jump'; target: BlockTarget }
  | { op: 'br_if'; cond: ValueId; then: BlockTarget; else: BlockTarget }
  | { op: 'br_table'; index: ValueId; targets: BlockTarget[]; default: BlockTarget }
  | { op: 'return'; values: ValueId[] }
  | { op: 'trap'; code: TrapCode }
  | { op: 'call'; func: string; args: ValueId[]; cont: BlockTarget };

export interface Block {
  params: ValueId[];
  insts: Inst[];
  term: Terminator;
}

export interface Func {
  name: string; // export name if exported, else `func<index>`
  exportNames: string[]; // names under which the function is exported
  numParams: number;
  numResults: number;
  blocks: Block[];
}

export interface DataSegment {
  offset: number; // byte offset in memory (constant)
  bytes: Uint8Array;
}

export interface Memory {
  pages: number; // initial size in 64 KiB pages
  maxPages: number; // memory.grow fails (returns -1) past this many pages
  data: DataSegment[];
  /** Byte offset of its definition in the module (for errors). */
  offset?: number;
}

export interface Global {
  mutable: boolean;
  init: number; // signed i32
  name?: string; // export name, else the name section's, if any
}

export interface Module {
  funcs: Func[];
  globals: Global[];
  memory: Memory | null;
}

export const PAGE_SIZE = 65536;
/** The most pages a 32-bit memory can have (and the default supported limit of memory.grow). */
export const MAX_MEMORY_PAGES = 65536;

export type InstOp = Inst['op'];

/** Per instruction kind: its operand fields (in operand order) and whether it defines a value. */
const INST_FIELDS: { readonly [K in InstOp]: { uses: readonly string[]; dst: boolean } } = {
  iconst: { uses: [], dst: true },
  unary: { uses: ['a'], dst: true },
  binary: { uses: ['a', 'b'], dst: true },
  select: { uses: ['cond', 'a', 'b'], dst: true },
  load: { uses: ['addr'], dst: true },
  store: { uses: ['addr', 'value'], dst: false },
  global_get: { uses: [], dst: true },
  global_set: { uses: ['value'], dst: false },
  memory_size: { uses: [], dst: true },
  memory_grow: { uses: ['delta'], dst: true },
  output: { uses: ['value'], dst: false },
  poison: { uses: [], dst: true },
};

type Fields = Record<string, unknown>;

/** The value an instruction defines (stores, global_set and output define none). */
export function instDst(inst: Inst): ValueId | null {
  return INST_FIELDS[inst.op].dst ? ((inst as unknown as Fields)['dst'] as ValueId) : null;
}

/** An instruction's guard (merge_steps.ts), if it has one. */
export function instGuard(inst: Inst): ValueId | undefined {
  return inst.op === 'load' || inst.op === 'store' || inst.op === 'output' ? inst.guard : undefined;
}

/** Values read by an instruction, in operand order (a guard last). */
export function instUses(inst: Inst): ValueId[] {
  const uses = INST_FIELDS[inst.op].uses.map((k) => (inst as unknown as Fields)[k] as ValueId);
  const g = instGuard(inst);
  return g === undefined ? uses : [...uses, g];
}

/**
 * Whether an instruction whose result is unused can be deleted: it has no effect and
 * cannot trap (loads, stores, global_set, memory_grow, output and trapping div/rem stay).
 */
export function instRemovable(inst: Inst): boolean {
  switch (inst.op) {
    case 'iconst': case 'unary': case 'select': case 'global_get': case 'memory_size': case 'poison': return true;
    case 'binary': return !binaryMayTrap(inst.code);
    default: return false;
  }
}

/** Values read by a terminator, in operand order. */
export function termUses(term: Terminator): ValueId[] {
  switch (term.op) {
    case 'jump': return [...term.target.args];
    case 'br_if': return [term.cond, ...term.then.args, ...term.else.args];
    case 'br_table': return [term.index, ...term.targets.flatMap((t) => t.args), ...term.default.args];
    case 'return': return [...term.values];
    case 'trap': return [];
    case 'call': return [...term.args, ...term.cont.args];
  }
}

/** Successor targets of a terminator. */
export function termTargets(term: Terminator): BlockTarget[] {
  switch (term.op) {
    case 'jump': return [term.target];
    case 'br_if': return [term.then, term.else];
    case 'br_table': return [...term.targets, term.default];
    case 'return': case 'trap': return [];
    case 'call': return [term.cont];
  }
}

/**
 * How many leading params of `target`'s block an edge does not supply through its args:
 * a call's continuation receives the callee's results first.
 */
export function implicitParams(term: Terminator, targetBlock: Block): number {
  return term.op === 'call' ? targetBlock.params.length - term.cont.args.length : 0;
}

/** A target with its arguments renamed. */
export function mapTarget(t: BlockTarget, f: (v: ValueId) => ValueId): BlockTarget {
  return { block: t.block, args: t.args.map(f) };
}

/** An instruction with its operands renamed (the result is never renamed). */
export function mapInst(i: Inst, f: (v: ValueId) => ValueId): Inst {
  const out: Fields = { ...(i as unknown as Fields) };
  for (const k of INST_FIELDS[i.op].uses) out[k] = f(out[k] as ValueId);
  if (out['guard'] !== undefined) out['guard'] = f(out['guard'] as ValueId);
  return out as unknown as Inst;
}

/** An instruction with its result renamed. */
export function mapDst(i: Inst, f: (v: ValueId) => ValueId): Inst {
  if (!INST_FIELDS[i.op].dst) return i;
  const out: Fields = { ...(i as unknown as Fields) };
  out['dst'] = f(out['dst'] as ValueId);
  return out as unknown as Inst;
}

/** A terminator with its operands renamed by f, then each target rewritten by g. */
export function mapTerm(t: Terminator, f: (v: ValueId) => ValueId, g: (t: BlockTarget) => BlockTarget = (x) => x): Terminator {
  const tg = (x: BlockTarget): BlockTarget => g(mapTarget(x, f));
  switch (t.op) {
    case 'jump': return { op: 'jump', target: tg(t.target) };
    case 'br_if': return { op: 'br_if', cond: f(t.cond), then: tg(t.then), else: tg(t.else) };
    case 'br_table': return { op: 'br_table', index: f(t.index), targets: t.targets.map(tg), default: tg(t.default) };
    case 'return': return { op: 'return', values: t.values.map(f) };
    case 'trap': return { op: 'trap', code: t.code };
    case 'call': return { op: 'call', func: t.func, args: t.args.map(f), cont: tg(t.cont) };
  }
}

/** The initial memory image of a module (zeros plus data segments, later segments win). */
/** The smallest ValueId not used in f (for passes that add values). */
export function nextValueId(f: Func): ValueId {
  let next = 0;
  for (const b of f.blocks) {
    for (const p of b.params) next = Math.max(next, p + 1);
    for (const i of b.insts) {
      const d = instDst(i);
      if (d !== null) next = Math.max(next, d + 1);
    }
  }
  return next;
}

export function initialMemory(mod: Module): Uint8Array {
  if (!mod.memory) return new Uint8Array(0);
  const mem = new Uint8Array(mod.memory.pages * PAGE_SIZE);
  for (const seg of mod.memory.data) mem.set(seg.bytes, seg.offset);
  return mem;
}

/** The initial values of a module's globals. */
export function initialGlobals(mod: Module): number[] {
  return mod.globals.map((g) => g.init | 0);
}
