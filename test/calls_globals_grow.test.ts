// test/calls_globals_grow.test.ts — calls, recursion, globals, br_table and memory.grow through the
// transformer, against V8: results, traps (call stack exhausted, out of bounds past the grown
// size) and the state kept between invocations (globals, page count, memory).

import { describe, expect, it } from 'vitest';
import { compile, instantiate } from '../index.js';
import type { CompiledModel } from '../index.js';
import { callStackLayout } from '../backend/ir_to_graph.js';
import { NativeInstance } from '../harness/native.js';

async function agree(wat: string, calls: Array<[string, number[]]>, opts: { maxCallDepth?: number } = {}): Promise<CompiledModel> {
  const m = await compile(wat, opts);
  const inst = await instantiate(m);
  const nat = await NativeInstance.create(m.wasm);
  for (const [f, a] of calls) {
    const o = await inst.invoke(f, a, { maxSteps: 100_000 });
    const n = nat.invoke(f, a);
    expect(o.trap ? `trap ${o.trap}` : `${o.results}`, `${f}(${a})`).toBe(n.trap ? `trap ${n.trap}` : `${n.results}`);
  }
  expect(Buffer.from(inst.memory()).equals(Buffer.from(nat.memory()))).toBe(true);
  return m;
}

/** A recursion that keeps two values live across its call (frames of 3 words: pc, n, n·n). */
const RECURSION = `(module (memory 1)
  (func $f (export "f") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (i32.mul (local.get 0) (local.get 0)) (i32.add (local.get 0) (call $f (i32.sub (local.get 0) (i32.const 1))))))
      (else (i32.const 0)))))`;

describe('calls, globals, br_table and memory.grow through the transformer = V8', () => {
  it('calls keep their live values across the call; recursion; globals persist; the depth limit traps', async () => {
    await agree(
      `(module (memory 1)
        (global $g (mut i32) (i32.const 5))
        (func $add3 (param i32) (result i32) (i32.add (local.get 0) (i32.const 3)))
        (func (export "twice") (param i32) (result i32) (local $t i32)
          (local.set $t (call $add3 (local.get 0))) (i32.add (call $add3 (local.get $t)) (local.get $t)))
        (func $sum (export "sum") (param i32) (result i32)
          (if (result i32) (local.get 0) (then (i32.add (local.get 0) (call $sum (i32.sub (local.get 0) (i32.const 1))))) (else (i32.const 0))))
        (func (export "bump") (param i32) (result i32) (global.set $g (i32.add (global.get $g) (local.get 0))) (global.get $g))
        (func $deep (export "deep") (param i32) (result i32) (call $deep (local.get 0)))
        (func (export "pick") (param i32) (result i32)
          (block (block (block (br_table 0 1 2 (local.get 0))) (return (i32.const 10))) (return (i32.const 11))) (i32.const 12)))`,
      [['twice', [10]], ['sum', [0]], ['sum', [30]], ['bump', [2]], ['bump', [-9]], ['deep', [1]], ['pick', [0]], ['pick', [1]], ['pick', [2]], ['pick', [7]], ['pick', [-1]]],
    );
  });

  it('memory.grow up to the declared maximum, -1 past it; accesses past the current size trap', async () => {
    await agree(
      `(module (memory 1 4)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "size") (result i32) (memory.size))
        (func (export "poke") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
        (func (export "peek") (param i32) (result i32) (i32.load (local.get 0))))`,
      [['size', []], ['peek', [70000]], ['grow', [1]], ['size', []], ['poke', [70000, 42]], ['peek', [70000]], ['peek', [131070]], ['grow', [5]], ['grow', [-1]], ['grow', [2]], ['size', []], ['peek', [262140]], ['peek', [262141]], ['grow', [0]]],
    );
  });

  it('frames are aligned where they fit (a power-of-two stride on a boundary of stride·2^D), else packed', () => {
    expect(callStackLayout(65536, 92, 1024)).toEqual({ maxDepth: 1024, frameBase: 131072, frameBytes: 128 });
    expect(callStackLayout(10485760, 92, 1024)).toEqual({ maxDepth: 1024, frameBase: 10485760, frameBytes: 128 });
    expect(callStackLayout(0, 4, 2)).toEqual({ maxDepth: 2, frameBase: 0, frameBytes: 4 });
    // 16-byte strides for 60000 frames would pass the 896 KiB frame region: packed 12-byte frames
    expect(callStackLayout(65536, 12, 60000)).toEqual({ maxDepth: 60000, frameBase: 65536, frameBytes: 12 });
  });

  it('recursion runs the same with aligned frames (decoded in one sublayer or by limb bits) and packed ones', async () => {
    const cases: Array<[number, { frameBase: number; frameBytes: number }]> = [
      [1024, { frameBase: 65536, frameBytes: 16 }], // 2^10 frames: one tabulate of the depth
      [5000, { frameBase: 131072, frameBytes: 16 }], // 2^13 frames: the depth's limb bits
      [60000, { frameBase: 65536, frameBytes: 12 }], // aligned would not fit: packed
    ];
    for (const [maxCallDepth, frames] of cases) {
      const m = await agree(RECURSION, [['f', [0]], ['f', [1]], ['f', [25]], ['f', [3]]], { maxCallDepth });
      expect(m.layout.calls, `--max-call-depth ${maxCallDepth}`).toMatchObject(frames);
    }
    // the depth limit still traps with aligned frames (V8's own limit is far deeper)
    const m = await compile(RECURSION, { maxCallDepth: 32 });
    const inst = await instantiate(m);
    expect((await inst.invoke('f', [40])).trap).toBe('call stack exhausted');
    expect((await inst.invoke('f', [7])).results).toEqual([7 * 8 * 15 / 6 + 28]);
  });
});
