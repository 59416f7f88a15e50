// backend/lower_block.ts — one IR basic block → the gadget graph of its expert.
//
// Every basic block is one expert of the routed transformer (DESIGN.md §2): a step runs the
// expert of the block the program counter names, and that expert alone decides the next
// state token. This file holds the per-block lowering state (BlockLowering: value
// environment, canonical forms, shared address decodings and loads, trap signals, stores)
// and the lowering rules, one per IR instruction (LOWERING) — adding an instruction means
// adding one rule here and, at most, one gadget file. Terminators become edges, and
// `readoutOf` turns the edges, traps and stores into the readout forms and memory rows.

import type { BinaryCode, Block, Inst, UnaryCode, ValueId } from '../ir/ir.js';
import type { CallStackLayout, GrowLayout } from '../format/layout.js';
import { CompileError, TrapCode } from '../format/errors.js';
import { OUTPUTS_PER_STEP } from '../format/token.js';
import { MAX_TREE_DEPTH } from './merge_steps.js';
import { GraphBuilder, type MlpBuilder } from './graph.js';
import type { LinForm } from './linear.js';
import { isConst, lcomb, lconst, lmagnitude, lvar } from './linear.js';
import { LIMB, MemoryLayout } from './encoding.js';
import { IValue, addLazy, canon, isConstValue, canonLo, constValue, fitsLazy, limbValue, nonzero, reduceForAdd, valueBytes } from './gadgets/arith.js';
import { DecodedAccess, LAZY_ADDRESS_LO, decodeAccess, decodeFrame, framesAligned, lookupByte, pendingRow, roundBits, stage1, stage2 } from './gadgets/memory.js';
import { I32_BINARY, I32_UNARY } from './gadgets/i32.js';
import { BitCache, bitsOf, isBool } from './gadgets/bits.js';
import { select } from './gadgets/select.js';
import { fmin, stepAt } from './gadgets/staircase.js';

/**
 * Where an edge goes: a block of the same function, HALT (return to the host), another
 * function's block (a call), or a pc loaded from a call frame (`pc`, a form; HALT instead
 * when `halted` is 1: a return at depth 0).
 */
export type EdgeTarget = number | 'halt' | { func: string; block: number } | { pc: LinForm; halted: LinForm };

/** What a block needs to know of the whole program (all but the pcs, while probing). */
export interface ProgramContext {
  mem: MemoryLayout | null;
  globals: ReadonlyArray<{ mutable: boolean; init: number }>;
  /** wasm global index → its slot among the token's mutable globals */
  globalSlot: ReadonlyMap<number, number>;
  /** With memory.grow: the memory's current page count is token global `slot` (after the module's). */
  grow: GrowLayout | null;
  calls: CallStackLayout | null;
  /** Words per call frame: the return pc, then the saved values (zeros where a site saves fewer). */
  frameWords: number;
  /** Words a call to `func` stores (and its returns load): 1 + the most values its call sites save. */
  frameWordsOf: (func: string) => number;
  /** The program writes output (env.output_byte): every readout has the token's `out` field. */
  hasOutput: boolean;
  /** pcs, once assigned; null while the block splitter probes (then pc constants are 0). */
  pcOf: ((func: string, block: number) => number) | null;
}

/** A way out of the block: `taken` is an exact 0/1 form, exactly one edge is taken. */
export interface Edge {
  taken: LinForm;
  target: EdgeTarget;
  args: IValue[];
}

export interface TrapSignal {
  signal: LinForm; // exact 0/1
  code: TrapCode;
  /** The mutable globals' values when this trap can happen (a trap keeps those, not later sets). */
  globals: IValue[];
}

export interface StoreRec {
  rows: LinForm[][]; // one pending row per byte (features)
  signalsSoFar: number; // trap signals of this and earlier accesses in the block
  /** A guarded store's guard form (guardOf: 1 when the guard holds, ≤ 0 otherwise): its rows are kept only when it is 1. */
  guard: LinForm | null;
}

/** What lowering a block's instructions produced, before its terminator. */
export class BlockLowering {
  readonly env = new Map<ValueId, IValue>();
  /** The block's constants, binary instructions and selects lowered so far (remainderSpelledOut, selectTreeEdges). */
  readonly defs = new Map<ValueId, Inst>();
  readonly canonical = new Map<ValueId, IValue>();
  /** What canonOf replaced in env: a value's lazy form (lazyOf). */
  private readonly lazy = new Map<ValueId, IValue>();
  readonly decoded = new Map<string, DecodedAccess>();
  readonly loaded = new Map<string, { value: IValue; bytes: LinForm[] }>();
  /**
   * The low bytes of values loaded in this block, as the lookups gave them (a load of n bytes
   * knows its first n, signed or not): an output or a store of no more bytes writes them
   * without decomposing the value again (lowBytes).
   */
  readonly loadedBytes = new Map<ValueId, LinForm[]>();
  /** Conditions' and guards' 0/1 forms by value (condOf). */
  readonly conds = new Map<ValueId, LinForm>();
  readonly traps: TrapSignal[] = [];
  readonly stores: StoreRec[] = [];
  readonly pendingSoFar: LinForm[][] = [];
  readonly tag: string;

  /** Current values of the mutable globals (by token slot). */
  readonly globalVals: IValue[];
  /** Bit decompositions shared by the block's bitwise, shift and arithmetic gadgets. */
  readonly bits = new BitCache();
  /** Whether a pc constant went into this block's graph (then it is lowered again once pcs are known). */
  usedPcs = false;
  /** The bytes this block writes, each plus 1 (split_blocks leaves at most OUTPUTS_PER_STEP per block), how many trap signals come before each, and its guard. */
  readonly outputs: Array<{ byte: LinForm; trapsBefore: number; guard: LinForm | null }> = [];
  readonly mem: MemoryLayout | null;

  constructor(
    readonly g: GraphBuilder,
    /** The block's index in its function (names only; pcs are assigned after splitting). */
    readonly pc: number,
    readonly fname: string,
    readonly ctx: ProgramContext,
    readonly epoch: LinForm[],
    readonly tick: LinForm | null,
    globals: IValue[],
    /** The call depth (frames saved), with calls. */
    readonly depth: LinForm | null,
  ) {
    this.tag = `b${pc}`;
    this.mem = ctx.mem;
    this.globalVals = [...globals];
  }

  pcOf(func: string, block: number): number {
    this.usedPcs = true;
    return this.ctx.pcOf ? this.ctx.pcOf(func, block) : 0;
  }

  /** The canonical decoding of an address given as a value (frames), with its own space. */
  decodeValue(addr: IValue, offset: number, bytes: number, name: string, space: number): DecodedAccess {
    const r = addr.loMax > LIMB - 1 ? canonLo(this.g, this.pc, name, addr) : addr;
    const c = r.hiMax > LIMB + 16 ? canon(this.g, this.pc, name, r) : r;
    return decodeAccess(this.g, this.pc, name, this.memory(), c, offset, bytes, space);
  }

  /** The bytes at the decoded addresses: one attention head per byte, or two stages with a 'timed' cache (DESIGN.md §5). */
  lookup(acc: DecodedAccess, name: string): LinForm[] {
    const mem = this.memory();
    const pending = [...this.pendingSoFar];
    if (mem.lookup === 'unique') return acc.bits.map((bits, k) => lvar(lookupByte(this.g, this.pc, `${name}.byte${k}`, mem, bits, pending)));
    const approx = acc.bits.map((bits, k) => stage1(this.g, this.pc, `${name}.byte${k}`, mem, bits, pending));
    const rm = this.g.mlp(this.pc, `${name}.round`);
    const epochs = approx.map((a, k) => roundBits(this.g, rm, `${name}.byte${k}`, a));
    return acc.bits.map((bits, k) => lvar(stage2(this.g, this.pc, `${name}.byte${k}`, mem, bits, epochs[k], pending)));
  }

  /** Pending rows (and, at the readout, memory rows) for the given bytes at decoded addresses. */
  storeBytes(acc: DecodedAccess, bytes: LinForm[], guard: LinForm | null = null): void {
    const mem = this.memory();
    const tick = lcomb([[this.tick!, 1]], this.stores.length);
    const rows = acc.bits.map((bits, k) => pendingRow(mem, bits, this.epoch, tick, bytes[k]));
    this.pendingSoFar.push(...rows);
    this.stores.push({ rows, signalsSoFar: this.traps.length, guard });
  }

  /**
   * Whether value v is nonzero, as an exact 0/1 form: one `nonzero` per value, shared by the
   * block's branch conditions and guards (an unrolled loop's test is both).
   */
  condOf(v: ValueId): LinForm {
    let c = this.conds.get(v);
    if (!c) {
      c = this.condByDef(v) ?? this.boolOf(v) ?? nonzero(this.g, this.pc, `${this.tag}.cond_v${v}`, this.canonOf(v));
      this.conds.set(v, c);
    }
    return c;
  }

  /**
   * A condition condOf would build a nonzero sublayer for (a value that is not 0/1 and not made of
   * conditions), as S = lo + hi of the canonical value, in [0, max]: the condition is [S ≥ 1]
   * ([S = 0] when negated, through eqz). Null for any other condition, a constant one, or one
   * already built (its 0/1 form is then at hand).
   */
  countOf(v: ValueId): { S: LinForm; max: number; negated: boolean } | null {
    if (this.conds.has(v)) return null;
    const d = this.defs.get(v);
    if (d?.op === 'unary' && d.code === 'eqz') {
      const c = this.countOf(d.a);
      return c ? { ...c, negated: !c.negated } : null;
    }
    if (d?.op === 'binary' && d.code === 'and' && (this.decrementOf(d.a, d.b) ?? this.decrementOf(d.b, d.a)) !== null) return null;
    if (this.bothOf(v)) return null;
    const c = this.canonOf(v);
    if (isBool(this.g, c) || isConstValue(c)) return null;
    return { S: lcomb([[c.lo, 1], [c.hi, 1]]), max: c.loMax + c.hiMax, negated: false };
  }

  /** A value already 0 or 1 (a comparison's, an eqz's) is its own condition: its low limb. */
  private boolOf(v: ValueId): LinForm | null {
    const c = this.canonOf(v);
    return isBool(this.g, c) ? c.lo : null;
  }

  /**
   * The 0/1 form of a condition built of conditions (merge_steps.ts builds an unrolled loop's
   * guards so): eqz x is 1 − [x ≠ 0], free; select c, a, 0 is nonzero exactly when c and a are,
   * their AND relu([c ≠ 0] + [a ≠ 0] − 1) (one unit). Null for any other value.
   */
  private condByDef(v: ValueId): LinForm | null {
    const d = this.defs.get(v);
    if (d?.op === 'unary' && d.code === 'eqz') return lcomb([[this.condOf(d.a), -1]], 1);
    const dec = d?.op === 'binary' && d.code === 'and' ? this.decrementOf(d.a, d.b) ?? this.decrementOf(d.b, d.a) : null;
    if (dec !== null) {
      // x & (x − 1) clears x's lowest set bit: nonzero exactly when x has two bits set or more,
      // a step of popcnt(x) = Σ bits (linear in x's bits), where the AND would decompose x − 1 too
      const m = this.g.mlp(this.pc, `${this.tag}.cond_v${v}.two_bits`);
      return stepAt(this.g, m, `${this.tag}.cond_v${v}.two_bits`, lcomb(bitsOf(this.g, this.pc, `${this.tag}.v${dec}`, this.canonOf(dec), this.bits).all().map((b) => [b, 1] as [LinForm, number])), 0, 32, 2);
    }
    const both = this.bothOf(v);
    if (!both) return null;
    const [x, y] = [this.condOf(both.cond), this.condOf(both.a)];
    // a constant literal: 0 makes the AND 0, 1 leaves the other
    if (isConst(x)) return x.c === 0 ? lconst(0) : y;
    if (isConst(y)) return y.c === 0 ? lconst(0) : x;
    const m = this.g.mlp(this.pc, `${this.tag}.cond_v${v}.both`);
    const t = this.g.vreg(`${this.tag}.cond_v${v}.both`, 0, 1);
    m.bias(t, 0);
    m.unit(lcomb([[x, 1], [y, 1]], -1), [[t, 1]], 1);
    return lvar(t);
  }

  /** x when y is `add x, −1` (either order) in this block, else null. */
  private decrementOf(x: ValueId, y: ValueId): ValueId | null {
    const d = this.defs.get(y);
    if (d?.op !== 'binary' || d.code !== 'add') return null;
    const minusOne = (u: ValueId) => {
      const c = this.defs.get(u);
      return c?.op === 'iconst' && c.value >>> 0 === 0xffffffff;
    };
    return (d.a === x && minusOne(d.b)) || (d.b === x && minusOne(d.a)) ? x : null;
  }

  /**
   * An access's or output's guard form (null: unguarded): 1 when the guard holds, ≤ 0 when it
   * does not. A guard `select l, g, 0` (merge_steps.ts: an unrolled loop's later iteration, the
   * AND of the tests on its path) is l's form + g's − 1, no AND unit: every reader puts the form
   * in a ReLU that is 0 for any guard ≤ 0 (guardedTrap, outputOf, a store's KEEP). Any other
   * guard is its condition's 0/1 form (condOf).
   */
  guardOf(v: ValueId | undefined): LinForm | null {
    if (v === undefined) return null;
    const both = this.bothOf(v);
    return both ? lcomb([[this.guardOf(both.cond)!, 1], [this.guardOf(both.a)!, 1]], -1) : this.condOf(v);
  }

  /** v's operands when v is `select c, a, 0` of this block (nonzero exactly when c and a are), else null. */
  private bothOf(v: ValueId): { cond: ValueId; a: ValueId } | null {
    const d = this.defs.get(v);
    if (d?.op !== 'select') return null;
    const zero = this.defs.get(d.b);
    return zero?.op === 'iconst' && zero.value === 0 ? { cond: d.cond, a: d.a } : null;
  }

  /** A trap signal that counts only when the guard is 1: relu(signal + guard − 1) (one unit). */
  guardedTrap(signal: LinForm, guard: LinForm | null, name: string): LinForm {
    if (!guard || (isConst(signal) && signal.c === 0)) return signal;
    const m = this.g.mlp(this.pc, `${name}.guarded`);
    const t = this.g.vreg(`${name}.guarded`, 0, 1);
    m.bias(t, 0);
    m.unit(lcomb([[signal, 1], [guard, 1]], -1), [[t, 1]], 1);
    return lvar(t);
  }

  get(v: ValueId): IValue {
    const x = this.env.get(v);
    if (!x) throw new CompileError(`internal: value v${v} used before definition in ${this.fname} block ${this.pc}`);
    return x;
  }

  /** The first n bytes of v: as loaded, or from the canonical value's byte decomposition. */
  lowBytes(v: ValueId, n: number, name: string): LinForm[] {
    const known = this.loadedBytes.get(v);
    if (known && known.length >= n) return known.slice(0, n);
    const c = this.canonOf(v);
    // bits a gadget already has (a variable and/or/xor's, a shift's of such): bytes are sums of them
    const vb = this.bits.peek(c);
    if (vb?.complete()) {
      const bits = vb.all();
      return Array.from({ length: n }, (_, i) => lcomb(bits.slice(8 * i, 8 * i + 8).map((b, k) => [b, 2 ** k] as [LinForm, number])));
    }
    return valueBytes(this.g, this.pc, name, c).slice(0, n);
  }

  canonOf(v: ValueId): IValue {
    let c = this.canonical.get(v);
    if (!c) {
      const x = this.get(v);
      c = canon(this.g, this.pc, `${this.tag}.v${v}`, x);
      this.canonical.set(v, c);
      if (c !== x) this.lazy.set(v, x);
      this.env.set(v, c);
    }
    return c;
  }

  /** v as it was before canonOf replaced it (a lazy sum: readable earlier), else as it is. */
  lazyOf(v: ValueId): IValue {
    return this.lazy.get(v) ?? this.get(v);
  }

  reducedOf(v: ValueId): IValue {
    const r = this.canonical.get(v) ?? reduceForAdd(this.g, this.pc, `${this.tag}.v${v}`, this.get(v));
    this.env.set(v, r);
    return r;
  }

  /**
   * An address as decodeAccess takes it: each limb below 2^17, as a lazy base + index leaves
   * them (decoded without a carry sublayer of its own).
   */
  addrOf(v: ValueId): IValue {
    const c = this.canonical.get(v);
    if (c) return c;
    const x = this.get(v);
    if (x.loMax <= LAZY_ADDRESS_LO && x.hiMax <= 2 * LIMB - 1) return x;
    const r = x.loMax > LIMB - 1 ? canonLo(this.g, this.pc, `${this.tag}.v${v}`, x) : x;
    return r.hiMax > 2 * LIMB - 1 ? canon(this.g, this.pc, `${this.tag}.v${v}`, r) : r;
  }

  /** Accesses to the same address value and offset share one decoding (trap signal and bits). */
  decodeOf(addr: ValueId, offset: number, bytes: number, name: string): DecodedAccess {
    const key = `${addr}+${offset}:${bytes}`;
    let d = this.decoded.get(key);
    if (!d) {
      d = decodeAccess(this.g, this.pc, name, this.memory(), this.addrOf(addr), offset, bytes);
      this.decoded.set(key, d);
    }
    return d;
  }

  memory(): MemoryLayout {
    if (!this.mem) throw new CompileError(`internal: memory access in ${this.fname} without a memory`);
    return this.mem;
  }

  trap(signal: LinForm, code: TrapCode): void {
    if (isConst(signal) && signal.c === 0) return;
    this.traps.push({ signal, code, globals: [...this.globalVals] });
  }
}

type Rule<I extends Inst> = (L: BlockLowering, inst: I) => void;
type Rules = { [K in Inst['op']]: Rule<Extract<Inst, { op: K }>> };
type BinaryRule = (L: BlockLowering, a: ValueId, b: ValueId) => IValue;
type UnaryRule = (L: BlockLowering, a: ValueId) => IValue;

/** i32.add: lazy limb sums (free), reduced first only when a bound would be exceeded. */
const add: BinaryRule = (L, a, b) => {
  // a sum of sums: from the operands' lazy forms where those fit, so a chain of adds (an unrolled
  // loop's i + 1 + 1 …) is one carry away from its inputs, not one carry after another
  if (isConstValue(L.get(b)) || isConstValue(L.get(a))) {
    const early = addLazy(L.lazyOf(a), L.lazyOf(b));
    if (fitsLazy(L.g, early)) return early;
  }
  let s = addLazy(L.get(a), L.get(b));
  if (!fitsLazy(L.g, s)) s = addLazy(L.reducedOf(a), L.reducedOf(b));
  if (!fitsLazy(L.g, s)) s = addLazy(L.canonOf(a), L.canonOf(b));
  return s;
};

/** An operator of the i32 gadget library (backend/gadgets/i32.ts): canonical operands, its traps registered. */
function gadget(code: BinaryCode): BinaryRule {
  return (L, a, b) => {
    const r = I32_BINARY[code](L.g, L.pc, `${L.tag}.${code}_v${a}_v${b}`, L.canonOf(a), L.canonOf(b), L.bits);
    for (const t of r.traps) L.trap(t.signal, t.code);
    return r.value;
  };
}

/**
 * `sub a, (mul (a / C), C)` (either order of the mul), the division and the constant C ≠ 0
 * lowered in this block: a % C as compilers spell it beside the a / C they need (a − ⌊a/C⌋·C
 * never wraps; a − trunc(a/C)·C is rem_s, and INT_MIN / −1, where they differ, traps in the
 * division first). Lowered as that rem, it is a free result of the division's gadget
 * (divRem shares one per dividend and constant) with, for a small unsigned C, its range
 * [0, C − 1] known. A division in another block (split_blocks, a carried q) is not shared, so
 * the sub stays a sub there.
 */
function remainderSpelledOut(L: BlockLowering, i: Extract<Inst, { op: 'binary' }>): { code: 'rem_u' | 'rem_s'; divisor: ValueId } | null {
  if (i.code !== 'sub') return null;
  const mul = L.defs.get(i.b);
  if (mul?.op !== 'binary' || mul.code !== 'mul') return null;
  const constOf = (v: ValueId): number | null => {
    const d = L.defs.get(v);
    return d?.op === 'iconst' ? d.value | 0 : null;
  };
  for (const [q, k] of [[mul.a, mul.b], [mul.b, mul.a]] as const) {
    const div = L.defs.get(q);
    const C = constOf(k);
    if (div?.op !== 'binary' || (div.code !== 'div_u' && div.code !== 'div_s') || C === null || C === 0) continue;
    if (div.a === i.a && constOf(div.b) === C) return { code: div.code === 'div_u' ? 'rem_u' : 'rem_s', divisor: div.b };
  }
  return null;
}

/** One rule per binary operator (ir/instructions.ts lists them): add is lazy, the rest are gadgets. */
export const BINARY_RULES: Record<BinaryCode, BinaryRule> = Object.fromEntries(
  (Object.keys(I32_BINARY) as BinaryCode[]).map((code) => [code, code === 'add' ? add : gadget(code)]),
) as Record<BinaryCode, BinaryRule>;
export const UNARY_RULES: Record<UnaryCode, UnaryRule> = Object.fromEntries(
  (Object.keys(I32_UNARY) as UnaryCode[]).map((code) => [
    code,
    ((L, a) => {
      const r = I32_UNARY[code](L.g, L.pc, `${L.tag}.${code}_v${a}`, L.canonOf(a), L.bits);
      for (const t of r.traps) L.trap(t.signal, t.code);
      return r.value;
    }) as UnaryRule,
  ]),
) as Record<UnaryCode, UnaryRule>;

/** The sign-extended value of the low `bits` bits x (a canonical limb form < 2^bits): one sublayer. */
function signExtendLimb(L: BlockLowering, name: string, x: LinForm, bits: 8 | 16): IValue {
  const m = L.g.mlp(L.pc, `${name}.sign`);
  const s = L.g.vreg(`${name}.sign`, 0, 1);
  m.bias(s, 0);
  m.step(x, 2 ** (bits - 1), [[s, 1]], 2 ** bits - 1);
  // x ≥ 2^(bits−1): value = x − 2^bits mod 2^32 → lo = x + (65536 − 2^bits)·s, hi = 65535·s
  return { lo: lcomb([[x, 1], [lvar(s), LIMB - 2 ** bits]]), hi: lvar(s, LIMB - 1), loMax: LIMB - 1, hiMax: LIMB - 1 };
}

/**
 * memory.grow(δ) with the page count p in the token (DESIGN.md §12): h = step(δ.hi ≥ 1), then
 * fits = 1 − step(δ.lo + p + 65536·h ≥ maxPages + 1) (Σ ≤ 3·65536), then the result
 * fits ? p : −1 = (relu(p − 65536·(1 − fits)) + 65535·(1 − fits), 65535·(1 − fits)) and the new
 * count p + relu(δ.lo − 65536·(1 − fits)): three sublayers, every term a limb against a bit.
 */
function growMemory(L: BlockLowering, delta: IValue, name: string): IValue {
  const grow = L.ctx.grow!;
  const p = L.globalVals[grow.slot].lo;
  const m1 = L.g.mlp(L.pc, `${name}.hi`);
  const h = L.g.vreg(`${name}.delta_hi`, 0, 1);
  m1.bias(h, 0);
  m1.step(delta.hi, 1, [[h, 1]], delta.hiMax);
  const m2 = L.g.mlp(L.pc, `${name}.fits`);
  const over = L.g.vreg(`${name}.over`, 0, 1);
  m2.bias(over, 0);
  m2.step(lcomb([[delta.lo, 1], [p, 1], [lvar(h), LIMB]]), grow.maxPages + 1, [[over, 1]], delta.loMax + grow.maxPages + LIMB);
  const m3 = L.g.mlp(L.pc, `${name}.select`);
  const kept = L.g.vreg(`${name}.old`, 0, grow.maxPages);
  const added = L.g.vreg(`${name}.added`, 0, grow.maxPages);
  m3.bias(kept, 0);
  m3.bias(added, 0);
  m3.unit(lcomb([[p, 1], [lvar(over), -LIMB]]), [[kept, 1]], grow.maxPages);
  m3.unit(lcomb([[delta.lo, 1], [lvar(over), -LIMB]]), [[added, 1]], grow.maxPages);
  L.globalVals[grow.slot] = limbValue(lcomb([[p, 1], [lvar(added), 1]]), lconst(0));
  return { lo: lcomb([[lvar(kept), 1], [lvar(over), LIMB - 1]]), hi: lvar(over, LIMB - 1), loMax: LIMB - 1, hiMax: LIMB - 1 };
}

/**
 * With memory.grow the bounds depend on the current page count p: an access also traps when its
 * last byte's page (address bits 16 and up, exact 0/1 even when the static check traps) is ≥ p.
 * trap = static OR step(page − p ≥ 0) = relu(s + d) − relu(s + d − 1): one more sublayer.
 */
function boundsTrap(L: BlockLowering, acc: DecodedAccess, name: string): LinForm {
  const grow = L.ctx.grow;
  if (!grow) return acc.trap;
  const last = acc.bits[acc.bits.length - 1];
  const page = lcomb(last.slice(16).map((b, j) => [b, 2 ** j] as [LinForm, number]));
  const p = L.globalVals[grow.slot].lo;
  const m1 = L.g.mlp(L.pc, `${name}.page_check`);
  const d = L.g.vreg(`${name}.past_size`, 0, 1);
  m1.bias(d, 0);
  m1.step(lcomb([[page, 1], [p, -1]]), 0, [[d, 1]], 2 ** Math.max(0, last.length - 16));
  const m2 = L.g.mlp(L.pc, `${name}.trap_any`);
  const t = L.g.vreg(`${name}.trap_any`, 0, 1);
  m2.bias(t, 0);
  const s = lcomb([[acc.trap, 1], [lvar(d), 1]]);
  m2.unit(s, [[t, 1]], 3);
  m2.unit(lcomb([[s, 1]], -1), [[t, -1]], 2);
  return lvar(t);
}

/** The lowering rule of every IR instruction. */
export const LOWERING: Rules = {
  iconst: (L, i) => {
    L.defs.set(i.dst, i);
    L.env.set(i.dst, constValue(i.value));
  },
  binary: (L, i) => {
    L.defs.set(i.dst, i);
    const rem = remainderSpelledOut(L, i);
    const v = rem ? BINARY_RULES[rem.code](L, i.a, rem.divisor) : BINARY_RULES[i.code](L, i.a, i.b);
    L.env.set(i.dst, v);
    if (i.code !== 'add') L.canonical.set(i.dst, v);
  },
  unary: (L, i) => {
    L.defs.set(i.dst, i);
    const v = UNARY_RULES[i.code](L, i.a);
    L.env.set(i.dst, v);
    L.canonical.set(i.dst, v);
  },
  select: (L, i) => {
    L.defs.set(i.dst, i);
    const v = select(L.g, L.pc, `${L.tag}.select_v${i.dst}`, L.canonOf(i.cond), L.canonOf(i.a), L.canonOf(i.b));
    L.env.set(i.dst, v);
    L.canonical.set(i.dst, v);
  },
  global_get: (L, i) => {
    const slot = L.ctx.globalSlot.get(i.index);
    const v = slot === undefined ? constValue(L.ctx.globals[i.index].init) : L.globalVals[slot];
    L.env.set(i.dst, v);
    L.canonical.set(i.dst, v);
  },
  global_set: (L, i) => {
    const slot = L.ctx.globalSlot.get(i.index);
    if (slot === undefined) throw new CompileError(`internal: global.set of immutable global ${i.index}`);
    L.globalVals[slot] = L.canonOf(i.value);
  },
  // memory.grow is not lowered (below), so the size never changes: a constant
  // without memory.grow the size never changes: a constant
  memory_size: (L, i) => {
    const v = L.ctx.grow ? L.globalVals[L.ctx.grow.slot] : constValue(L.memory().memBytes / 65536);
    L.env.set(i.dst, v);
    L.canonical.set(i.dst, v);
  },
  poison: (_L, i) => {
    throw new CompileError(`internal: poison (${i.what} at 0x${i.offset.toString(16)}) reached the backend; ir/poison.ts rejects it first`);
  },
  memory_grow: (L, i) => {
    const v = growMemory(L, L.canonOf(i.delta), `${L.tag}.grow_v${i.dst}`);
    L.env.set(i.dst, v);
    L.canonical.set(i.dst, v);
  },
  // env.output_byte(v): the low byte of v, + 1, into the token's next output field (0: none),
  // gated in the readout by the trap signals before it (a trap after it keeps the byte, as
  // native wrote it before trapping) and by its guard. split_blocks leaves at most
  // OUTPUTS_PER_STEP outputs per block.
  output: (L, i) => {
    const k = L.outputs.length;
    if (k === OUTPUTS_PER_STEP) throw new CompileError(`internal: more than ${OUTPUTS_PER_STEP} outputs in ${L.fname} block ${L.pc} (split_blocks cuts between them)`);
    const [low] = L.lowBytes(i.value, 1, `${L.tag}.output${k === 0 ? '' : k}`);
    L.outputs.push({ byte: lcomb([[low, 1]], 1), trapsBefore: L.traps.length, guard: L.guardOf(i.guard) });
  },
  load: (L, i) => {
    // a load repeated with no store in between reads the same bytes (and traps alike)
    const key = `${i.addr}+${i.offset}:${i.bytes}${i.signed ? 's' : 'u'}@${L.stores.length}${i.guard === undefined ? '' : `if${i.guard}`}`;
    let got = L.loaded.get(key);
    if (!got) {
      let value: IValue;
      const name = `${L.tag}.load_v${i.dst}`;
      const acc = L.decodeOf(i.addr, i.offset, i.bytes, name);
      L.trap(L.guardedTrap(boundsTrap(L, acc, name), L.guardOf(i.guard), name), TrapCode.OutOfBounds);
      const bytes = L.lookup(acc, name);
      if (i.bytes === 4) value = limbValue(lcomb([[bytes[0], 1], [bytes[1], 256]]), lcomb([[bytes[2], 1], [bytes[3], 256]]));
      else {
        const low = i.bytes === 1 ? bytes[0] : lcomb([[bytes[0], 1], [bytes[1], 256]]);
        // unsigned: hi is 0 and lo below 2^(8·bytes), a bound its readers can use (a shl stays linear)
        value = i.signed ? signExtendLimb(L, name, low, i.bytes === 1 ? 8 : 16) : { lo: low, hi: lconst(0), loMax: 2 ** (8 * i.bytes) - 1, hiMax: 0 };
      }
      got = { value, bytes };
      if (i.bytes === 4 || !i.signed) L.bits.seedBytes(value, bytes);
      L.loaded.set(key, got);
    }
    L.env.set(i.dst, got.value);
    L.loadedBytes.set(i.dst, got.bytes);
    if (i.bytes === 4 || !i.signed) L.canonical.set(i.dst, got.value);
  },
  store: (L, i) => {
    const name = `${L.tag}.store${L.stores.length}`;
    const bytes = L.lowBytes(i.value, i.bytes, `${name}.value`);
    const acc = L.decodeOf(i.addr, i.offset, i.bytes, name);
    const guard = L.guardOf(i.guard);
    L.trap(L.guardedTrap(boundsTrap(L, acc, name), guard, name), TrapCode.OutOfBounds);
    L.storeBytes(acc, bytes, guard);
  },
};

export function lowerInst(L: BlockLowering, inst: Inst): void {
  (LOWERING[inst.op] as Rule<Inst>)(L, inst);
}

/** A block's way out: its edges, and the call depth of the next step (with calls). */
export interface Exit {
  edges: Edge[];
  depth: LinForm | null;
}

/** The block's terminator as edges. */
export function exitOf(L: BlockLowering, blk: Block): Exit {
  const term = blk.term;
  if (term.op === 'call') return callExit(L, term.func, term.args, term.cont);
  if (term.op === 'return' && L.ctx.calls) return returnExit(L, term.values);
  return { edges: edgesOf(L, blk), depth: L.depth };
}

/**
 * A call: trap "call stack exhausted" when depth ≥ maxDepth − 1 (the IR interpreter's rule),
 * else save the frame [continuation pc, saved values…, zeros] at frameBase + depth·frameBytes
 * (stores, like any other, in the KV cache), jump to the callee's entry with the arguments,
 * depth + 1.
 */
/** step(d ≥ k) for the call depth d (an exact integer ≤ maxDepth): one MLP node of 2 units. */
function depthAtLeast(L: BlockLowering, name: string, k: number): LinForm {
  const m = L.g.mlp(L.pc, name);
  const v = L.g.vreg(name, 0, 1);
  m.bias(v, 0);
  m.step(L.depth!, k, [[v, 1]], L.ctx.calls!.maxDepth);
  return lvar(v);
}

/** The decoded bytes of the first `words` words of frame `frame` (a form of the depth). */
function frameAccess(L: BlockLowering, frame: LinForm, words: number, name: string): DecodedAccess {
  const { frameBase: base, frameBytes, maxDepth } = L.ctx.calls!;
  if (framesAligned(base, frameBytes, maxDepth)) return decodeFrame(L.g, L.pc, name, L.memory(), { base, stride: frameBytes, maxDepth }, frame, 4 * words);
  const addr: IValue = { lo: lcomb([[frame, frameBytes]], base % LIMB), hi: lconst(Math.floor(base / LIMB)), loMax: (base % LIMB) + frameBytes * maxDepth, hiMax: Math.floor(base / LIMB) };
  return L.decodeValue(addr, 0, 4 * words, name, L.memory().addrSpace);
}

function callExit(L: BlockLowering, func: string, args: ValueId[], cont: { block: number; args: ValueId[] }): Exit {
  const d = L.depth!;
  const name = `${L.tag}.call`;
  L.trap(depthAtLeast(L, `${name}.exhausted`, L.ctx.calls!.maxDepth - 1), TrapCode.CallStackExhausted);
  const words: IValue[] = [constValue(L.pcOf(L.fname, cont.block)), ...cont.args.map((v) => L.canonOf(v))];
  // zeros up to what the callee's returns load: arguments past a block's parameters are 0
  while (words.length < L.ctx.frameWordsOf(func)) words.push(constValue(0));
  const acc = frameAccess(L, d, words.length, `${name}.frame`);
  words.forEach((w, k) => {
    const bytes = valueBytes(L.g, L.pc, `${name}.frame${k}`, w);
    L.storeBytes({ trap: lconst(0), bits: acc.bits.slice(4 * k, 4 * k + 4) }, bytes);
  });
  return { edges: [{ taken: lconst(1), target: { func, block: 0 }, args: args.map((v) => L.canonOf(v)) }], depth: lcomb([[d, 1]], 1) };
}

/**
 * A return with calls in the program: at depth 0 it halts with the results; otherwise it loads
 * frame depth − 1 and continues at its pc with [results…, saved values…], depth − 1. With
 * z = [depth = 0]: the frame read is depth − 1 + z (frame 0 when halting, never negative), the
 * next pc its two limbs gated by 1 − z, plus HALT·z (DESIGN.md §11), the next depth depth − 1 + z.
 */
function returnExit(L: BlockLowering, values: ValueId[]): Exit {
  const d = L.depth!;
  const name = `${L.tag}.ret`;
  const z = lcomb([[depthAtLeast(L, `${name}.nested`, 1), -1]], 1);
  const frame = lcomb([[d, 1], [z, 1]], -1); // depth − 1 + z ≥ 0
  const words = L.ctx.frameWordsOf(L.fname);
  const acc = frameAccess(L, frame, words, `${name}.frame`);
  const b = L.lookup(acc, `${name}.frame`);
  // the loaded pc (< 2^22: its third byte is ≤ 63, its fourth 0) in two limbs, 0 when halting
  const pm = L.g.mlp(L.pc, `${name}.pc`);
  const pcLo = L.g.vreg(`${name}.pc_lo`, 0, LIMB - 1);
  const pcHi = L.g.vreg(`${name}.pc_hi`, 0, 63);
  pm.bias(pcLo, 0);
  pm.bias(pcHi, 0);
  pm.unit(lcomb([[b[0], 1], [b[1], 256], [z, -LIMB]]), [[pcLo, 1]], LIMB - 1);
  pm.unit(lcomb([[b[2], 1], [z, -256]]), [[pcHi, 1]], 63);
  const saved: IValue[] = [];
  for (let k = 1; k < words; k++) saved.push(limbValue(lcomb([[b[4 * k], 1], [b[4 * k + 1], 256]]), lcomb([[b[4 * k + 2], 1], [b[4 * k + 3], 256]])));
  const args = [...values.map((v) => L.canonOf(v)), ...saved];
  return { edges: [{ taken: lconst(1), target: { pc: lcomb([[lvar(pcLo), 1], [lvar(pcHi), LIMB]]), halted: z }, args }], depth: frame };
}

/** The block's terminator as edges (no calls involved). */
export function edgesOf(L: BlockLowering, blk: Block): Edge[] {
  const term = blk.term;
  const argsOf = (vals: ValueId[]) => vals.map((v) => L.canonOf(v));
  switch (term.op) {
    case 'jump':
      return [{ taken: lconst(1), target: term.target.block, args: argsOf(term.target.args) }];
    case 'br_if': {
      const c = L.condOf(term.cond);
      return [
        { taken: c, target: term.then.block, args: argsOf(term.then.args) },
        { taken: lcomb([[c, -1]], 1), target: term.else.block, args: argsOf(term.else.args) },
      ];
    }
    case 'return':
      return [{ taken: lconst(1), target: 'halt', args: argsOf(term.values) }];
    case 'trap':
      // no way out: the block raises its trap (after its earlier accesses' own traps)
      L.trap(lconst(1), term.code);
      return [{ taken: lconst(1), target: 'halt', args: [] }];
    case 'br_table':
      return selectTreeEdges(L, term.index, [...term.targets, term.default]) ?? brTable(L, term.index, [...term.targets, term.default]);
    case 'call':
      throw new CompileError('internal: calls go through exitOf');
  }
}

/**
 * A br_table indexed by a tree of selects of constants, at most MAX_TREE_DEPTH deep (`select c,
 * (select d, 0, 1), 2`: merge_steps.ts's speculated br_if, and a pure target speculated into such
 * a table one level deeper): each leaf k is reached when its path's conditions hold, so its
 * target's taken form is, over the leaves that reach it, the sum of their paths' ANDs (c, or
 * 1 − c on a false arm; n literals: relu(Σ l − (n − 1)), exact on 0/1),
 * from one nonzero per condition and one sublayer of ANDs. The selects are never computed (the
 * readout does not read them, so their gadgets are pruned). Null when the index is anything else.
 */
function selectTreeEdges(L: BlockLowering, index: ValueId, targets: Array<{ block: number; args: ValueId[] }>): Edge[] | null {
  const n = targets.length - 1;
  // a literal: condition value v (neg: its false arm, 1 − c)
  type Literal = { v: ValueId; neg: boolean };
  const leaves: Array<{ path: Literal[]; target: number }> = [];
  const walk = (v: ValueId, path: Literal[]): boolean => {
    const d = L.defs.get(v);
    if (d?.op === 'iconst') {
      const k = d.value >>> 0;
      leaves.push({ path, target: k < n ? k : n });
      return true;
    }
    if (d?.op !== 'select' || path.length >= MAX_TREE_DEPTH) return false;
    return walk(d.a, [...path, { v: d.cond, neg: false }]) && walk(d.b, [...path, { v: d.cond, neg: true }]);
  };
  if (!walk(index, []) || leaves.every((l) => l.path.length === 0)) return null;
  const form = (l: Literal): LinForm => {
    const c = L.condOf(l.v);
    return l.neg ? lcomb([[c, -1]], 1) : c;
  };
  // a leaf's first literal that is [S ≥ 1] or [S = 0] of a value's limb sum S (countOf) joins its
  // AND as a weighted step instead of a nonzero sublayer of its own (DESIGN.md §2)
  const counted = leaves.map((leaf) => {
    for (const [i, l] of leaf.path.entries()) {
      const c = L.countOf(l.v);
      if (c) return { i, S: c.S, max: c.max, zero: c.negated !== l.neg };
    }
    return null;
  });
  // every literal's 0/1 form (and the nodes it takes) before the AND node: nodes go in order
  const forms = leaves.map((leaf, j) => leaf.path.map((l, i) => (counted[j]?.i === i ? null : form(l))));
  const name = `${L.tag}.br_table`;
  const m = leaves.some((l, j) => l.path.length >= 2 || counted[j]) ? L.g.mlp(L.pc, `${name}.and`) : null;
  const taken = targets.map((): Array<[LinForm, number]> => []);
  leaves.forEach((leaf, j) => {
    let t: LinForm;
    const c = counted[j];
    const own = forms[j];
    if (c) {
      // with M = max S + 1 and the other k literals' sum P ∈ [0, k]: [S ≥ 1 ∧ all] = step(S + M·P ≥ 1 + M·k),
      // [S = 0 ∧ all] = step(M·P − S ≥ M·k): any literal 0 leaves the sum at least M − max S ≥ 1 short
      const others = own.filter((f): f is LinForm => f !== null);
      const M = c.max + 1;
      const k = others.length;
      const P: Array<[LinForm, number]> = others.map((l) => [l, M]);
      const v = L.g.vreg(`${name}.leaf${j}`, 0, 1);
      m!.bias(v, 0);
      if (c.zero) m!.step(lcomb([[c.S, -1], ...P]), M * k, [[v, 1]], M * k);
      else m!.step(lcomb([[c.S, 1], ...P]), 1 + M * k, [[v, 1]], c.max + M * k);
      t = lvar(v);
    } else if (leaf.path.length < 2) t = own[0] ?? lconst(1);
    else {
      // the AND of n literals: relu(Σ l − (n − 1)), 1 exactly when every one is 1
      const v = L.g.vreg(`${name}.leaf${j}`, 0, 1);
      m!.bias(v, 0);
      m!.unit(lcomb(own.map((f) => [f!, 1] as [LinForm, number]), 1 - leaf.path.length), [[v, 1]], 1);
      t = lvar(v);
    }
    taken[leaf.target].push([t, 1]);
  });
  return targets.flatMap((t, k) => (taken[k].length === 0 ? [] : [{ taken: lcomb(taken[k]), target: t.block, args: t.args.map((a) => L.canonOf(a)) }]));
}

/**
 * br_table: with x = lo + n·hi (≥ n whenever hi ≥ 1, so out-of-range indices take the
 * default) and s_k = step(x ≥ k) for k = 1..n, target k < n is taken when s_k − s_{k+1}
 * (s_0 = 1) and the default when s_n: n step pairs in one sublayer. Σ|term| ≤ |lo| + n·|hi| + n
 * (the magnitudes of the limbs' forms, 65535 each when materialised), so that must stay below
 * 2^23; otherwise hi is first reduced to a bit (one more sublayer).
 */
function brTable(L: BlockLowering, index: ValueId, targets: Array<{ block: number; args: ValueId[] }>): Edge[] {
  const n = targets.length - 1;
  const v = L.canonOf(index);
  const name = `${L.tag}.br_table`;
  let x: LinForm;
  let xMax: number;
  // a canonical limb is exact in [0, 65535] but its form may sum larger terms (s − 65536·carry)
  const mag = (f: LinForm) => lmagnitude(f, (u) => [L.g.vregs[u].min, L.g.vregs[u].max]);
  if (mag(v.lo) + n * mag(v.hi) + n < 2 ** 23) {
    x = lcomb([[v.lo, 1], [v.hi, n]]);
    xMax = (LIMB - 1) * (n + 1);
  } else {
    const big = L.g.vreg(`${name}.hi_nonzero`, 0, 1);
    const mh = L.g.mlp(L.pc, `${name}.hi`);
    mh.bias(big, 0);
    mh.step(v.hi, 1, [[big, 1]], LIMB - 1);
    x = lcomb([[v.lo, 1], [lvar(big), LIMB]]);
    xMax = 2 * LIMB - 1;
  }
  const m = L.g.mlp(L.pc, name);
  const s: LinForm[] = [lconst(1)];
  for (let k = 1; k <= n; k++) {
    const sk = L.g.vreg(`${name}.ge${k}`, 0, 1);
    m.bias(sk, 0);
    m.step(x, k, [[sk, 1]], xMax);
    s.push(lvar(sk));
  }
  return targets.map((t, k) => ({
    taken: k < n ? lcomb([[s[k], 1], [s[k + 1], -1]]) : s[n],
    target: t.block,
    args: t.args.map((a) => L.canonOf(a)),
  }));
}

/** next pc = Σ_edges pc(target)·taken: an affine form, set once pcs are assigned. */
export function nextPcForm(exits: ReadonlyArray<{ taken: LinForm; target: EdgeTarget }>, pcOf: (t: number | 'halt' | { func: string; block: number }) => number): LinForm {
  const parts: Array<[LinForm, number]> = [];
  for (const e of exits) {
    const t = e.target;
    if (typeof t === 'object' && 'pc' in t) parts.push([t.pc, 1], [t.halted, pcOf('halt')]);
    else parts.push([e.taken, pcOf(t)]);
  }
  return lcomb(parts);
}

function sameForm(a: LinForm, b: LinForm): boolean {
  if (a.c !== b.c || a.terms.size !== b.terms.size) return false;
  for (const [v, k] of a.terms) if (b.terms.get(v) !== k) return false;
  return true;
}

/**
 * The token's k-th output field: byte + 1 if the block's k-th output happens (its guard, if any,
 * is 1) and no access before it trapped, else 0. With trap signals t_j before it and guard g:
 * relu(byte + 1 − 257·Σ t_j − 257·(1 − g)), which is byte + 1 ≤ 256 when every t_j is 0 and g = 1,
 * and at most 256 − 257 < 0, so 0, otherwise.
 */
function outputOf(L: BlockLowering, sel: MlpBuilder, k: number): LinForm {
  const o = L.outputs[k];
  if (!o) return lconst(0);
  const { byte, trapsBefore, guard } = o;
  if (trapsBefore === 0 && !guard) return byte;
  // a guard g adds −257·(1 − g): the byte only when the output happens
  const gate: Array<[LinForm, number]> = guard ? [[guard, 257]] : [];
  const out = L.g.vreg(`${L.tag}.output${k === 0 ? '' : k}.valid`, 0, 256);
  sel.bias(out, 0);
  sel.unit(lcomb([[byte, 1], ...gate, ...L.traps.slice(0, trapsBefore).map((t) => [t.signal, -257] as [LinForm, number])], guard ? -257 : 0), [[out, 1]], 256);
  return lvar(out);
}

/**
 * The readout of one expert: a placeholder for the next pc (nextPcForm, once pcs are known),
 * the trap code of the first access that trapped, the next arguments (gated by `taken` where
 * edges disagree, as many as the most any edge passes), and one
 * memory row per stored byte whose pad column carries KEEP = valid (no access up to the
 * store trapped; format/memory.ts): ports an expert does not use stay all-zero and are dropped.
 * Selections share one MLP node (`readout.select`), scheduled as early as its inputs allow.
 */
export function readoutOf(L: BlockLowering, exit: Exit): { readout: LinForm[]; ports: LinForm[][] } {
  const { g } = L;
  const edges = exit.edges;
  const sel = g.mlp(L.pc, `${L.tag}.readout.select`);
  const maxArgs = Math.max(0, ...edges.map((e) => e.args.length));
  // trap code: Σ code_k·first_k with first_k = relu(t_k − Σ_{j<k} t_j) ∈ {0, 1}
  const firsts: LinForm[] = L.traps.map((t, k) => {
    if (k === 0) return t.signal;
    const f = g.vreg(`${L.tag}.trap${k}.first`, 0, 1);
    sel.bias(f, 0);
    sel.unit(lcomb([[t.signal, 1], ...L.traps.slice(0, k).map((u) => [u.signal, -1] as [LinForm, number])]), [[f, 1]], 1);
    return lvar(f);
  });
  const trapCode = lcomb(L.traps.map((t, k) => [firsts[k], t.code] as [LinForm, number]));
  const args: LinForm[] = [];
  for (let i = 0; i < maxArgs; i++) {
    const with_ = edges.filter((e) => i < e.args.length);
    for (const half of ['lo', 'hi'] as const) {
      const forms = with_.map((e) => e.args[i][half]);
      const always = with_.length === edges.length && forms.every((f) => sameForm(f, forms[0]));
      if (with_.length === 0) args.push(lconst(0));
      else if (always || (with_.length === 1 && isConst(with_[0].taken) && with_[0].taken.c === 1)) args.push(forms[0]);
      else {
        const out = g.vreg(`${L.tag}.next.arg${i}.${half}`, 0, LIMB - 1);
        sel.bias(out, 0);
        with_.forEach((e) => {
          const a = e.args[i];
          // relu(limb − 65536·(1 − taken)): the limb when taken, relu(≤ −1) = 0 otherwise
          sel.unit(lcomb([[a[half], 1], [e.taken, LIMB]], -LIMB), [[out, 1]], half === 'lo' ? a.loMax : a.hiMax);
        });
        args.push(lvar(out));
      }
    }
  }
  const ports: LinForm[][] = [];
  const mem = L.mem;
  L.stores.forEach((s, j) => {
    // a guarded store keeps its rows only when its guard is 1
    let keep: LinForm = s.guard ?? lconst(1);
    if (s.signalsSoFar > 0 || (s.guard && fmin(g, s.guard) < 0)) {
      // valid = relu(g − Σ trap signals up to this store) ∈ {0, 1}, g the guard or 1
      const valid = g.vreg(`${L.tag}.store${j}.valid`, 0, 1);
      sel.bias(valid, 0);
      sel.unit(lcomb([...L.traps.slice(0, s.signalsSoFar).map((t) => [t.signal, -1] as [LinForm, number]), ...(s.guard ? [[s.guard, 1] as [LinForm, number]] : [])], s.guard ? 0 : 1), [[valid, 1]], 1);
      keep = lvar(valid);
    }
    for (const row of s.rows) {
      const out = [...row];
      out[mem!.col.pad] = keep;
      ports.push(out);
    }
  });
  // placeholder next pc reading the same vregs as the real one (edge k → k + 1)
  const placeholder = nextPcForm(
    edges.map((e, k) => ({ taken: e.taken, target: typeof e.target === 'object' && 'pc' in e.target ? e.target : k })),
    (t) => (t === 'halt' ? 1 : Number(t) + 1),
  );
  // a node of its own: it reads the first-trap bits the select node computes
  const gsel = L.traps.length ? g.mlp(L.pc, `${L.tag}.readout.globals`) : sel;
  const globals = L.globalVals.flatMap((v, s) => {
    if (L.traps.every((t) => t.globals[s] === v)) return [v.lo, v.hi];
    // set after an access that may trap: the value as of the first trap, or the final one
    const anyTrap = lcomb(firsts.map((f) => [f, 1] as [LinForm, number]));
    return (['lo', 'hi'] as const).map((half) => {
      const out = g.vreg(`${L.tag}.next.global${s}.${half}`, 0, LIMB - 1);
      gsel.bias(out, 0);
      gsel.unit(lcomb([[v[half], 1], [anyTrap, -LIMB]]), [[out, 1]], LIMB - 1);
      L.traps.forEach((t, k) => gsel.unit(lcomb([[t.globals[s][half], 1], [firsts[k], LIMB]], -LIMB), [[out, 1]], LIMB - 1));
      return lvar(out);
    });
  });
  const out = L.ctx.hasOutput ? Array.from({ length: OUTPUTS_PER_STEP }, (_, k) => outputOf(L, sel, k)) : [];
  return { readout: [placeholder, trapCode, ...out, ...globals, ...(exit.depth ? [exit.depth] : []), ...args], ports };
}
