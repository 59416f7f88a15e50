// backend/ir_to_graph.ts — pass 1 of the backend: IR module → one gadget graph per expert.
//
// Contract: every IR basic block of every function is one expert, numbered by its program
// counter pc (pc = number of experts is HALT). An expert's graph reads the state token
// through its embedding vregs, in token order (format/token.ts): the constant 1, the time
// features with memory, then its own parameters' limbs; it writes the next token through `readout` (next pc, trap
// code, argument limbs) and one memory row per stored byte through `ports`. Experts share
// nothing but the token and memory layouts: a step runs only the expert its pc selects, so
// no gate, edge or store of another block enters its sums (DESIGN.md §2).
// It adds no weights and no slots: those are later passes, run per expert.

import type { Block, Func, Module } from '../ir/ir.js';
import { CompileError } from '../format/errors.js';
import { tokenLayout } from '../format/token.js';
import type { CallStackLayout, EntryPoint } from '../format/layout.js';
import { FORMAT_LIMITS } from '../format/layout.js';
import { Graph, GraphBuilder, nodeInputs, renumberedNode } from './graph.js';
import type { LinForm, Vreg } from './linear.js';
import { lvar, lvars } from './linear.js';
import { EPOCH_BITS, LIMB, MAX_MEMORY_BYTES, MemoryLayout, memoryLayout, TICKS, type LookupKind } from './encoding.js';
import { limbValue } from './gadgets/arith.js';
import { depthBits } from './gadgets/memory.js';
import { schedule } from './schedule.js';
import { slackDecompositions } from './bit_slack.js';
import { BlockLowering, EdgeTarget, exitOf, lowerInst, nextPcForm, ProgramContext, readoutOf } from './lower_block.js';
import type { IValue } from './gadgets/arith.js';

/** A block's gadget graph before pcs are assigned (its next-pc readout is a placeholder). */
export interface BlockGraph {
  func: string;
  block: number;
  params: number;
  /** Arguments its readout writes (the most any edge passes). */
  outArgs: number;
  graph: Graph;
  exits: Array<{ taken: LinForm; target: EdgeTarget }>;
  /** Its graph holds pc constants (lowered again once pcs are assigned). */
  pcDependent: boolean;
  /** The decompositions it builds in the small form (bit_slack.ts; GraphBuilder.cheapBits). */
  bits: ReadonlySet<string>;
  /** A sketch, for measuring only (graph.ts MlpBuilder): fullGraph lowers it in full. */
  sketch: boolean;
}

export interface ExpertGraph extends BlockGraph {
  pc: number;
}

export interface ProgramGraphs {
  experts: ExpertGraph[];
  entries: EntryPoint[];
  haltPc: number;
  maxArgs: number;
  memory: MemoryLayout | null;
  ctx: ProgramContext;
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

export const DEFAULT_MAX_CALL_DEPTH = 1024;

/** The most bytes the call frames may take (the address encoding's last 2^20 bytes, less two pages). */
const FRAME_REGION = 2 ** 20 - 2 * 65536;

/**
 * Where the call frames go, above linear memory (DESIGN.md §11): aligned when that fits (the
 * stride rounded up to a power of two P, frameBase rounded up to a multiple of P·2^D,
 * gadgets/memory.ts framesAligned: a frame's addresses then cost one decomposition of the
 * depth), else packed at the end of linear memory (every byte's address decoded on its own).
 */
export function callStackLayout(memBytes: number, frameBytes: number, maxDepth: number): CallStackLayout {
  const stride = 2 ** Math.ceil(Math.log2(frameBytes));
  const span = stride * 2 ** depthBits(maxDepth);
  const frameBase = Math.ceil(memBytes / span) * span;
  const fits = stride * maxDepth <= FRAME_REGION && frameBase + stride * maxDepth <= MAX_MEMORY_BYTES && stride <= 4 * FORMAT_LIMITS.maxArgs + 4;
  return fits ? { maxDepth, frameBase, frameBytes: stride } : { maxDepth, frameBase: memBytes, frameBytes };
}

/**
 * What every block of a module shares: memory layout (linear memory, then the call-stack
 * frames: DESIGN.md §10), globals and their token slots, the frame shape. `maxStores` bounds
 * the stores of one block (it sets the time encoding's store slots).
 */
export function programContext(mod: Module, maxStores: number, maxCallDepth = DEFAULT_MAX_CALL_DEPTH, lookup: LookupKind = 'unique'): ProgramContext {
  let frameValues = -1;
  // a function's returns load as many words as its callers' frames hold at most: [pc, saved…]
  const calleeWords = new Map<string, number>();
  for (const f of mod.funcs) {
    for (const b of f.blocks) {
      if (b.term.op !== 'call') continue;
      frameValues = Math.max(frameValues, b.term.cont.args.length);
      calleeWords.set(b.term.func, Math.max(calleeWords.get(b.term.func) ?? 1, 1 + b.term.cont.args.length));
    }
  }
  const hasCalls = frameValues >= 0;
  const frameWords = hasCalls ? 1 + frameValues : 0;
  const grows = mod.funcs.some((f) => f.blocks.some((b) => b.insts.some((i) => i.op === 'memory_grow')));
  // a growable memory is laid out at its largest size; accesses past the current one trap
  const memBytes = (mod.memory ? (grows ? mod.memory.maxPages : mod.memory.pages) : 0) * 65536;
  if (!Number.isInteger(maxCallDepth) || maxCallDepth < 2 || maxCallDepth > 65535) throw new CompileError(`--max-call-depth must be an integer from 2 to 65535, not ${maxCallDepth}`);
  const calls = hasCalls ? callStackLayout(memBytes, 4 * frameWords, maxCallDepth) : null;
  if (calls && calls.maxDepth * calls.frameBytes > FRAME_REGION) {
    throw new CompileError(`a call stack of ${calls.maxDepth} frames of ${calls.frameBytes} bytes is larger than the supported ${FRAME_REGION} bytes: lower --max-call-depth`);
  }
  const addrSpace = calls ? calls.frameBase + calls.maxDepth * calls.frameBytes : memBytes;
  if (addrSpace > MAX_MEMORY_BYTES) {
    throw new CompileError(
      calls && memBytes <= MAX_MEMORY_BYTES
        ? `memory (${memBytes / 65536} pages) and a call stack of ${calls.maxDepth} frames of ${calls.frameBytes} bytes need ${addrSpace} bytes; at most ${MAX_MEMORY_BYTES} (${MAX_MEMORY_BYTES / 65536} pages) are supported: lower --max-call-depth`
        : `memory of ${memBytes / 65536} pages${grows ? ' (its maximum, for memory.grow)' : ''} is larger than the supported ${MAX_MEMORY_BYTES / 65536} pages (${MAX_MEMORY_BYTES / 2 ** 20} MiB: addresses are exact 24-bit integers)${grows ? '; declare a smaller maximum' : ''}`,
      mod.memory?.offset !== undefined ? { offset: mod.memory.offset } : {},
    );
  }
  let mem: MemoryLayout | null = null;
  if (mod.memory || calls) {
    const stores = Math.max(1, maxStores, frameWords);
    mem = memoryLayout(memBytes, stores, addrSpace, lookup);
    if (mem.storeSlots > TICKS / 16) throw new CompileError(`a basic block has ${stores} stores; at most ${TICKS / 16} per block are supported`);
  }
  const globalSlot = new Map<number, number>();
  mod.globals.forEach((g, i) => g.mutable && globalSlot.set(i, globalSlot.size));
  const grow = grows && mod.memory ? { initialPages: mod.memory.pages, maxPages: mod.memory.maxPages, slot: globalSlot.size } : null;
  const hasOutput = mod.funcs.some((f) => f.blocks.some((b) => b.insts.some((i) => i.op === 'output')));
  const frameWordsOf = (func: string) => calleeWords.get(func) ?? 1;
  return { mem, globals: mod.globals, globalSlot, grow, calls, frameWords, frameWordsOf, hasOutput, pcOf: null };
}

/** Token globals: the module's mutable ones, then the page count with memory.grow. */
export function tokenGlobals(ctx: ProgramContext): number {
  return ctx.globalSlot.size + (ctx.grow ? 1 : 0);
}

/**
 * One block as a gadget graph: sketched with every bit decomposition in the fast form, then, when
 * some are off its critical path, again with those in the small form (withSmallBits), and the
 * chosen form lowered in full (fullGraph).
 */
export function lowerBlock(f: Func, bi: number, blk: Block, ctx: ProgramContext): BlockGraph {
  return fullGraph(f, bi, blk, ctx, withSmallBits(f, bi, blk, ctx, lowerBlockFast(f, bi, blk, ctx, true)));
}

/**
 * One block as a gadget graph, every bit decomposition in the fast form (two sublayers a limb);
 * with `sketch`, a graph for measuring only (graph.ts MlpBuilder: its schedule, allocation and
 * step shape are the full graph's), at a fraction of the cost.
 */
export function lowerBlockFast(f: Func, bi: number, blk: Block, ctx: ProgramContext, sketch = false): BlockGraph {
  return lowerBlockWith(f, bi, blk, ctx, new Set(), sketch);
}

/** The full graph of a block lowered as `e` was (the same decompositions): e itself unless e is a sketch. */
export function fullGraph(f: Func, bi: number, blk: Block, ctx: ProgramContext, e: BlockGraph): BlockGraph {
  return e.sketch ? lowerBlockWith(f, bi, blk, ctx, e.bits, false) : e;
}

/**
 * The block lowered again with its decompositions off the critical path of `fast` (its fast
 * lowering) in the small form, a nibble a sublayer (bit_slack.ts), when that is no deeper; else
 * `fast` itself. Both compute the same values exactly.
 */
export function withSmallBits(f: Func, bi: number, blk: Block, ctx: ProgramContext, fast: BlockGraph, sched = schedule(fast.graph)): BlockGraph {
  const cheap = slackDecompositions(fast.graph, sched);
  if (cheap.size === 0) return fast;
  const small = lowerBlockWith(f, bi, blk, ctx, cheap, fast.sketch);
  return schedule(small.graph).layers <= sched.layers ? small : fast;
}

/**
 * The gadget graph of one block (of a localized function: every live-in is a parameter).
 * It depends on nothing outside the block but the program context: token fields have fixed
 * positions (format/token.ts), so the graph reads only its own parameters' limbs. A block
 * that needed pcs (a call saves its continuation's) is marked `pcDependent`.
 */
function lowerBlockWith(f: Func, bi: number, blk: Block, ctx: ProgramContext, cheapBits: ReadonlySet<string>, sketch: boolean): BlockGraph {
  const { mem } = ctx;
  const g = new GraphBuilder(cheapBits, sketch);
  const G = tokenGlobals(ctx);
  const tok = tokenLayout({ maxArgs: blk.params.length, hasMemory: mem !== null, globals: G, hasCalls: ctx.calls !== null, hasOutput: ctx.hasOutput }).tokenIn;
  const one = g.vreg('one', 1, 1);
  const epochV: Vreg[] = mem ? Array.from({ length: EPOCH_BITS }, (_, j) => g.vreg(`time.epoch${j}`, 0, 1)) : [];
  const tickV: Vreg | null = mem ? g.vreg('time.tick', 0, TICKS - 1) : null;
  const embed: Vreg[] = [one, ...epochV];
  if (tickV !== null) embed.push(tickV);
  const globals: IValue[] = [];
  for (let k = 0; k < G; k++) {
    const lo = g.vreg(`global${k}.lo`, 0, LIMB - 1);
    const hi = g.vreg(`global${k}.hi`, 0, LIMB - 1);
    embed.push(lo, hi);
    globals.push(limbValue(lvar(lo), lvar(hi)));
  }
  const depthV = ctx.calls ? g.vreg('depth', 0, ctx.calls.maxDepth) : null;
  if (depthV !== null) embed.push(depthV);
  if (embed.length !== tok.args) throw new Error(`lowerBlock: token layout mismatch (${embed.length} vs ${tok.args})`);
  const argLo: Vreg[] = [];
  const argHi: Vreg[] = [];
  blk.params.forEach((_, i) => {
    argLo.push(g.vreg(`arg${i}.lo`, 0, LIMB - 1));
    argHi.push(g.vreg(`arg${i}.hi`, 0, LIMB - 1));
    embed.push(argLo[i], argHi[i]);
  });
  const L = new BlockLowering(g, bi, f.name, ctx, epochV.map((v) => lvar(v)), tickV === null ? null : lvar(tickV), globals, depthV === null ? null : lvar(depthV));
  blk.params.forEach((v, i) => L.env.set(v, limbValue(lvar(argLo[i]), lvar(argHi[i]))));
  for (const inst of blk.insts) lowerInst(L, inst);
  const exit = exitOf(L, blk);
  const { readout, ports } = readoutOf(L, exit);
  const graph = prune({ vregs: g.vregs, nodes: g.nodes, one, embed, readout, ports });
  const outArgs = Math.max(0, ...exit.edges.map((e) => e.args.length));
  return { func: f.name, block: bi, params: blk.params.length, outArgs, graph, exits: exit.edges.map((e) => ({ taken: e.taken, target: e.target })), pcDependent: L.usedPcs, bits: cheapBits, sketch };
}

/** Gives a block graph its pc and its next-pc readout. */
export function placeBlock(b: BlockGraph, pcs: PcMap): ExpertGraph {
  const pcOf = (t: number | 'halt' | { func: string; block: number }) => (t === 'halt' ? pcs.haltPc : typeof t === 'number' ? pcs.pcOf(b.func, t) : pcs.pcOf(t.func, t.block));
  const readout = [nextPcForm(b.exits, pcOf), ...b.graph.readout.slice(1)];
  return { ...b, pc: pcs.pcOf(b.func, b.block), graph: { ...b.graph, readout } };
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

/**
 * Every block of a localized module as an expert graph; `lowered` may hold graphs already
 * built for some blocks (by the block splitter, keyed by the Block object).
 */
export function irToGraphs(mod: Module, lowered: ReadonlyMap<Block, BlockGraph> = new Map(), maxCallDepth = DEFAULT_MAX_CALL_DEPTH, lookup: LookupKind = 'unique'): ProgramGraphs {
  const pcs = pcMap(mod);
  const maxArgs = maxArgsOf(mod);
  const ctx: ProgramContext = { ...programContext(mod, maxStoresPerBlock(mod), maxCallDepth, lookup), pcOf: pcs.pcOf };
  const memory = ctx.mem;
  if (pcs.haltPc >= 2 ** 22) throw new CompileError(`the program has ${pcs.haltPc} basic blocks; at most ${2 ** 22} are supported`);
  const experts: ExpertGraph[] = [];
  for (const f of mod.funcs) {
    f.blocks.forEach((blk, bi) => {
      const b = lowered.get(blk);
      experts.push(placeBlock(b && b.block === bi && !b.pcDependent && !b.sketch ? b : lowerBlock(f, bi, blk, ctx), pcs));
    });
  }
  // a return through a call frame passes [results, every saved slot]: possibly more than any block takes
  const widest = Math.max(maxArgs, ...experts.map((e) => e.outArgs));
  return { experts, entries: entriesOf(mod, pcs), haltPc: pcs.haltPc, maxArgs: widest, memory, ctx };
}

/** The token layout every expert of a program shares. */
export function programTokens(p: ProgramGraphs) {
  return tokenLayout({ maxArgs: p.maxArgs, hasMemory: p.memory !== null, globals: tokenGlobals(p.ctx), hasCalls: p.ctx.calls !== null, hasOutput: p.ctx.hasOutput });
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
  const nodes = graph.nodes.filter((_, i) => keep[i]).map((n, i) => renumberedNode(n, i));
  return { ...graph, nodes };
}
