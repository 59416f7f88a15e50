// backend/index.ts — the backend driver: runs the passes in order, per expert, and describes the result.
//
//   localize → split_blocks (long blocks → chains that fit the budgets) → merge_steps (a loop
//   block takes in the block it goes to, where that fits the model) → ir_to_graph (one
//   graph per block) → check_magnitudes → schedule → allocate → check_allocation
//   → model dims (widest expert) → assemble_weights → emit_onnx
//
// The layout written into the model (format/layout.ts) is everything the runtime needs:
// experts, entry points, token layouts, memory encoding and initial data.

import type { Block, Func, Module } from '../ir/ir.js';
import { localizeModule } from '../ir/localize.js';
import { blocksOnCycles } from '../ir/cycles.js';
import { BlockGraph, fullGraph, irToGraphs, lowerBlockFast, programContext, ProgramGraphs, ExpertGraph, programTokens, withSmallBits } from './ir_to_graph.js';
import { splitLongBlocks } from './split_blocks.js';
import { mergeSteps } from './merge_steps.js';
import type { Graph } from './graph.js';
import type { Schedule } from './schedule.js';
import { CompileError } from '../format/errors.js';
import { criticalPath, schedule } from './schedule.js';
import { allocate } from './allocate.js';
import { checkAllocation } from './check_allocation.js';
import { checkMagnitudes } from './check_magnitudes.js';
import { assembleExpert, expertDepth, expertMaps, modelDims, ModelWeights, PlacedExpert } from './assemble_weights.js';
import { emitOnnx } from './emit_onnx.js';
import { encodeBase64, type LookupKind, type MemoryLayout } from '../format/memory.js';
import { FORMAT_VERSION, type CompileStats, type ExpertInfo, type ModelLayout, type Routing } from '../format/layout.js';

export type { CompileStats, ModelLayout } from '../format/layout.js';

export interface BackendOptions {
  /** 'gather' (default): sparse experts routed by pc; 'onehot': dense matrices (small programs). */
  routing?: Routing;
  /** A block needing more layers is split into several steps (default DEFAULT_MAX_LAYERS). */
  maxLayers?: number;
  /** A block with more stores is split (default DEFAULT_MAX_STORES). */
  maxStores?: number;
  /** A block needing a wider residual stream is split (default DEFAULT_MAX_WIDTH). */
  maxWidth?: number;
  /** Calls deeper than this trap "call stack exhausted" (default 1024). */
  maxCallDepth?: number;
  /** How lookups find the newest write (format/memory.ts LookupKind; default 'unique'). */
  lookup?: LookupKind;
}

/** Budgets per step (DESIGN.md §2): every expert is padded to the widest, so keep them modest. */
export const DEFAULT_MAX_LAYERS = 20;
export const DEFAULT_MAX_STORES = 32;
export const DEFAULT_MAX_WIDTH = 4096;

export interface BackendResult {
  onnx: Uint8Array;
  layout: ModelLayout;
  stats: CompileStats;
  /** The module the model executes (localized, long blocks split): the IR interpreter's twin. */
  ir: Module;
  /** Intermediate products, for tests and tools. */
  program: ProgramGraphs;
  placed: PlacedExpert[];
  weights: ModelWeights;
}

function place(e: ExpertGraph, mem: MemoryLayout | null): PlacedExpert {
  checkMagnitudes(e.graph, mem);
  const sched = schedule(e.graph);
  const alloc = allocate(e.graph, sched);
  checkAllocation(e.graph, sched, alloc);
  return { graph: e.graph, sched, alloc };
}

export function compileIR(input: Module, started = performance.now(), opts: BackendOptions = {}): BackendResult {
  const routing = opts.routing ?? 'gather';
  const { mod, lowered } = fitBlocks(localizeModule(input), opts);
  const program = irToGraphs(mod, lowered, opts.maxCallDepth, opts.lookup);
  if (program.experts.length === 0) throw new CompileError('nothing to compile: the module defines no functions');
  const mem = program.memory;
  const placed = program.experts.map((e) => place(e, mem));
  const tok = programTokens(program);
  const dims = modelDims(placed, tok.tokenIn.width, tok.tokenOut.width, mem);
  const experts = placed.map((p) => assembleExpert(p, dims));
  const weights: ModelWeights = { dims, experts };
  const nonzeros = experts.reduce((s, e) => s + expertMaps(e).reduce((t, m) => t + m.val.length, 0), 0);
  const stats: CompileStats = {
    layers: dims.layers,
    dModel: dims.d,
    heads: dims.heads.reduce((a, b) => a + b, 0),
    params: 0,
    nonzeros,
    mlpHidden: dims.hidden.reduce((a, b) => a + b, 0),
    criticalPath: Math.max(1, ...program.experts.map((e) => criticalPath(e.graph))),
    maxLive: Math.max(0, ...placed.map((p) => p.alloc.maxLive)),
    naiveSlots: Math.max(0, ...placed.map((p) => p.alloc.naiveSlots)),
    experts: program.experts.length,
    compileMs: 0,
  };
  const layout: ModelLayout = {
    format: FORMAT_VERSION,
    routing,
    // routed: an expert that needs fewer layers than the model exits early (format/layout.ts)
    experts: withExits(program.experts.map((e) => ({ func: e.func, block: e.block, params: e.params })), weights, routing === 'gather', maxExits(nonzeros), mod),
    entries: program.entries,
    maxArgs: program.maxArgs,
    globals: mod.globals.map((g) => ({ name: g.name ?? null, mutable: g.mutable, init: g.init })),
    calls: program.ctx.calls,
    grow: program.ctx.grow,
    output: program.ctx.hasOutput,
    tokenIn: tok.tokenIn,
    tokenOut: tok.tokenOut,
    storePorts: mem ? dims.ports : 0,
    memory: mem ? { ...mem, data: (mod.memory?.data ?? []).map((s) => ({ offset: s.offset, base64: encodeBase64(s.bytes) })) } : null,
    // every attention layer's lookups are also graph outputs (fetched only to trace a run)
    attention: mem ? dims.heads.flatMap((h, layer) => (h > 0 ? [{ layer, pending: dims.pendingRows[layer] > 0 }] : [])) : [],
    stats,
  };
  // compileMs is reported, not embedded: the model bytes must not depend on timing.
  const { bytes, params } = emitOnnx(weights, layout, routing);
  stats.params = params;
  stats.compileMs = Math.round((performance.now() - started) * 100) / 100;
  return { onnx: bytes, layout, stats, ir: mod, program, placed, weights };
}

/** The most exit depths a routed model has (the runtime holds one session per exit it uses, each a second copy of its layers' weights). */
export const MAX_EXITS = 6;
/** Models storing more than this many bytes of entries get at most 3 exits, so the copies stay small. */
const LARGE_MODEL_BYTES = 16 * 2 ** 20;
/** Models storing at most this many bytes of entries may exit at every depth an expert needs. */
const SMALL_MODEL_BYTES = 4 * 2 ** 20;

/** How many exits a model with this many stored nonzeros (20 bytes each, DESIGN §8) gets. */
export function maxExits(nonzeros: number): number {
  const bytes = nonzeros * 20;
  return bytes > LARGE_MODEL_BYTES ? 3 : bytes > SMALL_MODEL_BYTES ? MAX_EXITS : Infinity;
}

/** How much a step of a block on a loop counts, against 1 for other blocks, when the exits are chosen. */
export const LOOP_WEIGHT = 16;

/** Each expert's weight for the exit choice: LOOP_WEIGHT when its block is on a cycle of its function's CFG. */
function stepWeights(mod: Module, experts: ExpertInfo[]): number[] {
  const cyclic = new Map(mod.funcs.map((f) => [f.name, blocksOnCycles(f.blocks)]));
  return experts.map((e) => (cyclic.get(e.func)?.has(e.block) ? LOOP_WEIGHT : 1));
}

/**
 * Each expert's exit: the shallowest of at most `limit` depths that is at least the layers its
 * step needs; none when that is the model's full depth. The depths minimize the layers the
 * experts run, each weighted by how often its step is likely to run (stepWeights: loop bodies
 * count LOOP_WEIGHT times).
 */
function withExits(experts: ExpertInfo[], weights: ModelWeights, routed: boolean, limit: number, mod: Module): ExpertInfo[] {
  const L = weights.dims.layers;
  if (!routed) return experts;
  const need = weights.experts.map((e) => expertDepth(e));
  const ds = [...new Set(need)].sort((a, b) => a - b).filter((d) => d < L);
  if (ds.length === 0) return experts;
  const w = stepWeights(mod, experts);
  const count = ds.map((d) => need.reduce((s, n, i) => s + (n === d ? (w[i] as number) : 0), 0));
  // cost(i, j): depths ds[i..j] all exit at ds[j]; best[k][j]: ds[0..j] served by k exits, the last at ds[j]
  const cost = (i: number, j: number): number => count.slice(i, j + 1).reduce((s, c) => s + c, 0) * (ds[j] as number);
  const K = Math.min(limit, ds.length);
  const best: number[][] = [];
  const from: number[][] = [];
  for (let k = 0; k < K; k++) {
    best.push([]);
    from.push([]);
    for (let j = 0; j < ds.length; j++) {
      let b = Infinity;
      let f = -1;
      for (let i = k; i <= j; i++) {
        const prev = i === 0 ? (k === 0 ? 0 : Infinity) : k === 0 ? Infinity : (best[k - 1] as number[])[i - 1] as number;
        const c = prev + cost(i, j);
        if (c < b) { b = c; f = i; }
      }
      (best[k] as number[]).push(b);
      (from[k] as number[]).push(f);
    }
  }
  // the last exit serves the deepest depths below L; every depth is served
  let k = 0;
  for (let kk = 1; kk < K; kk++) if (((best[kk] as number[])[ds.length - 1] as number) < ((best[k] as number[])[ds.length - 1] as number)) k = kk;
  const chosen: number[] = [];
  for (let j = ds.length - 1; k >= 0 && j >= 0; k--) {
    chosen.unshift(ds[j] as number);
    j = ((from[k] as number[])[j] as number) - 1;
  }
  return experts.map((e, i) => {
    const exit = chosen.find((d) => d >= (need[i] as number));
    return exit === undefined ? e : { ...e, exit };
  });
}

/**
 * What a step of a block asks of the model's shared dimensions that other steps pay for: its
 * layers, its memory rows (every step reads out the model's `storePorts` rows), and which layers
 * hold attention heads, pending rows and MLP units at all (each costs its nodes in every step
 * that runs the layer; how many heads, rows and units is the active expert's own in a routed
 * model, emit_onnx.ts slices them by pc).
 */
interface StepShape {
  layers: number;
  ports: number;
  attn: boolean[];
  pending: boolean[];
  mlp: boolean[];
}

function stepShape(graph: Graph, sched: Schedule): StepShape {
  const s: StepShape = { layers: sched.layers, ports: graph.ports.length, attn: [], pending: [], mlp: [] };
  for (let l = 0; l < sched.layers; l++) (s.attn[l] = false), (s.pending[l] = false), (s.mlp[l] = false);
  graph.nodes.forEach((n, i) => {
    const p = sched.nodePoint[i];
    const l = Math.floor(p / 2);
    if (n.kind === 'attn') {
      s.attn[l] = true;
      if (n.pending.length > 0) s.pending[l] = true;
    } else if (n.units.length > 0) s.mlp[l] = true;
  });
  return s;
}

/** The envelope of shapes: the most layers and rows, and every layer any of them uses. */
function widen(e: StepShape, s: StepShape): void {
  e.layers = Math.max(e.layers, s.layers);
  e.ports = Math.max(e.ports, s.ports);
  for (let l = 0; l < s.layers; l++) {
    e.attn[l] = (e.attn[l] ?? false) || s.attn[l];
    e.pending[l] = (e.pending[l] ?? false) || s.pending[l];
    e.mlp[l] = (e.mlp[l] ?? false) || s.mlp[l];
  }
}

/** How many layers two merged blocks' depths may sum to past the envelope before merging is not tried. */
const MERGE_SLACK = 4;

/**
 * A merged block may make a shallow model this deep: a layer costs a step that runs it far less
 * than a step costs (DESIGN.md §8), and a step that needs fewer layers exits before them.
 */
const MERGE_MIN_LAYERS = 8;

/**
 * What a new attention layer, a new pending-row branch or a new MLP layer costs every step that
 * runs through that layer, in steps: about 25, 8 and 9 nodes of a step's 100-odd nodes and fixed
 * cost (DESIGN.md §8).
 */
const NEW_ATTN_COST = 0.2;
/** What one more memory row a step costs every step (the readout's entries, the runtime's check of each row), in steps. */
const PORT_COST = 0.02;
const NEW_PENDING_COST = 0.07;
const NEW_MLP_COST = 0.08;

/**
 * Whether shape s may join envelope e: no deeper (than MERGE_MIN_LAYERS, for a shallower
 * envelope), and what it adds must cost less than the step a merge saves a loop block
 * (LOOP_WEIGHT): more memory rows cost every step (PORT_COST a row, times `deeper[0]`, the
 * loop-weighted count of all blocks), attention, pending rows or MLP units in a layer that had
 * none every step through that layer (its cost times `deeper[l]`, the loop-weighted count of
 * blocks that run past layer l).
 */
function within(s: StepShape, e: StepShape, deeper: readonly number[], saving = 1): boolean {
  if (s.layers > Math.max(e.layers, MERGE_MIN_LAYERS)) return false;
  let cost = Math.max(0, s.ports - e.ports) * PORT_COST * (deeper[0] ?? 0);
  for (let l = 0; l < Math.min(s.layers, e.layers); l++) {
    const w = deeper[l] ?? 0;
    if (s.attn[l] && !e.attn[l]) cost += w * NEW_ATTN_COST;
    if (s.pending[l] && !e.pending[l]) cost += w * NEW_PENDING_COST;
    if (s.mlp[l] && !e.mlp[l]) cost += w * NEW_MLP_COST;
  }
  return cost < LOOP_WEIGHT * saving;
}

/**
 * Splits blocks over the budgets, measuring each by lowering and scheduling it alone, then
 * merges jumps into their blocks where the merged block asks no more of the model's shared
 * dimensions than the blocks already do (merge_steps.ts: the model gets no wider, the merged
 * path fewer steps). Candidates are measured on sketches (graph.ts MlpBuilder: the schedule,
 * width and shape of the full graph, without most of its units); each block of the result that
 * was measured is then lowered in full once, as measured, and kept (keyed by block).
 */
function fitBlocks(mod: Module, opts: BackendOptions): { mod: Module; lowered: Map<Block, BlockGraph> } {
  const maxLayers = opts.maxLayers ?? DEFAULT_MAX_LAYERS;
  const maxStores = opts.maxStores ?? DEFAULT_MAX_STORES;
  const maxWidth = opts.maxWidth ?? DEFAULT_MAX_WIDTH;
  for (const [name, v] of [['--max-layers', maxLayers], ['--max-stores', maxStores], ['--max-width', maxWidth]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new CompileError(`${name} must be a positive integer, not ${v}`);
  }
  const ctx = programContext(mod, maxStores, opts.maxCallDepth, opts.lookup);
  const lowered = new Map<Block, BlockGraph>();
  const shapes = new Map<Block, StepShape>();
  // a candidate is measured in the fast form; one that fits takes the small bit decompositions
  // its slack allows (withSmallBits: no deeper; kept when no wider than the budget either)
  const refine = (f: Func, bi: number, b: Block, e: BlockGraph, sched: Schedule): { e: BlockGraph; sched: Schedule } => {
    const small = withSmallBits(f, bi, b, ctx, e, sched);
    if (small === e) return { e, sched };
    const s = schedule(small.graph);
    return allocate(small.graph, s).dModel <= maxWidth ? { e: small, sched: s } : { e, sched };
  };
  const split = splitLongBlocks(mod, maxStores, (f, b, bi) => {
    const fast = lowerBlockFast(f, bi, b, ctx, true);
    const fastSched = schedule(fast.graph);
    const ok = fastSched.layers <= maxLayers && allocate(fast.graph, fastSched).dModel <= maxWidth;
    if (ok) {
      const { e, sched } = refine(f, bi, b, fast, fastSched);
      lowered.set(b, e);
      shapes.set(b, stepShape(e.graph, sched));
    }
    return ok;
  });
  // the envelope: what the blocks of the split module ask together
  const envelope: StepShape = { layers: 0, ports: 0, attn: [], pending: [], mlp: [] };
  // deeper[l]: how many blocks run past layer l, a loop's blocks LOOP_WEIGHT each
  const deeper: number[] = [];
  for (const f of split.funcs) {
    const cyclic = blocksOnCycles(f.blocks);
    f.blocks.forEach((b, bi) => {
      const s = shapes.get(b);
      if (!s) return; // a single instruction that does not fit alone: it stays its own step
      widen(envelope, s);
      for (let l = 0; l < s.layers; l++) deeper[l] = (deeper[l] ?? 0) + (cyclic.has(bi) ? LOOP_WEIGHT : 1);
    });
  }
  const merged = mergeSteps(split, maxStores, (f, b, bi, a, t, saving) => {
    // the merged block needs about the sum of the two depths (a little less where they
    // overlap): far deeper than the envelope, it is not lowered to find out (a block of at
    // most one instruction besides constants was never measured: it is tried). A loop's own next
    // iteration mostly runs beside it (its inputs are the carried values): always tried
    const unroll = t === a || saving < 1;
    const depths = (shapes.get(a)?.layers ?? 0) + (shapes.get(t)?.layers ?? 0);
    if (!unroll && depths > Math.max(envelope.layers, MERGE_MIN_LAYERS) + MERGE_SLACK) return false;
    const fast = lowerBlockFast(f, bi, b, ctx, true);
    const fastSched = schedule(fast.graph);
    const fastShape = stepShape(fast.graph, fastSched);
    // a later iteration that saves less than a step must not make the block deeper
    const deepens = (s: StepShape): boolean => saving < 1 && s.layers > (shapes.get(a)?.layers ?? 0);
    const ok = !deepens(fastShape) && within(fastShape, envelope, deeper, saving) && allocate(fast.graph, fastSched).dModel <= maxWidth;
    if (ok) {
      // the small decompositions may move MLP units into layers the envelope has none in
      const r = refine(f, bi, b, fast, fastSched);
      const rShape = stepShape(r.e.graph, r.sched);
      const { e, sched } = !deepens(rShape) && within(rShape, envelope, deeper, saving) ? r : { e: fast, sched: fastSched };
      const shape = stepShape(e.graph, sched);
      lowered.set(b, e);
      shapes.set(b, shape);
      widen(envelope, shape); // what it adds is paid for: later merges may use it
    }
    return ok;
  });
  // the blocks the model runs, each lowered in full as it was measured
  const full = new Map<Block, BlockGraph>();
  for (const f of merged.funcs) {
    f.blocks.forEach((b, bi) => {
      const e = lowered.get(b);
      if (e && e.block === bi && !e.pcDependent) full.set(b, fullGraph(f, bi, b, ctx, e));
    });
  }
  return { mod: merged, lowered: full };
}
