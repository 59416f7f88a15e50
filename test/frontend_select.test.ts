// test/frontend_select.test.ts — `--export` compiles only the selected functions.
//
// A module may contain imports, globals and instructions outside the subset; with an
// export selection only the selected functions are decoded and held to the subset, so
// they compile, while selecting an unsupported function still fails precisely.

import { describe, expect, it } from 'vitest';
import { compile, instantiate, CompileError } from '../index.js';

const WAT = `(module
  (import "env" "f" (func $imp (param i32) (result i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func (export "good") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "bad") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "glob") (result i32) (global.get $g))
  (export "imp" (func $imp)))`;

describe('export selection', () => {
  it('compiles a supported export of a module that also uses unsupported features', async () => {
    const m = await compile(WAT, { filename: 'mixed.wat', exports: ['good'] });
    expect(m.layout.entries.map((e) => e.name)).toEqual(['good']);
    const inst = await instantiate(m);
    expect((await inst.invoke('good', [41])).results).toEqual([42]);
  });

  it('still rejects the module as a whole, and unsupported selected functions precisely', async () => {
    await expect(compile(WAT, { filename: 'mixed.wat' })).rejects.toThrow(/imports/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['bad'] })).rejects.toThrow(/i32\.mul.*function bad.*0x/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['glob'] })).rejects.toThrow(/global\.get.*function glob/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['imp'] })).rejects.toThrow(/imported function/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['nope'] })).rejects.toBeInstanceOf(CompileError);
  });
});
