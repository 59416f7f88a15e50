// backend/index.ts — runs the backend passes in order and describes the result.
//
//   ir_to_graph → schedule → allocate → check_allocation → assemble_weights → emit_onnx
//
// The layout written into the model (ModelLayout) is everything the runtime
// needs: token layouts, entry points, memory encoding and initial data.

import type { Module } from '../ir/ir.js';
import { irToGraph, ProgramGraph, EntryPoint } from './ir_to_graph.js';
import { criticalPath, schedule, Schedule } from './schedule.js';
import { allocate, Allocation } from './allocate.js';
import { checkAllocation } from './check_allocation.js';
import { checkMagnitudes } from './check_magnitudes.js';
import { assembleWeights, ModelWeights } from './assemble_weights.js';
import { emitOnnx } from './emit_onnx.js';
import type { MemoryLayout } from './encoding.js';
import type { Graph } from './graph.js';

export interface CompileStats {
  layers: number;
  dModel: number;
  heads: number;
  params: number;
  mlpHidden: number;
  criticalPath: number;
  maxLive: number;
  naiveSlots: number;
  compileMs: number;
}

export interface ModelLayout {
  format: 'wasmformer/1';
  entries: EntryPoint[];
  blocks: Array<{ func: string; block: number; params: number }>;
  haltPc: number;
  maxArgs: number;
  tokenIn: ProgramGraph['tokenIn'];
  tokenOut: ProgramGraph['tokenOut'];
  storePorts: number;
  memory: (MemoryLayout & { data: Array<{ offset: number; base64: string }> }) | null;
  stats: CompileStats;
}

export interface BackendResult {
  onnx: Uint8Array;
  layout: ModelLayout;
  stats: CompileStats;
  /** Intermediate products, for tests and tools. */
  program: ProgramGraph;
  sched: Schedule;
  alloc: Allocation;
  weights: ModelWeights;
}

export function countParams(w: ModelWeights): number {
  let n = w.Wemb.length + w.Wout.length + w.bout.length + w.Went.length + w.bent.length;
  for (const l of w.layers) {
    if (l.attn) n += l.attn.Wq.length + l.attn.bq.length + l.attn.Wp.length + l.attn.bp.length + l.attn.mask.length + l.attn.Wo.length;
    if (l.mlp) n += l.mlp.W1.length + l.mlp.b1.length + l.mlp.W2.length + l.mlp.b2.length;
  }
  return n;
}

export function compileIR(mod: Module, started = performance.now()): BackendResult {
  const program = irToGraph(mod);
  const graph: Graph = program.graph;
  checkMagnitudes(graph, program.memory);
  const sched = schedule(graph);
  const alloc = allocate(graph, sched);
  checkAllocation(graph, sched, alloc);
  const weights = assembleWeights(graph, sched, alloc, program.memory?.features ?? 0);
  const stats: CompileStats = {
    layers: sched.layers,
    dModel: alloc.dModel,
    heads: weights.layers.reduce((s, l) => s + (l.attn?.heads ?? 0), 0),
    params: countParams(weights),
    mlpHidden: weights.layers.reduce((s, l) => s + (l.mlp?.hidden ?? 0), 0),
    criticalPath: criticalPath(graph),
    maxLive: alloc.maxLive,
    naiveSlots: alloc.naiveSlots,
    compileMs: 0,
  };
  const layout: ModelLayout = {
    format: 'wasmformer/1',
    entries: program.entries,
    blocks: program.blocks.map((b) => ({ func: b.func, block: b.block, params: b.params })),
    haltPc: program.haltPc,
    maxArgs: program.maxArgs,
    tokenIn: program.tokenIn,
    tokenOut: program.tokenOut,
    storePorts: program.storePorts,
    memory: program.memory
      ? {
          ...program.memory,
          data: (mod.memory?.data ?? []).map((s) => ({ offset: s.offset, base64: Buffer.from(s.bytes).toString('base64') })),
        }
      : null,
    stats,
  };
  stats.compileMs = Math.round((performance.now() - started) * 100) / 100;
  // compileMs is reported, not embedded: the model bytes must not depend on timing.
  const onnx = emitOnnx(weights, { ...layout, stats: { ...stats, compileMs: 0 } });
  stats.compileMs = Math.round((performance.now() - started) * 100) / 100;
  return { onnx, layout, stats, program, sched, alloc, weights };
}
