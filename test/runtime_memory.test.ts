// test/runtime_memory.test.ts — cache maintenance never changes a result.
//
// rebase: when an execution's position reaches the end of the exact time range,
// the runtime drops superseded rows and re-stamps the rest to time 0. We start a
// store-heavy loop a few steps before that point, so the rebase happens in the
// middle of the run, and compare with V8 and the IR interpreter. evict: one row per
// address, in place, gives the same results with a smaller cache. A model compiled with
// two-stage lookups ('timed') runs with either; the default one-stage lookups ('unique') need
// one row per address, so their cache always evicts (rebase keeps that too).

import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { TransformerModel, decodeMemory } from '../runtime/transformer.js';
import { NativeInstance } from '../harness/native.js';

const WAT = `(module (memory 1)
  (func (export "fill") (param $n i32) (param $v i32) (result i32) (local $s i32)
    (loop $l
      (i32.store offset=100 (i32.add (local.get $n) (local.get $n)) (i32.add (local.get $v) (local.get $n)))
      (i32.store offset=101 (local.get $n) (local.get $v))
      (local.set $s (i32.add (local.get $s) (i32.load offset=100 (local.get $n))))
      (local.set $n (i32.add (local.get $n) (i32.const -1)))
      (br_if $l (local.get $n)))
    (local.get $s)))`;

describe('runtime cache maintenance', () => {
  it('rebase in the middle of a run and eviction keep results and memory identical to V8', async () => {
    const m = await compile(WAT, { filename: 'fill.wat', lookup: 'timed' });
    const model = await TransformerModel.load(m.onnx);
    const L = model.layout.memory!;
    for (const [n, v] of [[20, 7], [9, -1], [33, 0x01020304]]) {
      const native = (await NativeInstance.create(m.wasm)).invoke('fill', [n, v]);
      const plain = model.newMemory({ evict: false });
      const rebased = model.newMemory({ evict: false });
      rebased.position = L.maxSteps - 5; // the run crosses the end of the time range
      const evicted = model.newMemory({ evict: true });
      const outs = await model.runBatch('fill', [[n, v], [n, v], [n, v]], [plain, rebased, evicted]);
      for (const o of outs) expect(o).toMatchObject({ results: native.results, trap: null });
      expect(rebased.position).toBeLessThan(L.maxSteps - 5); // it did rebase
      for (const mem of [plain, rebased, evicted]) expect(decodeMemory(L, mem)).toEqual(native.memory);
      expect(evicted.count).toBeLessThan(plain.count);
    }
  });

  it('one-stage lookups: rebase mid-run keeps results and memory identical to V8; the cache cannot keep superseded rows', async () => {
    const m = await compile(WAT, { filename: 'fill.wat' });
    const model = await TransformerModel.load(m.onnx);
    const L = model.layout.memory!;
    expect(L.lookup).toBe('unique');
    expect(() => model.newMemory({ evict: false })).toThrow(/one cache row per address/);
    for (const [n, v] of [[20, 7], [9, -1], [33, 0x01020304]]) {
      const native = (await NativeInstance.create(m.wasm)).invoke('fill', [n, v]);
      const fresh = model.newMemory();
      const rebased = model.newMemory();
      rebased.position = L.maxSteps - 5;
      const outs = await model.runBatch('fill', [[n, v], [n, v]], [fresh, rebased]);
      for (const o of outs) expect(o).toMatchObject({ results: native.results, trap: null });
      expect(rebased.position).toBeLessThan(L.maxSteps - 5);
      for (const mem of [fresh, rebased]) expect(decodeMemory(L, mem)).toEqual(native.memory);
    }
  });
});
