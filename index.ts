// index.ts — the library: compile WebAssembly to a transformer, and run it.
//
//   import { compile, instantiate } from 'wasmformer';
//   const model = await compile(wasmBytesOrWatText);          // { onnx, stats, layout, ... }
//   const inst = await instantiate(model);                      // ONNX Runtime session, CPU by default
//   const { results, steps, trap } = await inst.invoke('f', [1, 2]);
//
// instance.invoke keeps memory across calls, like a WebAssembly instance.

import { TransformerInstance } from './runtime/transformer.js';
import type { CompiledModel } from './compile.js';

export { compile, MAX_GROW_PAGES, type CompileOptions, type CompiledModel } from './compile.js';

export { CompileError, RunError, Trap, TrapCode } from './format/errors.js';
export type { CompileStats, ModelLayout } from './backend/index.js';
export { TransformerInstance, TransformerModel, type LoadOptions, type Outcome, type PinPolicy, type RunOptions, type TraceEvent } from './runtime/transformer.js';
export { ParallelModel, defaultWorkers } from './runtime/parallel.js';
export { NativeInstance } from './harness/native.js';
export { interpret } from './ir/interp.js';
export { printModule } from './ir/print.js';
export { checkProgram, type CheckReport, type CheckOptions } from './harness/check.js';

/** provider: ONNX Runtime execution provider (default 'cpu'); evict: keep one cache row per address. */
export async function instantiate(model: Uint8Array | CompiledModel, opts: { provider?: string; evict?: boolean } = {}): Promise<TransformerInstance> {
  return TransformerInstance.create(model instanceof Uint8Array ? model : model.onnx, opts);
}
