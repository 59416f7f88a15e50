// ir/ir.ts — the SSA intermediate representation shared by every pass.
//
// A module is a set of functions plus (at most) one linear memory. A function
// is a list of basic blocks; block 0 is the entry and its parameters are the
// function's parameters. Every value is an i32 SSA value defined exactly once,
// either as a block parameter or as the result of an instruction. Blocks end
// in exactly one terminator; branch targets receive values through block
// parameters (no phi nodes).
//
// Text form (printed by ir/print.ts, parsed by ir/parse.ts):
//
//   memory pages=1
//   data 16 "\41\42\05"
//   func $lookup (export "lookup") params=1 results=1
//   block0(v0):
//     v1 = iconst 5
//     v2 = iadd v0, v1
//     v3 = load v2 offset=0
//     store v2, v3 offset=4
//     br_if v3, block1(v2), block2(v0, v1)
//   block1(v4):
//     jump block2(v4, v4)
//   block2(v5, v6):
//     return v5
//
// Semantics (exactly WebAssembly's for the supported subset):
//   iconst c        : the i32 c (stored as a signed 32-bit JS number)
//   iadd a, b       : (a + b) mod 2^32
//   load a offset=o : little-endian i32 at effective address a_u32 + o (no wrap);
//                     traps "out of bounds memory access" if ea + 4 > memory bytes
//   store a, v offset=o : writes the 4 bytes of v at ea, same bounds rule
//   jump B(args)    : continue at B
//   br_if c, T(args), F(args) : if c != 0 go to T else to F
//   return vals     : leave the function with these results
//
// One "step" of execution is one basic block: the IR interpreter, the
// transformer runtime and the CLI all count steps this way.

export type ValueId = number; // printed as v<N>; unique within a function
export type BlockId = number; // index into Func.blocks; printed as block<N>

export interface BlockTarget {
  block: BlockId;
  args: ValueId[];
}

export type Inst =
  | { op: 'iconst'; dst: ValueId; value: number }
  | { op: 'iadd'; dst: ValueId; a: ValueId; b: ValueId }
  | { op: 'load'; dst: ValueId; addr: ValueId; offset: number }
  | { op: 'store'; addr: ValueId; value: ValueId; offset: number };

export type Terminator =
  | { op: 'jump'; target: BlockTarget }
  | { op: 'br_if'; cond: ValueId; then: BlockTarget; else: BlockTarget }
  | { op: 'return'; values: ValueId[] };

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
  pages: number; // initial (and only) size in 64 KiB pages
  data: DataSegment[];
}

export interface Module {
  funcs: Func[];
  memory: Memory | null;
}

export const PAGE_SIZE = 65536;

/** Values defined by an instruction (stores define none). */
export function instDst(inst: Inst): ValueId | null {
  return inst.op === 'store' ? null : inst.dst;
}

/** Values read by an instruction, in operand order. */
export function instUses(inst: Inst): ValueId[] {
  switch (inst.op) {
    case 'iconst':
      return [];
    case 'iadd':
      return [inst.a, inst.b];
    case 'load':
      return [inst.addr];
    case 'store':
      return [inst.addr, inst.value];
  }
}

/** Values read by a terminator, in operand order. */
export function termUses(term: Terminator): ValueId[] {
  switch (term.op) {
    case 'jump':
      return [...term.target.args];
    case 'br_if':
      return [term.cond, ...term.then.args, ...term.else.args];
    case 'return':
      return [...term.values];
  }
}

/** Successor targets of a terminator. */
export function termTargets(term: Terminator): BlockTarget[] {
  switch (term.op) {
    case 'jump':
      return [term.target];
    case 'br_if':
      return [term.then, term.else];
    case 'return':
      return [];
  }
}

/** A target with its arguments renamed. */
export function mapTarget(t: BlockTarget, f: (v: ValueId) => ValueId): BlockTarget {
  return { block: t.block, args: t.args.map(f) };
}

/** An instruction with its operands renamed (the result is never renamed). */
export function mapInst(i: Inst, f: (v: ValueId) => ValueId): Inst {
  switch (i.op) {
    case 'iconst':
      return { ...i };
    case 'iadd':
      return { ...i, a: f(i.a), b: f(i.b) };
    case 'load':
      return { ...i, addr: f(i.addr) };
    case 'store':
      return { ...i, addr: f(i.addr), value: f(i.value) };
  }
}

/** A terminator with its operands renamed by f, then each target rewritten by g. */
export function mapTerm(t: Terminator, f: (v: ValueId) => ValueId, g: (t: BlockTarget) => BlockTarget = (x) => x): Terminator {
  switch (t.op) {
    case 'jump':
      return { op: 'jump', target: g(mapTarget(t.target, f)) };
    case 'br_if':
      return { op: 'br_if', cond: f(t.cond), then: g(mapTarget(t.then, f)), else: g(mapTarget(t.else, f)) };
    case 'return':
      return { op: 'return', values: t.values.map(f) };
  }
}

/** The initial memory image of a module (zeros plus data segments, later segments win). */
export function initialMemory(mod: Module): Uint8Array {
  if (!mod.memory) return new Uint8Array(0);
  const mem = new Uint8Array(mod.memory.pages * PAGE_SIZE);
  for (const seg of mod.memory.data) mem.set(seg.bytes, seg.offset);
  return mem;
}
