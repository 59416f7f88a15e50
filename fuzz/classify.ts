// fuzz/classify.ts — what `compile` did with one fuzz input, and whether that is acceptable.
//
// Acceptable: a model (and then the input must also be valid to V8: wasmformer accepts a subset
// of WebAssembly, never more), or a CompileError that says where (a byte offset, or a line and
// column for WAT). Everything else is a finding: an unlocated CompileError, any other exception
// (a crash), a model for an input V8 rejects. Hangs and memory blow-ups are caught by the pool
// (fuzz/pool.ts), which runs this in a worker.

import { compile } from '../index.js';
import { CompileError } from '../format/errors.js';
import { WatError } from '../frontend/wat.js';

export type Verdict =
  | { kind: 'model' }
  | { kind: 'located'; message: string }
  | { kind: 'unlocated'; message: string }
  | { kind: 'invalid-accepted'; message: string }
  | { kind: 'crash'; message: string }
  | { kind: 'hang'; message: string }
  | { kind: 'memory'; message: string };

export const ACCEPTABLE: ReadonlySet<Verdict['kind']> = new Set(['model', 'located']);

function isLocated(e: CompileError): boolean {
  return e instanceof WatError || e.info.offset !== undefined;
}

export async function classify(bytes: Uint8Array, filename: string): Promise<Verdict> {
  try {
    const m = await compile(bytes, { filename });
    if (!WebAssembly.validate(new Uint8Array(m.wasm))) return { kind: 'invalid-accepted', message: 'compiled, but V8 rejects the module' };
    return { kind: 'model' };
  } catch (e) {
    if (e instanceof CompileError) return isLocated(e) ? { kind: 'located', message: e.message } : { kind: 'unlocated', message: e.message };
    const err = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n') ?? ''}` : String(e);
    return { kind: 'crash', message: err };
  }
}
