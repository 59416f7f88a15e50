// backend/ir_to_graph.ts — pass 1 of the backend: IR module → gadget graph.
//
// Contract: every IR basic block of every function becomes one "program
// counter" value pc. All blocks are computed in every step, side by side;
// the block whose gate g_pc (one-hot from the embedding) is 1 is the one
// that counts. This pass adds:
//   - the embedding vregs: gates, argument limbs, time features (epoch bits, tick base);
//   - per block, the gadgets for each instruction (lazy adds are free, canonicalisation,
//     address decoding, memory lookups, value bytes, branch conditions);
//   - the readout select MLP, which gates each block's successor pc, arguments, trap
//     signal and store entries by g_pc (and by the branch condition), and sums them.
// It adds no weights and no slots: those are later passes.

import type { Block, Module, ValueId } from '../ir/ir.js';
import { CompileError } from '../frontend/errors.js';
import { localizeModule } from '../ir/localize.js';
import { Graph, GraphBuilder, nodeInputs } from './graph.js';
import type { LinForm, Vreg } from './linear.js';
import { lcomb, lvar, lvars } from './linear.js';
import { EPOCH_BITS, LIMB, MAX_MEMORY_BYTES, MemoryLayout, memoryLayout, TICKS } from './encoding.js';
import { IValue, addLazy, canon, canonLo, constValue, fitsLazy, limbValue, nonzero, reduceForAdd, valueBytes } from './gadgets/arith.js';
import { DecodedAccess, decodeAccess, pendingRow, roundBits, stage1, stage2 } from './gadgets/memory.js';

export interface BlockRef {
  func: string;
  block: number;
  pc: number;
  params: number; // after localisation: the live values the state token carries
}

export interface EntryPoint {
  name: string; // export name
  func: string;
  pc: number;
  params: number;
  results: number;
}

export interface ProgramGraph {
  graph: Graph;
  blocks: BlockRef[];
  entries: EntryPoint[];
  haltPc: number;
  maxArgs: number;
  memory: MemoryLayout | null;
  /** Token layouts (offsets into the input / output vectors). */
  tokenIn: { gates: number; args: number; epoch: number; tick: number; width: number };
  tokenOut: { pc: number; trap: number; args: number; width: number };
  storePorts: number;
}

interface Edge {
  off: LinForm; // 0 when this edge is taken, >= 1 otherwise
  target: number; // pc (haltPc for return)
  args: IValue[];
}

interface StoreRec {
  rows: LinForm[][]; // 4 pending rows (features)
  trapsSoFar: LinForm; // Σ trap signals of this and earlier accesses in the block
}

export function irToGraph(input: Module): ProgramGraph {
  const mod = localizeModule(input);
  if (mod.memory && mod.memory.pages * 65536 > MAX_MEMORY_BYTES) {
    throw new CompileError(
      `memory of ${mod.memory.pages} pages is larger than the supported ${MAX_MEMORY_BYTES / 65536} pages (1 MiB)`,
    );
  }
  const blocks: BlockRef[] = [];
  const pcOf = new Map<string, number>();
  for (const f of mod.funcs) {
    f.blocks.forEach((_, i) => {
      pcOf.set(`${f.name}#${i}`, blocks.length);
      blocks.push({ func: f.name, block: i, pc: blocks.length, params: f.blocks[i].params.length });
    });
  }
  const haltPc = blocks.length;
  let maxArgs = 0;
  let maxStores = 0;
  for (const f of mod.funcs) {
    maxArgs = Math.max(maxArgs, f.numResults);
    for (const b of f.blocks) {
      maxArgs = Math.max(maxArgs, b.params.length);
      maxStores = Math.max(maxStores, b.insts.filter((i) => i.op === 'store').length);
    }
  }
  const hasMemory = mod.memory !== null;
  const mem = hasMemory ? memoryLayout(mod.memory!.pages * 65536, Math.max(1, maxStores)) : null;
  if (mem && mem.storeSlots > TICKS / 16) {
    throw new CompileError(`a basic block has ${maxStores} stores; at most ${TICKS / 16} per block are supported`);
  }

  const g = new GraphBuilder();
  // Embedding vregs (token order).
  const gates = blocks.map((b) => g.vreg(`gate.${b.func}.b${b.block}`, 0, 1));
  const argLo: Vreg[] = [];
  const argHi: Vreg[] = [];
  for (let i = 0; i < maxArgs; i++) {
    argLo.push(g.vreg(`arg${i}.lo`, 0, LIMB - 1));
    argHi.push(g.vreg(`arg${i}.hi`, 0, LIMB - 1));
  }
  const epochV: Vreg[] = mem ? Array.from({ length: EPOCH_BITS }, (_, j) => g.vreg(`time.epoch${j}`, 0, 1)) : [];
  const tickV: Vreg | null = mem ? g.vreg('time.tick', 0, TICKS - 1) : null;
  const embed: Vreg[] = [...gates];
  for (let i = 0; i < maxArgs; i++) embed.push(argLo[i], argHi[i]);
  embed.push(...epochV);
  if (tickV !== null) embed.push(tickV);

  const allEdges: Array<{ pc: number; edges: Edge[]; traps: LinForm[]; stores: StoreRec[] }> = [];
  for (const f of mod.funcs) {
    f.blocks.forEach((blk, bi) => {
      const pc = pcOf.get(`${f.name}#${bi}`)!;
      allEdges.push(lowerBlock(g, f.name, blk, pc, gates[pc], argLo, argHi, epochV, tickV, mem, (b) => pcOf.get(`${f.name}#${b}`)!, haltPc));
    });
  }

  // Readout select MLP.
  const sel = g.mlp(null, 'readout.select');
  const nextPc = Array.from({ length: haltPc + 1 }, (_, t) => g.vreg(`next.pc${t}`, 0, 1));
  const maxTraps = Math.max(1, ...allEdges.map((b) => b.traps.length));
  const trapOut = g.vreg('next.trap', 0, maxTraps);
  const outLo = Array.from({ length: maxArgs }, (_, i) => g.vreg(`next.arg${i}.lo`, 0, LIMB - 1));
  const outHi = Array.from({ length: maxArgs }, (_, i) => g.vreg(`next.arg${i}.hi`, 0, LIMB - 1));
  for (const v of [...nextPc, trapOut, ...outLo, ...outHi]) sel.bias(v, 0);
  // Memory rows: every store of every block has its own four output rows (its pending rows, read
  // directly), plus a valid bit; pad = 1 - valid hides the rows of blocks that did not run and of
  // stores at or after a trap, so the runtime drops them (appending them would change nothing).
  const ports: LinForm[][] = [];
  for (const { pc, edges, traps, stores } of allEdges) {
    const gate = lvar(gates[pc]);
    for (const e of edges) {
      sel.unit(lcomb([[e.off, -1]], 1), [[nextPc[e.target], 1]], 1);
      e.args.forEach((a, i) => {
        sel.unit(lcomb([[a.lo, 1], [e.off, -LIMB]]), [[outLo[i], 1]], a.loMax);
        sel.unit(lcomb([[a.hi, 1], [e.off, -LIMB]]), [[outHi[i], 1]], a.hiMax);
      });
    }
    if (traps.length) {
      // each trap signal is 0 or 1, so the sum is at most traps.length < G: relu(sum - G·(1 - g))
      const sum = lcomb(traps.map((t) => [t, 1] as [LinForm, number]));
      const G = traps.length + 1;
      sel.unit(lcomb([[sum, 1], [gate, G]], -G), [[trapOut, 1]], traps.length);
    }
    stores.forEach((s, j) => {
      // valid = relu(g - trapsSoFar): 1 iff this block runs and no access up to this store trapped.
      const valid = g.vreg(`b${pc}.store${j}.valid`, 0, 1);
      sel.bias(valid, 0);
      sel.unit(lcomb([[gate, 1], [s.trapsSoFar, -1]]), [[valid, 1]], 1);
      for (const row of s.rows) {
        const out = [...row];
        out[mem!.col.pad] = lcomb([[lvar(valid), -1]], 1);
        ports.push(out);
      }
    });
  }
  const storePorts = ports.length;
  const readout: Vreg[] = [...nextPc, trapOut];
  for (let i = 0; i < maxArgs; i++) readout.push(outLo[i], outHi[i]);

  const graph = prune({ vregs: g.vregs, nodes: g.nodes, embed, readout, ports });
  const entries: EntryPoint[] = [];
  for (const f of mod.funcs) {
    for (const name of f.exportNames) {
      entries.push({ name, func: f.name, pc: pcOf.get(`${f.name}#0`)!, params: f.numParams, results: f.numResults });
    }
  }
  const tokenIn = {
    gates: 0,
    args: haltPc,
    epoch: haltPc + 2 * maxArgs,
    tick: haltPc + 2 * maxArgs + (mem ? EPOCH_BITS : 0),
    width: embed.length,
  };
  const tokenOut = { pc: 0, trap: haltPc + 1, args: haltPc + 2, width: readout.length };
  return { graph, blocks, entries, haltPc, maxArgs, memory: mem, tokenIn, tokenOut, storePorts };
}

function lowerBlock(
  g: GraphBuilder,
  fname: string,
  blk: Block,
  pc: number,
  gateV: Vreg,
  argLo: Vreg[],
  argHi: Vreg[],
  epochV: Vreg[],
  tickV: Vreg | null,
  mem: MemoryLayout | null,
  pcOfBlock: (b: number) => number,
  haltPc: number,
): { pc: number; edges: Edge[]; traps: LinForm[]; stores: StoreRec[] } {
  const env = new Map<ValueId, IValue>();
  const canonical = new Map<ValueId, IValue>();
  blk.params.forEach((v, i) => env.set(v, limbValue(lvar(argLo[i]), lvar(argHi[i]))));
  const tag = `b${pc}`;
  const get = (v: ValueId): IValue => {
    const x = env.get(v);
    if (!x) throw new CompileError(`internal: value v${v} used before definition in ${fname} block ${pc}`);
    return x;
  };
  const canonOf = (v: ValueId): IValue => {
    let c = canonical.get(v);
    if (!c) {
      c = canon(g, pc, `${tag}.v${v}`, get(v));
      canonical.set(v, c);
      env.set(v, c);
    }
    return c;
  };
  const reducedOf = (v: ValueId): IValue => {
    const r = canonical.get(v) ?? reduceForAdd(g, pc, `${tag}.v${v}`, get(v));
    env.set(v, r);
    return r;
  };
  // An address needs a canonical lo limb, but its hi limb may still carry canon_lo's carry
  // (decodeAccess folds hi mod 65536 into its first sublayer): one sublayer instead of two.
  const addrOf = (v: ValueId): IValue => {
    const c = canonical.get(v);
    if (c) return c;
    const x = get(v);
    const r = x.loMax > LIMB - 1 ? canonLo(g, pc, `${tag}.v${v}`, x) : x;
    return r.hiMax > LIMB + 16 ? canon(g, pc, `${tag}.v${v}`, r) : r;
  };
  // Accesses to the same address value and offset share one decoding (its trap signal and bits).
  const decoded = new Map<string, DecodedAccess>();
  const decodeOf = (addr: ValueId, offset: number, name: string): DecodedAccess => {
    const key = `${addr}+${offset}`;
    let d = decoded.get(key);
    if (!d) {
      d = decodeAccess(g, pc, name, mem!, addrOf(addr), offset, 4);
      decoded.set(key, d);
    }
    return d;
  };
  const loaded = new Map<string, IValue>();
  const traps: LinForm[] = [];
  const stores: StoreRec[] = [];
  const pendingSoFar: LinForm[][] = [];
  const epochForms = epochV.map((v) => lvar(v));
  for (const inst of blk.insts) {
    switch (inst.op) {
      case 'iconst':
        env.set(inst.dst, constValue(inst.value));
        break;
      case 'binary': {
        if (inst.code !== 'add') notYet(`i32.${inst.code}`);
        let s = addLazy(get(inst.a), get(inst.b));
        if (!fitsLazy(g, s)) s = addLazy(reducedOf(inst.a), reducedOf(inst.b));
        if (!fitsLazy(g, s)) s = addLazy(canonOf(inst.a), canonOf(inst.b));
        env.set(inst.dst, s);
        break;
      }
      case 'load': {
        if (inst.bytes !== 4) notYet(`${inst.bytes}-byte loads`);
        // a load repeated with no store in between reads the same bytes (and traps alike)
        const key = `${inst.addr}+${inst.offset}@${stores.length}`;
        let value = loaded.get(key);
        if (!value) {
          const name = `${tag}.load_v${inst.dst}`;
          const acc = decodeOf(inst.addr, inst.offset, name);
          traps.push(acc.trap);
          const pending = [...pendingSoFar];
          const approx = acc.bits.map((bits, i) => stage1(g, pc, `${name}.byte${i}`, mem!, bits, pending));
          const rm = g.mlp(pc, `${name}.round`);
          const epochs = approx.map((a, i) => roundBits(g, rm, `${name}.byte${i}`, a));
          const bytes = acc.bits.map((bits, i) => lvar(stage2(g, pc, `${name}.byte${i}`, mem!, bits, epochs[i], pending)));
          value = limbValue(lcomb([[bytes[0], 1], [bytes[1], 256]]), lcomb([[bytes[2], 1], [bytes[3], 256]]));
          loaded.set(key, value);
        }
        env.set(inst.dst, value);
        canonical.set(inst.dst, value);
        break;
      }
      case 'store': {
        if (inst.bytes !== 4) notYet(`${inst.bytes}-byte stores`);
        const name = `${tag}.store${stores.length}`;
        const bytes = valueBytes(g, pc, `${name}.value`, canonOf(inst.value));
        const acc = decodeOf(inst.addr, inst.offset, name);
        traps.push(acc.trap);
        const tick = lcomb([[lvar(tickV!), 1]], stores.length);
        const rows = acc.bits.map((bits, i) => pendingRow(mem!, bits, epochForms, tick, bytes[i]));
        pendingSoFar.push(...rows);
        stores.push({ rows, trapsSoFar: lcomb(traps.map((t) => [t, 1] as [LinForm, number])) });
        break;
      }
      default:
        notYet(inst.op === 'unary' ? `i32.${inst.code}` : inst.op);
    }
  }
  const gate = lvar(gateV);
  const edges: Edge[] = [];
  const term = blk.term;
  const argsOf = (vals: ValueId[]) => vals.map((v) => canonOf(v));
  switch (term.op) {
    case 'jump':
      edges.push({ off: lcomb([[gate, -1]], 1), target: pcOfBlock(term.target.block), args: argsOf(term.target.args) });
      break;
    case 'br_if': {
      const cond = nonzero(g, pc, `${tag}.br_if`, canonOf(term.cond));
      edges.push({ off: lcomb([[gate, -1], [cond, -1]], 2), target: pcOfBlock(term.then.block), args: argsOf(term.then.args) });
      edges.push({ off: lcomb([[gate, -1], [cond, 1]], 1), target: pcOfBlock(term.else.block), args: argsOf(term.else.args) });
      break;
    }
    case 'return':
      edges.push({ off: lcomb([[gate, -1]], 1), target: haltPc, args: argsOf(term.values) });
      break;
    default:
      notYet(term.op === 'trap' ? 'unreachable' : term.op);
  }
  return { pc, edges, traps, stores };
}

/** Instructions the IR has but this backend does not lower yet. */
function notYet(what: string): never {
  throw new CompileError(`${what} is not supported by the transformer backend yet`);
}

/** Drops nodes whose outputs nothing reachable from the readout reads. */
function prune(graph: Graph): Graph {
  const needed = new Set<Vreg>(graph.readout);
  for (const row of graph.ports) for (const f of row) for (const v of lvars(f)) needed.add(v);
  const keep = new Array<boolean>(graph.nodes.length).fill(false);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i];
    if (n.outputs.some((v) => needed.has(v))) {
      keep[i] = true;
      for (const v of nodeInputs(n)) needed.add(v);
    }
  }
  const nodes = graph.nodes.filter((_, i) => keep[i]).map((n, i) => ({ ...n, id: i }));
  return { ...graph, nodes };
}
