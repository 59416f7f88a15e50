// test/scaling.test.ts — programs of any size: the requirements of the routed backend, checked.
//
// A step's expert is the only one whose weights it touches, so model size and compile work
// grow linearly with the program and no exactness cap depends on the program's size:
//   - 10,000 exported functions compile (no readout sum over all edges);
//   - a 2,000-store straight-line function is split into steps and runs exactly;
//   - a 64-loop chained program (a load and a store per loop) matches native, its model stays
//     under 16 KB per WebAssembly instruction, and dModel is the widest block's, not a sum;
//   - a store loop keeps one cache row per address by default (flat KV cache).

import { describe, expect, it } from 'vitest';
import { compile, instantiate } from '../index.js';
import { NativeInstance } from '../harness/native.js';
import { chainedLoops, manyExports, straightStores } from '../bench/programs.js';
import { watToWasm } from '../frontend/wat.js';

describe('programs of any size', () => {
  it('10,000 exports compile into 10,000 experts; any of them runs', async () => {
    const m = await compile(manyExports(10_000));
    expect(m.stats.experts).toBe(10_000);
    expect(m.layout.entries.length).toBe(10_000);
    const inst = await instantiate(m);
    for (const k of [0, 4321, 9999]) expect((await inst.invoke(`f${k}`, [k * 7 - 3])).results).toEqual([k * 7 - 3]);
  });

  it('a 2,000-store straight-line function is split into steps, runs exactly and leaves the same memory as native', async () => {
    const m = await compile(straightStores(2000));
    expect(m.stats.experts).toBeGreaterThan(2000 / 32 - 1);
    expect(m.stats.layers).toBeLessThanOrEqual(16);
    const inst = await instantiate(m);
    const o = await inst.invoke('fill', [1000]);
    const nat = await NativeInstance.create(m.wasm);
    const n = nat.invoke('fill', [1000]);
    expect(o.trap).toBeNull();
    expect(o.results).toEqual(n.results);
    expect(o.steps).toBe(m.stats.experts);
    expect(Buffer.from(inst.memory()).equals(Buffer.from(n.memory))).toBe(true);
  });

  it('64 chained loops: exact against native, dModel of one loop, under 16 KB per instruction', async () => {
    const one = await compile(chainedLoops(1, 'memory'));
    const text = chainedLoops(64, 'memory');
    const m = await compile(text);
    expect(m.stats.dModel).toBeLessThanOrEqual(one.stats.dModel + 4);
    // the depth stops depending on the program's size: a few loops take their jumps into their
    // steps (merge_steps.ts), which the merge cost rule stops paying for as the loops multiply
    // (1, 2 and 4 loops: 8 layers; 16 and 64: 4)
    const sixteen = await compile(chainedLoops(16, 'memory'));
    expect(m.stats.layers).toBe(sixteen.stats.layers);
    expect(m.stats.layers).toBeLessThan(one.stats.layers);
    const wasm = await watToWasm(text);
    const instructions = (text.match(/\((i32\.|local\.|loop|br_if)/g) ?? []).length;
    expect(m.onnx.length / instructions).toBeLessThan(16 * 1024);
    const inst = await instantiate(m);
    const nat = await NativeInstance.create(wasm);
    for (const n of [1, 3]) {
      const o = await inst.invoke('run', [n]);
      const r = nat.invoke('run', [n]);
      expect(o.results).toEqual(r.results);
      expect(Buffer.from(inst.memory()).equals(Buffer.from(nat.memory()))).toBe(true);
    }
  });

  it('a store loop keeps one KV-cache row per address by default (the cache stays flat)', async () => {
    const m = await compile(chainedLoops(1, 'memory'));
    const inst = await instantiate(m);
    const mem = inst.model.newMemory();
    await inst.model.runBatch('run', [[500]], [mem]);
    // the sink row, and the 4 bytes of the one word the loop keeps rewriting
    expect(mem.count).toBe(5);
    // its cache cannot keep superseded rows (its lookups read one row per address)
    expect(() => inst.model.newMemory({ evict: false })).toThrow(/one cache row per address/);
    // a model with two-stage lookups can: then every write adds rows
    const timed = await instantiate(await compile(chainedLoops(1, 'memory'), { lookup: 'timed' }));
    const plain = timed.model.newMemory({ evict: false });
    const o = await timed.model.runBatch('run', [[500]], [plain]);
    expect(o[0].results).toEqual((await inst.model.runBatch('run', [[500]], [inst.model.newMemory()]))[0].results);
    expect(plain.count).toBeGreaterThan(1000);
  });
});
