// test/parallel.test.ts — a batch split over worker threads (runtime/parallel.ts) gives what one
// runBatch gives, row for row: results, traps, output bytes, steps, and the memories as they end
// (cache rows, positions, globals); a step limit in one part fails the whole batch, as it does
// in one runBatch; callbacks and small batches stay on the main thread.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { TransformerModel, decodeMemory } from '../runtime/transformer.js';
import { MIN_ROWS_PER_WORKER, ParallelModel } from '../runtime/parallel.js';
import type { MemoryState } from '../runtime/core.js';
import { NativeInstance } from '../harness/native.js';

// stores, loads, a global, output and a trap (n = 13 divides by zero)
const WAT = `(module (import "env" "output_byte" (func $out (param i32))) (memory 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "f") (param $n i32) (result i32) (local $s i32) (local $i i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.set $i (local.get $n))
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $i)))
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br $l)))
    (call $out (i32.add (i32.const 65) (i32.rem_u (local.get $n) (i32.const 26))))
    (i32.add (local.get $s) (i32.div_u (i32.const 100) (i32.sub (local.get $n) (i32.const 13))))))`;

describe('ParallelModel: a batch split over worker threads', () => {
  let single: TransformerModel;
  let parallel: ParallelModel;
  let wasm: Uint8Array;
  beforeAll(async () => {
    const m = await compile(WAT, { filename: 'par.wat' });
    wasm = m.wasm;
    single = await TransformerModel.load(m.onnx);
    parallel = await ParallelModel.load(m.onnx, { workers: 2 });
  }, 60_000);
  afterAll(async () => parallel?.close());

  const snapshot = (mem: MemoryState) => ({ ...mem.snapshot(), rows: Array.from(mem.snapshot().rows) });

  it('matches one runBatch row for row (results, traps, output, steps, memories) and V8', async () => {
    const B = 2 * MIN_ROWS_PER_WORKER + 5;
    const args = Array.from({ length: B }, (_, b) => [(b * 7) % 29]);
    const mine = args.map(() => single.newMemory());
    const theirs = args.map(() => parallel.newMemory());
    // memories that already hold state: a previous call on each
    await single.runBatch('f', args.map(() => [3]), mine);
    await single.runBatch('f', args.map(() => [3]), theirs);
    const one = await single.runBatch('f', args, mine);
    const split = await parallel.runBatch('f', args, theirs);
    expect(parallel.lastParts).toBe(2);
    expect(split).toEqual(one);
    expect(theirs.map(snapshot)).toEqual(mine.map(snapshot));
    expect(one.some((o) => o.trap === 'integer divide by zero')).toBe(true);
    const native = await NativeInstance.create(wasm);
    native.invoke('f', [3]);
    const n = native.invoke('f', [args[1][0]]);
    expect(split[1].results).toEqual(n.results);
    expect(decodeMemory(parallel.layout.memory!, theirs[1])).toEqual(n.memory);
  });

  it('fails the whole batch at a step limit, with the runtime error of one runBatch', async () => {
    const args = Array.from({ length: 2 * MIN_ROWS_PER_WORKER }, (_, b) => [b === 20 ? 60 : 1]);
    await expect(single.runBatch('f', args, args.map(() => single.newMemory()), { maxSteps: 40 })).rejects.toThrow('step limit exceeded (40 steps)');
    await expect(parallel.runBatch('f', args, args.map(() => parallel.newMemory()), { maxSteps: 40 })).rejects.toThrow('step limit exceeded (40 steps)');
    // the workers are free again afterwards
    const ok = await parallel.runBatch('f', args, args.map(() => parallel.newMemory()));
    expect(ok[20].trap).toBeNull();
  });

  it('runs traced batches and small ones on the main thread, unknown exports fail as in runBatch', async () => {
    const events: number[] = [];
    const args = Array.from({ length: 2 * MIN_ROWS_PER_WORKER }, () => [2]);
    await parallel.runBatch('f', args, args.map(() => parallel.newMemory()), { trace: (ev) => events.push(ev.row) });
    expect(new Set(events).size).toBe(args.length);
    expect(parallel.lastParts).toBe(1);
    const [o] = await parallel.runBatch('f', [[5]], [parallel.newMemory()]);
    expect(o.output).toEqual(Uint8Array.of(65 + 5));
    expect(parallel.lastParts).toBe(1);
    await expect(parallel.runBatch('g', args, args.map(() => parallel.newMemory()))).rejects.toThrow("no export named 'g'");
  });
});
