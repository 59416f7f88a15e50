// compile.ts — the compiler alone: WebAssembly (bytes or WAT text) in, a transformer (.onnx bytes) out.
//
// Nothing here runs a model or touches Node: no ONNX Runtime binding, no node: modules, no
// Buffer or process, so the browser demo (web/) bundles this very file. index.ts re-exports it
// beside the runtime.

import { compileToIR } from './frontend/index.js';
import { compileIR, CompileStats, ModelLayout } from './backend/index.js';
import type { Module } from './ir/ir.js';
import type { LookupKind } from './format/memory.js';
import { explainModel } from './backend/explain.js';
import { printModule } from './ir/print.js';
import { describe } from './backend/describe.js';
import { attachInspect } from './format/inspect.js';

/** The most pages memory.grow reaches (the address space is 256 pages, 16 of them kept for call frames). */
export const MAX_GROW_PAGES = 240;

export interface CompileOptions {
  /** File name of the input (decides .wat vs .wasm when given a string or ambiguous bytes). */
  filename?: string;
  /** Compile only these exports (and what they reach). */
  exports?: string[];
  /** Also return a layer-by-layer account of the model (CompiledModel.explanation). */
  explain?: boolean;
  /** The model's execution form: 'gather' (default, routed sparse experts) or 'onehot' (dense). */
  routing?: 'gather' | 'onehot';
  /** Per-step budgets: longer blocks are split into several steps (backend/split_blocks.ts). */
  maxLayers?: number;
  maxStores?: number;
  maxWidth?: number;
  /** Calls deeper than this trap "call stack exhausted" (default 1024). */
  maxCallDepth?: number;
  /** How lookups find the newest write: 'unique' (default: one head a byte; the runtime keeps one cache row per address) or 'timed' (two heads a byte; a cache may keep superseded rows: run --no-evict). */
  lookup?: LookupKind;
  /** Embed the `wasmformer inspect` metadata (format/inspect.ts) in the model (default true). */
  inspectInfo?: boolean;
}

export interface CompiledModel {
  onnx: Uint8Array;
  stats: CompileStats;
  layout: ModelLayout;
  ir: Module;
  wasm: Uint8Array;
  explanation?: string;
}

export async function compile(input: Uint8Array | string, opts: CompileOptions = {}): Promise<CompiledModel> {
  const started = performance.now();
  // memory.grow succeeds up to the declared maximum and what the address encoding holds
  // beside a call stack (MAX_GROW_PAGES); past that it returns -1
  const { ir, wasm } = await compileToIR(input, { maxMemoryPages: MAX_GROW_PAGES, ...opts });
  const r = compileIR(ir, started, { routing: opts.routing, maxLayers: opts.maxLayers, maxStores: opts.maxStores, maxWidth: opts.maxWidth, maxCallDepth: opts.maxCallDepth, lookup: opts.lookup });
  const explanation = opts.explain ? `${printModule(r.ir)}\n${explainModel(r)}` : undefined;
  const onnx = opts.inspectInfo === false ? r.onnx : attachInspect(r.onnx, describe(r));
  // ir: the module the model executes (localized, long blocks split), step for step
  return { onnx, stats: r.stats, layout: r.layout, ir: r.ir, wasm, explanation };
}
