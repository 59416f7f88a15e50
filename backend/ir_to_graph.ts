// backend/ir_to_graph.ts — pass 1 of the backend: IR module → one gadget graph per expert.
//
// Contract: every IR basic block of every function is one expert, numbered by its program
// counter pc (pc = number of experts is HALT). An expert's graph reads the state token
// through its embedding vregs, in token order (format/token.ts): the constant 1, argument
// limbs, then the time features with memory; it writes the next token through `readout` (next pc, trap
// code, argument limbs) and one memory row per stored byte through `ports`. Experts share
// nothing but the token and memory layouts: a step runs only the expert its pc selects, so
// no gate, edge or store of another block enters its sums (DESIGN.md §2).
// It adds no weights and no slots: those are later passes, run per expert.

import type { Block, Func, Module } from '../ir/ir.js';
import { CompileError } from '../format/errors.js';
import { tokenLayout } from '../format/token.js';
import type { EntryPoint } from '../format/layout.js';
import { Graph, GraphBuilder, nodeInputs } from './graph.js';
import type { LinForm, Vreg } from './linear.js';
import { lvar, lvars } from './linear.js';
import { EPOCH_BITS, LIMB, MAX_MEMORY_BYTES, MemoryLayout, memoryLayout, TICKS } from './encoding.js';
import { limbValue } from './gadgets/arith.js';
import { BlockLowering, edgesOf, lowerInst, readoutOf } from './lower_block.js';

export interface ExpertGraph {
  pc: number;
  func: string;
  block: number;
  params: number;
  graph: Graph;
}

export interface ProgramGraphs {
  experts: ExpertGraph[];
  entries: EntryPoint[];
  haltPc: number;
  maxArgs: number;
  memory: MemoryLayout | null;
}

/** Where each block of each function sits in the pc numbering. */
export interface PcMap {
  pcOf(func: string, block: number): number;
  haltPc: number;
}

export function pcMap(mod: Module): PcMap {
  const base = new Map<string, number>();
  let n = 0;
  for (const f of mod.funcs) {
    base.set(f.name, n);
    n += f.blocks.length;
  }
  return { pcOf: (func, b) => base.get(func)! + b, haltPc: n };
}

export function maxStoresPerBlock(mod: Module): number {
  let m = 0;
  for (const f of mod.funcs) for (const b of f.blocks) m = Math.max(m, b.insts.filter((i) => i.op === 'store').length);
  return m;
}

/** The memory layout of a module whose blocks hold at most `maxStores` stores each. */
export function programMemory(mod: Module, maxStores: number): MemoryLayout | null {
  if (!mod.memory) return null;
  if (mod.memory.pages * 65536 > MAX_MEMORY_BYTES) {
    throw new CompileError(`memory of ${mod.memory.pages} pages is larger than the supported ${MAX_MEMORY_BYTES / 65536} pages (1 MiB)`);
  }
  const mem = memoryLayout(mod.memory.pages * 65536, Math.max(1, maxStores));
  if (mem.storeSlots > TICKS / 16) throw new CompileError(`a basic block has ${maxStores} stores; at most ${TICKS / 16} per block are supported`);
  return mem;
}

/** The gadget graph of one block (`mod` localized: every live-in is a block parameter). */
export function lowerExpert(f: Func, bi: number, pcs: PcMap, maxArgs: number, mem: MemoryLayout | null): ExpertGraph {
  const blk: Block = f.blocks[bi];
  const pc = pcs.pcOf(f.name, bi);
  const g = new GraphBuilder();
  const one = g.vreg('one', 1, 1);
  const argLo: Vreg[] = [];
  const argHi: Vreg[] = [];
  for (let i = 0; i < maxArgs; i++) {
    argLo.push(g.vreg(`arg${i}.lo`, 0, LIMB - 1));
    argHi.push(g.vreg(`arg${i}.hi`, 0, LIMB - 1));
  }
  const epochV: Vreg[] = mem ? Array.from({ length: EPOCH_BITS }, (_, j) => g.vreg(`time.epoch${j}`, 0, 1)) : [];
  const tickV: Vreg | null = mem ? g.vreg('time.tick', 0, TICKS - 1) : null;
  const embed: Vreg[] = [one];
  for (let i = 0; i < maxArgs; i++) embed.push(argLo[i], argHi[i]);
  embed.push(...epochV);
  if (tickV !== null) embed.push(tickV);

  const L = new BlockLowering(g, pc, f.name, mem, epochV.map((v) => lvar(v)), tickV === null ? null : lvar(tickV));
  blk.params.forEach((v, i) => L.env.set(v, limbValue(lvar(argLo[i]), lvar(argHi[i]))));
  for (const inst of blk.insts) lowerInst(L, inst);
  const edges = edgesOf(L, blk, (b) => pcs.pcOf(f.name, b), pcs.haltPc);
  const { readout, ports } = readoutOf(L, edges, maxArgs);
  const graph = prune({ vregs: g.vregs, nodes: g.nodes, one, embed, readout, ports });
  return { pc, func: f.name, block: bi, params: blk.params.length, graph };
}

export function maxArgsOf(mod: Module): number {
  let m = 0;
  for (const f of mod.funcs) {
    m = Math.max(m, f.numResults);
    for (const b of f.blocks) m = Math.max(m, b.params.length);
  }
  return m;
}

export function entriesOf(mod: Module, pcs: PcMap): EntryPoint[] {
  const entries: EntryPoint[] = [];
  for (const f of mod.funcs) {
    for (const name of f.exportNames) entries.push({ name, func: f.name, pc: pcs.pcOf(f.name, 0), params: f.numParams, results: f.numResults });
  }
  return entries;
}

/** Every block of a localized module as an expert graph. */
export function irToGraphs(mod: Module): ProgramGraphs {
  const pcs = pcMap(mod);
  const maxArgs = maxArgsOf(mod);
  const memory = programMemory(mod, maxStoresPerBlock(mod));
  if (pcs.haltPc >= 2 ** 22) throw new CompileError(`the program has ${pcs.haltPc} basic blocks; at most ${2 ** 22} are supported`);
  const experts: ExpertGraph[] = [];
  for (const f of mod.funcs) f.blocks.forEach((_, bi) => experts.push(lowerExpert(f, bi, pcs, maxArgs, memory)));
  return { experts, entries: entriesOf(mod, pcs), haltPc: pcs.haltPc, maxArgs, memory };
}

/** The token layout every expert of a program shares. */
export function programTokens(p: ProgramGraphs) {
  return tokenLayout(p.maxArgs, p.memory !== null);
}

/** Drops nodes whose outputs nothing reachable from the readout reads. */
function prune(graph: Graph): Graph {
  const needed = new Set<Vreg>();
  const need = (f: LinForm) => lvars(f).forEach((v) => needed.add(v));
  graph.readout.forEach(need);
  for (const row of graph.ports) row.forEach(need);
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
