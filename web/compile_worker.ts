// web/compile_worker.ts — the compiler in a Web Worker, so a long compile leaves the page responsive.
//
// Message in: { id, input (wasm bytes or WAT text), filename }. Message out: { id, ok: true, onnx,
// wasm, stats, layout, ms } (the model and module bytes transferred), or { id, ok: false, message }.

import { compile } from '../compile.js';
import type { CompileStats, ModelLayout } from '../format/layout.js';

export interface CompileRequest {
  id: number;
  input: Uint8Array | string;
  filename: string;
}

export type CompileReply =
  | { id: number; ok: true; onnx: Uint8Array; wasm: Uint8Array; stats: CompileStats; layout: ModelLayout; ms: number }
  | { id: number; ok: false; message: string };

// a worker's global scope; typed loosely, so this file type-checks beside the DOM pages
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<CompileRequest>) => void) | null;
  postMessage(message: CompileReply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { id, input, filename } = e.data;
  const t0 = performance.now();
  compile(input, { filename }).then(
    (m) => {
      const onnx = m.onnx.slice();
      const wasm = m.wasm.slice();
      scope.postMessage({ id, ok: true, onnx, wasm, stats: m.stats, layout: m.layout, ms: performance.now() - t0 }, [onnx.buffer, wasm.buffer]);
    },
    (err: unknown) => scope.postMessage({ id, ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
};
