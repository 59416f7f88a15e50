// backend/lower_block.ts — one IR basic block → the gadget graph of its expert.
//
// Every basic block is one expert of the routed transformer (DESIGN.md §2): a step runs the
// expert of the block the program counter names, and that expert alone decides the next
// state token. This file holds the per-block lowering state (BlockLowering: value
// environment, canonical forms, shared address decodings and loads, trap signals, stores)
// and the lowering rules, one per IR instruction (LOWERING) — adding an instruction means
// adding one rule here and, at most, one gadget file. Terminators become edges, and
// `readoutOf` turns the edges, traps and stores into the readout forms and memory rows.

import type { Block, Inst, ValueId } from '../ir/ir.js';
import { CompileError, TrapCode } from '../format/errors.js';
import { GraphBuilder } from './graph.js';
import type { LinForm } from './linear.js';
import { isConst, lcomb, lconst, lvar } from './linear.js';
import { LIMB, MemoryLayout } from './encoding.js';
import { IValue, addLazy, canon, canonLo, constValue, fitsLazy, limbValue, nonzero, reduceForAdd, valueBytes } from './gadgets/arith.js';
import { DecodedAccess, decodeAccess, pendingRow, roundBits, stage1, stage2 } from './gadgets/memory.js';

/** A way out of the block: `taken` is an exact 0/1 form, exactly one edge is taken. */
export interface Edge {
  taken: LinForm;
  target: number; // pc (haltPc for return)
  args: IValue[];
}

export interface TrapSignal {
  signal: LinForm; // exact 0/1
  code: TrapCode;
}

export interface StoreRec {
  rows: LinForm[][]; // one pending row per byte (features)
  signalsSoFar: number; // trap signals of this and earlier accesses in the block
}

/** What lowering a block's instructions produced, before its terminator. */
export class BlockLowering {
  readonly env = new Map<ValueId, IValue>();
  readonly canonical = new Map<ValueId, IValue>();
  readonly decoded = new Map<string, DecodedAccess>();
  readonly loaded = new Map<string, IValue>();
  readonly traps: TrapSignal[] = [];
  readonly stores: StoreRec[] = [];
  readonly pendingSoFar: LinForm[][] = [];
  readonly tag: string;

  constructor(
    readonly g: GraphBuilder,
    readonly pc: number,
    readonly fname: string,
    readonly mem: MemoryLayout | null,
    readonly epoch: LinForm[],
    readonly tick: LinForm | null,
  ) {
    this.tag = `b${pc}`;
  }

  get(v: ValueId): IValue {
    const x = this.env.get(v);
    if (!x) throw new CompileError(`internal: value v${v} used before definition in ${this.fname} block ${this.pc}`);
    return x;
  }

  canonOf(v: ValueId): IValue {
    let c = this.canonical.get(v);
    if (!c) {
      c = canon(this.g, this.pc, `${this.tag}.v${v}`, this.get(v));
      this.canonical.set(v, c);
      this.env.set(v, c);
    }
    return c;
  }

  reducedOf(v: ValueId): IValue {
    const r = this.canonical.get(v) ?? reduceForAdd(this.g, this.pc, `${this.tag}.v${v}`, this.get(v));
    this.env.set(v, r);
    return r;
  }

  /** An address needs a canonical lo limb; its hi limb may still carry canon_lo's carry. */
  addrOf(v: ValueId): IValue {
    const c = this.canonical.get(v);
    if (c) return c;
    const x = this.get(v);
    const r = x.loMax > LIMB - 1 ? canonLo(this.g, this.pc, `${this.tag}.v${v}`, x) : x;
    return r.hiMax > LIMB + 16 ? canon(this.g, this.pc, `${this.tag}.v${v}`, r) : r;
  }

  /** Accesses to the same address value and offset share one decoding (trap signal and bits). */
  decodeOf(addr: ValueId, offset: number, name: string): DecodedAccess {
    const key = `${addr}+${offset}`;
    let d = this.decoded.get(key);
    if (!d) {
      d = decodeAccess(this.g, this.pc, name, this.memory(), this.addrOf(addr), offset, 4);
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
    this.traps.push({ signal, code });
  }
}

type Rule<I extends Inst> = (L: BlockLowering, inst: I) => void;
type Rules = { [K in Inst['op']]: Rule<Extract<Inst, { op: K }>> };

/** The lowering rule of every IR instruction. */
export const LOWERING: Rules = {
  iconst: (L, i) => void L.env.set(i.dst, constValue(i.value)),
  iadd: (L, i) => {
    let s = addLazy(L.get(i.a), L.get(i.b));
    if (!fitsLazy(L.g, s)) s = addLazy(L.reducedOf(i.a), L.reducedOf(i.b));
    if (!fitsLazy(L.g, s)) s = addLazy(L.canonOf(i.a), L.canonOf(i.b));
    L.env.set(i.dst, s);
  },
  load: (L, i) => {
    // a load repeated with no store in between reads the same bytes (and traps alike)
    const key = `${i.addr}+${i.offset}@${L.stores.length}`;
    let value = L.loaded.get(key);
    if (!value) {
      const mem = L.memory();
      const name = `${L.tag}.load_v${i.dst}`;
      const acc = L.decodeOf(i.addr, i.offset, name);
      L.trap(acc.trap, TrapCode.OutOfBounds);
      const pending = [...L.pendingSoFar];
      const approx = acc.bits.map((bits, k) => stage1(L.g, L.pc, `${name}.byte${k}`, mem, bits, pending));
      const rm = L.g.mlp(L.pc, `${name}.round`);
      const epochs = approx.map((a, k) => roundBits(L.g, rm, `${name}.byte${k}`, a));
      const bytes = acc.bits.map((bits, k) => lvar(stage2(L.g, L.pc, `${name}.byte${k}`, mem, bits, epochs[k], pending)));
      value = limbValue(lcomb([[bytes[0], 1], [bytes[1], 256]]), lcomb([[bytes[2], 1], [bytes[3], 256]]));
      L.loaded.set(key, value);
    }
    L.env.set(i.dst, value);
    L.canonical.set(i.dst, value);
  },
  store: (L, i) => {
    const mem = L.memory();
    const name = `${L.tag}.store${L.stores.length}`;
    const bytes = valueBytes(L.g, L.pc, `${name}.value`, L.canonOf(i.value));
    const acc = L.decodeOf(i.addr, i.offset, name);
    L.trap(acc.trap, TrapCode.OutOfBounds);
    const tick = lcomb([[L.tick!, 1]], L.stores.length);
    const rows = acc.bits.map((bits, k) => pendingRow(mem, bits, L.epoch, tick, bytes[k]));
    L.pendingSoFar.push(...rows);
    L.stores.push({ rows, signalsSoFar: L.traps.length });
  },
};

export function lowerInst(L: BlockLowering, inst: Inst): void {
  (LOWERING[inst.op] as Rule<Inst>)(L, inst);
}

/** The block's terminator as edges (`pcOf` maps a block of the same function to its pc). */
export function edgesOf(L: BlockLowering, blk: Block, pcOf: (b: number) => number, haltPc: number): Edge[] {
  const term = blk.term;
  const argsOf = (vals: ValueId[]) => vals.map((v) => L.canonOf(v));
  switch (term.op) {
    case 'jump':
      return [{ taken: lconst(1), target: pcOf(term.target.block), args: argsOf(term.target.args) }];
    case 'br_if': {
      const c = nonzero(L.g, L.pc, `${L.tag}.br_if`, L.canonOf(term.cond));
      return [
        { taken: c, target: pcOf(term.then.block), args: argsOf(term.then.args) },
        { taken: lcomb([[c, -1]], 1), target: pcOf(term.else.block), args: argsOf(term.else.args) },
      ];
    }
    case 'return':
      return [{ taken: lconst(1), target: haltPc, args: argsOf(term.values) }];
  }
}

function sameForm(a: LinForm, b: LinForm): boolean {
  if (a.c !== b.c || a.terms.size !== b.terms.size) return false;
  for (const [v, k] of a.terms) if (b.terms.get(v) !== k) return false;
  return true;
}

/**
 * The readout of one expert: next pc = Σ target·taken (affine), the trap code of the first
 * access that trapped, the next arguments (gated by `taken` where edges disagree), and one
 * memory row per stored byte whose pad column carries KEEP = valid (no access up to the
 * store trapped; format/memory.ts): ports an expert does not use stay all-zero and are dropped.
 * Selections share one MLP node (`readout.select`), scheduled as early as its inputs allow.
 */
export function readoutOf(L: BlockLowering, edges: Edge[], maxArgs: number): { readout: LinForm[]; ports: LinForm[][] } {
  const { g } = L;
  const sel = g.mlp(L.pc, `${L.tag}.readout.select`);
  const nextPc = lcomb(edges.map((e) => [e.taken, e.target] as [LinForm, number]));
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
    let keep: LinForm = lconst(1);
    if (s.signalsSoFar > 0) {
      // valid = relu(1 − Σ trap signals up to this store) ∈ {0, 1}
      const valid = g.vreg(`${L.tag}.store${j}.valid`, 0, 1);
      sel.bias(valid, 0);
      sel.unit(lcomb(L.traps.slice(0, s.signalsSoFar).map((t) => [t.signal, -1] as [LinForm, number]), 1), [[valid, 1]], 1);
      keep = lvar(valid);
    }
    for (const row of s.rows) {
      const out = [...row];
      out[mem!.col.pad] = keep;
      ports.push(out);
    }
  });
  return { readout: [nextPc, trapCode, ...args], ports };
}
