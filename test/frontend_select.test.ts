// test/frontend_select.test.ts — `--export` compiles only the selected functions (and what they call).
//
// A module may contain imports, globals and instructions outside the subset; with an
// export selection only the functions the selected exports reach are held to the subset,
// so they compile, while selecting an unsupported function still fails precisely, and
// compiling the whole module says which exports would avoid the unsupported code.

import { describe, expect, it } from 'vitest';
import { compile, instantiate, CompileError } from '../index.js';

const WAT = `(module
  (import "env" "f" (func $imp (param i32) (result i32)))
  (import "env" "g" (global $ig i32))
  (memory 1)
  (func (export "good") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "bad") (param i32) (result i32) (i32.wrap_i64 (i64.extend_i32_s (local.get 0))))
  (func (export "glob") (result i32) (global.get $ig))
  (func (export "callsimp") (result i32) (call $imp (i32.const 1)))
  (export "imp" (func $imp)))`;

describe('export selection', () => {
  it('compiles a supported export of a module that also uses unsupported features', async () => {
    const m = await compile(WAT, { filename: 'mixed.wat', exports: ['good'] });
    expect(m.layout.entries.map((e) => e.name)).toEqual(['good']);
    const inst = await instantiate(m);
    expect((await inst.invoke('good', [41])).results).toEqual([42]);
  });

  it('rejects the module as a whole naming what --export would compile, and unsupported selected functions precisely', async () => {
    await expect(compile(WAT, { filename: 'mixed.wat' })).rejects.toThrow(/i64\.extend_i32_s.*--export good would compile without them/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['bad'] })).rejects.toThrow(/i64\.extend_i32_s.*function bad.*0x/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['glob'] })).rejects.toThrow(/global\.get of an imported global.*function glob/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['callsimp'] })).rejects.toThrow(/call to the imported function "env" "f"/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['imp'] })).rejects.toThrow(/imported function/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['nope'] })).rejects.toBeInstanceOf(CompileError);
  });
});
