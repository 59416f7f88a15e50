// backend/index.ts — the backend driver: runs the passes in order, per expert, and describes the result.
//
//   localize → ir_to_graph (one graph per block) → check_magnitudes → schedule → allocate
//   → check_allocation → model dims (widest expert) → assemble_weights → emit_onnx
//
// The layout written into the model (format/layout.ts) is everything the runtime needs:
// experts, entry points, token layouts, memory encoding and initial data.

import type { Module } from '../ir/ir.js';
import { localizeModule } from '../ir/localize.js';
import { irToGraphs, ProgramGraphs, ExpertGraph, programTokens } from './ir_to_graph.js';
import { criticalPath, schedule } from './schedule.js';
import { allocate } from './allocate.js';
import { checkAllocation } from './check_allocation.js';
import { checkMagnitudes } from './check_magnitudes.js';
import { assembleExpert, expertMaps, modelDims, ModelWeights, PlacedExpert } from './assemble_weights.js';
import { emitOnnx } from './emit_onnx.js';
import { encodeBase64, type MemoryLayout } from '../format/memory.js';
import { FORMAT_VERSION, type CompileStats, type ModelLayout, type Routing } from '../format/layout.js';

export type { CompileStats, ModelLayout } from '../format/layout.js';

export interface BackendOptions {
  /** 'gather' (default): sparse experts routed by pc; 'onehot': dense matrices (small programs). */
  routing?: Routing;
}

export interface BackendResult {
  onnx: Uint8Array;
  layout: ModelLayout;
  stats: CompileStats;
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
  const mod = localizeModule(input);
  const program = irToGraphs(mod);
  const mem = program.memory;
  const placed = program.experts.map((e) => place(e, mem));
  const tok = programTokens(program);
  const dims = modelDims(placed, tok.tokenIn.width, tok.tokenOut.width, mem?.features ?? 0);
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
    experts: program.experts.map((e) => ({ func: e.func, block: e.block, params: e.params })),
    entries: program.entries,
    maxArgs: program.maxArgs,
    tokenIn: tok.tokenIn,
    tokenOut: tok.tokenOut,
    storePorts: mem ? dims.ports : 0,
    memory: mem ? { ...mem, data: (mod.memory?.data ?? []).map((s) => ({ offset: s.offset, base64: encodeBase64(s.bytes) })) } : null,
    stats,
  };
  // compileMs is reported, not embedded: the model bytes must not depend on timing.
  const { bytes, params } = emitOnnx(weights, layout, routing);
  stats.params = params;
  stats.compileMs = Math.round((performance.now() - started) * 100) / 100;
  return { onnx: bytes, layout, stats, program, placed, weights };
}
