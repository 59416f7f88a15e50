// test/support/oracles.ts — shared helpers for tests that compare the three oracles.
//
// compileChecked compiles through the whole pipeline and asserts the two
// model-level invariants every emitted model must satisfy: only allowed ONNX
// ops, and (already enforced inside compileIR) an allocation that the
// independent checker accepts. argsFor draws argument tuples inside a
// sample's argRanges. agreeWithNative runs a batch through the transformer and V8.

import { expect } from 'vitest';
import { compile, CompiledModel, CompileError } from '../../index.js';
import { ALLOWED_OPS, inspectOnnx } from '../../backend/emit_onnx.js';
import type { ArgRange } from '../../wasm-samples/samples.js';
import type { TransformerModel } from '../../runtime/transformer.js';
import type { NativeInstance } from '../../harness/native.js';

export function assertOpSet(onnx: Uint8Array): string[] {
  const { ops } = inspectOnnx(onnx);
  const bad = ops.filter((o) => !ALLOWED_OPS.has(o));
  expect(bad, `disallowed ONNX ops: ${bad.join(', ')}`).toEqual([]);
  return ops;
}

export async function compileChecked(input: Uint8Array | string, filename: string): Promise<CompiledModel> {
  const m = await compile(input, { filename });
  assertOpSet(m.onnx);
  return m;
}

export function argsFor(ranges: ArgRange[], rand: () => number): number[] {
  return ranges.map((r) => {
    if (r === 'any') {
      const pick = rand() % 8;
      if (pick === 0) return [0, 1, -1, -2147483648, 2147483647][rand() % 5];
      return rand() | 0;
    }
    const [lo, hi] = r;
    return lo + (rand() % (hi - lo + 1));
  });
}

/**
 * Runs `name` on every tuple through the transformer (one batch, a fresh memory each) and
 * natively, and expects the same results and traps.
 */
export async function agreeWithNative(model: TransformerModel, native: NativeInstance, name: string, tuples: number[][]): Promise<void> {
  const outs = await model.runBatch(name, tuples, tuples.map(() => model.newMemory()));
  tuples.forEach((args, i) => {
    const n = native.invoke(name, args);
    const fmt = (o: { results: number[]; trap: string | null }) => (o.trap ? `trap ${o.trap}` : `${o.results}`);
    expect(fmt(outs[i]!), `${name}(${args.join(', ')})`).toBe(fmt(n));
  });
}

/** The CompileError `p` rejects with (fails the test when it resolves or throws something else). */
export async function compileError(p: Promise<unknown>): Promise<CompileError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    return e as CompileError;
  }
  throw new Error('expected a CompileError, but compilation succeeded');
}
