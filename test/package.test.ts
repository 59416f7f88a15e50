// test/package.test.ts — the library as a user imports it: `import { compile, instantiate } from 'wasmformer'`.
//
// Resolves the package's own entry (package.json "exports" → dist/, built by `npm install`'s prepare
// step) and checks the documented flow: compile WAT text, instantiate on ONNX Runtime, invoke twice
// with memory kept across calls, and a trap reported as a result.

import { describe, expect, it } from 'vitest';

const WAT = `(module (memory 1)
  (func (export "bump") (param $a i32) (result i32)
    (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
    (i32.load (local.get $a))))`;

describe('package entry', () => {
  it('compiles, instantiates and keeps memory across invoke calls', async () => {
    const { compile, instantiate, CompileError } = await import('wasmformer');
    const model = await compile(WAT, { filename: 'bump.wat' });
    expect(model.stats.layers).toBeGreaterThan(0);
    const inst = await instantiate(model);
    expect(await inst.invoke('bump', [100])).toMatchObject({ results: [1], trap: null });
    expect(await inst.invoke('bump', [100])).toMatchObject({ results: [2], trap: null });
    expect(await inst.invoke('bump', [200])).toMatchObject({ results: [1], trap: null });
    expect((await inst.invoke('bump', [65535])).trap).toBe('out of bounds memory access');
    expect(inst.memory()[100]).toBe(2);
    await expect(compile('(module (func (export "m") (result i32) (i32.mul (i32.const 2) (i32.const 3))))', { filename: 'm.wat' })).rejects.toBeInstanceOf(CompileError);
  });
});
