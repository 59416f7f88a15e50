// test/frontend_select.test.ts — `--export` compiles only the selected functions (and what they call).
//
// A module may contain imports, globals and instructions outside the subset; with an
// export selection only the functions the selected exports reach are held to the subset,
// so they compile, while selecting an unsupported function still fails precisely, and
// compiling the whole module says which exports would avoid the unsupported code.

import { describe, expect, it } from 'vitest';
import { compile, instantiate, CompileError } from '../index.js';
import { loadInput } from '../frontend/index.js';

const WAT = `(module
  (import "env" "f" (func $imp (param i32) (result i32)))
  (import "env" "g" (global $ig i32))
  (memory 1)
  (func (export "good") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "bad") (param i32) (result i32) (i32.trunc_f32_s (f32.convert_i32_s (local.get 0))))
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
    await expect(compile(WAT, { filename: 'mixed.wat' })).rejects.toThrow(/i32\.trunc_f32_s.*--export good would compile without them/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['bad'] })).rejects.toThrow(/i32\.trunc_f32_s.*function bad.*0x/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['glob'] })).rejects.toThrow(/global\.get of an imported global.*function glob/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['callsimp'] })).rejects.toThrow(/call to the imported function "env" "f"/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['imp'] })).rejects.toThrow(/imported function/);
    await expect(compile(WAT, { filename: 'mixed.wat', exports: ['nope'] })).rejects.toBeInstanceOf(CompileError);
  });
});

// A module like the spec tests': i64 and f32 functions, globals of other types and spectest
// imports beside the i32 code an export selection reaches (i64 inside is compiled as words; an
// export with i64 in its signature is not, as callers pass i32 values).
const SPEC_LIKE = `(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "spectest" "global_i32" (global $gi i32))
  (import "spectest" "table" (table 10 funcref))
  (memory 1)
  (global $wide (mut i64) (i64.const 1))
  (global $real f32 (f32.const 1.5))
  (global $n (mut i32) (i32.const 10))
  (func $i64_add (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64) (call $i64_add (local.get 0) (local.get 1)))
  (func (export "wide") (result i32) (i32.wrap_i64 (call $i64_add (i64.const 1) (i64.const 2))))
  (func $trunc (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "truncs") (result i32) (i32.add (call $trunc (f64.const 1)) (i32.trunc_f32_u (f32.const 2))))
  (func $helper (param i32) (result i32) (i32.mul (local.get 0) (global.get $n)))
  (func (export "scaled") (param i32) (result i32) (global.set $n (i32.add (global.get $n) (i32.const 1))) (call $helper (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))`;

describe('partial compiles: only what the selected exports reach must be supported', () => {
  it('an i64 function, non-i32 globals and unused imports do not stop the i32 exports; one instance keeps their state', async () => {
    const m = await compile(SPEC_LIKE, { filename: 'spec_like.wat', exports: ['scaled', 'store', 'load'] });
    expect(m.layout.entries.map((e) => e.name).sort()).toEqual(['load', 'scaled', 'store']);
    const inst = await instantiate(m);
    expect((await inst.invoke('scaled', [3])).results).toEqual([33]);
    expect((await inst.invoke('scaled', [3])).results).toEqual([36]); // $n kept between calls
    await inst.invoke('store', [8, -5]);
    expect((await inst.invoke('load', [8])).results).toEqual([-5]);
  });

  it('an i32 export that reaches the i64 function compiles it as words; the i64 export is named at the boundary', async () => {
    const m = await compile(SPEC_LIKE, { filename: 'spec_like.wat', exports: ['wide'] });
    expect((await (await instantiate(m)).invoke('wide', [])).results).toEqual([3]);
    await expect(compile(SPEC_LIKE, { filename: 'spec_like.wat', exports: ['add64'] }))
      .rejects.toThrow(/exported function with i64 in its signature.*function add64/);
  });

  it('an i32 export that reaches unsupported code fails, listing each feature with its count and first offset', async () => {
    const e = await compile(SPEC_LIKE, { filename: 'spec_like.wat', exports: ['truncs'] }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(CompileError);
    const msg = (e as CompileError).message;
    expect(msg).toMatch(/^unsupported: 2 uses of 2 unsupported feature\(s\): /);
    expect(msg).toMatch(/instruction i32\.trunc_f64_s \(at function func\[\d+\], byte offset 0x[0-9a-f]+\)/);
    expect(msg).toMatch(/instruction i32\.trunc_f32_u \(at function truncs, byte offset 0x[0-9a-f]+\)/);
    expect(msg.split('; wasmformer supports only')[0]).not.toMatch(/global|print_i32|table|add64/); // what "truncs" does not use is not listed
    // the whole module: the same features, and the exports that avoid them
    await expect(compile(SPEC_LIKE, { filename: 'spec_like.wat' })).rejects.toThrow(/--export wide,scaled,store,load would compile without them/);
  });

  it('code that never runs (after br, return, unreachable) may hold unsupported instructions; the code that runs may not', async () => {
    const wat = `(module (memory 1)
      (func (export "early") (param i32) (result i32)
        (block (result i32) (br 0 (local.get 0)) (drop (f64.neg (f64.const 1))) (i32.wrap_i64 (i64.const 3))))
      (func (export "trap") (result i32) (unreachable) (i64.store (i32.const 0) (i64.const 1)) (i32.const 0))
      (func (export "live") (result i32) (if (result i32) (i32.const 1) (then (i32.const 2)) (else (return (i32.const 3)) (f32.const 1) (drop) (i32.const 4))))
      (func (export "runs") (result i32) (drop (i32.trunc_f32_s (f32.const 1))) (i32.const 1)))`;
    const m = await compile(wat, { exports: ['early', 'trap', 'live'] });
    const inst = await instantiate(m);
    expect((await inst.invoke('early', [9])).results).toEqual([9]);
    expect((await inst.invoke('trap', [])).trap).toBe('unreachable');
    expect((await inst.invoke('live', [])).results).toEqual([2]);
    await expect(compile(wat, { exports: ['runs'] })).rejects.toThrow(/instruction i32\.trunc_f32_s.*function runs/);
  });

  it('invalid code that never runs is still rejected, at the code', async () => {
    // valid except after the br: the f32.add has no operands (typed by V8; the frontend drops it)
    const wasm = await loadInput('(module (func (export "f") (result i32) (block (result i32) (br 0 (i32.const 1)) (f32.const 1) (f32.const 2) (f32.add) (drop) (i32.const 0))))');
    const at = wasm.findIndex((b, i) => b === 0x92 && wasm[i + 1] === 0x1a); // f32.add, drop
    const broken = wasm.slice();
    broken[at] = 0x8c; // f32.neg: leaves two values, then drop and i32.const: three for a one-value block
    expect(WebAssembly.validate(broken)).toBe(false);
    const e = await compile(broken).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(CompileError);
    expect((e as CompileError).message).toMatch(/^validation failed: code after br that never runs is invalid/);
    expect((e as CompileError).info.func).toBe('f');
    expect((e as CompileError).info.offset).toBe(wasm.findIndex((b, i) => b === 0x43 && i > at - 12)); // the first f32.const
  });

  it('a local of another type stops nothing until code that runs accesses it', async () => {
    const m = await compile('(module (func (export "f") (param i32) (result i32) (local f32 i64) (i32.add (local.get 0) (i32.const 1))))');
    expect((await (await instantiate(m)).invoke('f', [41])).results).toEqual([42]);
    await expect(compile('(module (func (export "g") (result i32) (local i32 externref) (local.set 1 (ref.null extern)) (i32.const 0)))'))
      .rejects.toThrow(/local\.set of a local of type externref \(only i32, i64, f32, f64\)/);
  });
});
