// test/call_indirect.test.ts — call_indirect through a table its element segments fix, against V8
// and the IR interpreter: dispatch by index, the three traps (undefined element past the end,
// uninitialized element on a null entry, indirect call type mismatch), values live across the
// call, recursion through the table, every element segment encoding, a table large enough to
// dispatch in levels; and the tables the
// frontend cannot fix (imported, changed by table.set anywhere, entries it cannot read) or
// calls it cannot follow (an import of the type, a non-i32 type), each a precise CompileError
// at the call_indirect. Functions only the table reaches count for the selection when their
// type is the call's, not otherwise.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, instantiate, interpret } from '../index.js';
import { NativeInstance, nativeTrapAgrees } from '../harness/native.js';
import { loadInput } from '../frontend/index.js';
import { compileError } from './support/oracles.js';

const show = (o: { results: number[]; trap?: string | null }): string => (o.trap ? `trap ${o.trap}` : `[${o.results.join(', ')}]`);

/** Runs each call through the transformer, the IR interpreter and V8; returns the transformer's outcomes. */
async function agree(wat: string, calls: Array<[string, number[]]>, exports?: string[]): Promise<string[]> {
  const m = await compile(wat, { exports });
  const inst = await instantiate(m);
  const nat = await NativeInstance.create(m.wasm);
  const out: string[] = [];
  for (const [f, a] of calls) {
    const o = await inst.invoke(f, a, { maxSteps: 100_000 });
    const ir = interpret(m.ir, f, a, { maxSteps: 100_000 });
    const n = nat.invoke(f, a);
    expect(show(o), `${f}(${a}) transformer vs IR`).toBe(show(ir));
    if (n.trap !== null && o.trap) expect(nativeTrapAgrees(n.trap, o.trap), `${f}(${a}): V8 "${n.trap}", transformer "${o.trap}"`).toBe(true);
    else expect(show(o), `${f}(${a}) transformer vs V8`).toBe(show(n));
    out.push(show(o));
  }
  return out;
}

/** Byte offset of the first call_indirect, as `wasm-objdump -d` prints it. */
async function callIndirectOffset(wat: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmformer-ci-'));
  try {
    const file = join(dir, 'm.wasm');
    writeFileSync(file, await loadInput(wat));
    const out = execFileSync('wasm-objdump', ['-d', file], { encoding: 'utf8' });
    const m = /^ ([0-9a-f]+):[0-9a-f ]+\|\s*call_indirect\b/m.exec(out);
    if (!m) throw new Error('wasm-objdump shows no call_indirect');
    return parseInt(m[1] as string, 16);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const DISPATCH = `(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func (result i32)))
  (table 6 funcref)
  (elem (i32.const 0) $inc $dbl $seven)
  (elem (i32.const 4) $neg)
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $seven (type $v) (i32.const 7))
  (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (func (export "apply") (param $k i32) (param $x i32) (result i32)
    (call_indirect (type $ii) (local.get $x) (local.get $k)))
  ;; a local and a stack value below the call live across it
  (func (export "around") (param $k i32) (param $x i32) (result i32) (local $t i32)
    (local.set $t (i32.mul (local.get $x) (i32.const 100)))
    (i32.add (i32.add (local.get $x) (call_indirect (type $ii) (local.get $x) (local.get $k))) (local.get $t))))`;

describe('call_indirect through the transformer = IR interpreter = V8', () => {
  it('dispatches by index; past the end, a null entry and another type trap with the spec messages', async () => {
    const out = await agree(DISPATCH, [
      ['apply', [0, 5]], ['apply', [1, 5]], ['apply', [4, 5]], ['apply', [2, 5]], ['apply', [3, 5]],
      ['apply', [6, 5]], ['apply', [-1, 5]], ['around', [0, 3]], ['around', [1, 3]], ['around', [4, 3]],
    ]);
    expect(out).toEqual([
      '[6]', '[10]', '[-5]', 'trap indirect call type mismatch', 'trap uninitialized element',
      'trap undefined element', 'trap undefined element', '[307]', '[309]', '[300]',
    ]);
  });

  it('recursion through the table, down to the call depth limit', async () => {
    const out = await agree(
      `(module
        (type $ii (func (param i32) (result i32)))
        (table funcref (elem $fac $loop))
        (func $fac (type $ii)
          (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
            (else (i32.mul (local.get 0) (call_indirect (type $ii) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0))))))
        (func $loop (type $ii) (call_indirect (type $ii) (local.get 0) (i32.const 1)))
        (func (export "fac") (param i32) (result i32) (call_indirect (type $ii) (local.get 0) (i32.const 0)))
        (func (export "forever") (param i32) (result i32) (call_indirect (type $ii) (local.get 0) (i32.const 1))))`,
      [['fac', [0]], ['fac', [5]], ['fac', [10]], ['forever', [1]]],
    );
    expect(out).toEqual(['[1]', '[120]', '[3628800]', 'trap call stack exhausted']);
  });

  it('reads every element segment encoding; passive and declarative ones fill nothing', async () => {
    const out = await agree(
      `(module
        (type $v (func (result i32)))
        (table $t0 4 funcref)
        (table $t1 3 funcref)
        (func $a (type $v) (i32.const 10))
        (func $b (type $v) (i32.const 20))
        (func $c (type $v) (i32.const 30))
        (elem (i32.const 0) func $a)
        (elem (table $t1) (i32.const 1) func $b $c)
        (elem (i32.const 2) funcref (ref.func $c) (ref.null func))
        (elem (table $t1) (i32.const 0) funcref (ref.func $a))
        (elem funcref (ref.func $b))
        (elem declare func $b)
        (func (export "t0") (param i32) (result i32) (call_indirect $t0 (type $v) (local.get 0)))
        (func (export "t1") (param i32) (result i32) (call_indirect $t1 (type $v) (local.get 0))))`,
      [['t0', [0]], ['t0', [1]], ['t0', [2]], ['t0', [3]], ['t1', [0]], ['t1', [1]], ['t1', [2]], ['t1', [3]]],
    );
    expect(out).toEqual(['[10]', 'trap uninitialized element', '[30]', 'trap uninitialized element', '[10]', '[20]', '[30]', 'trap undefined element']);
  });

  it('a table of more than 64 entries dispatches in levels, with the same results and traps', async () => {
    const out = await agree(
      `(module (type $v (func (result i32))) (table 300 funcref)
        (func $a (type $v) (i32.const 1)) (func $b (type $v) (i32.const 2)) (func $c (param i32) (result i32) (local.get 0))
        (elem (i32.const 0) $a $b) (elem (i32.const 64) $b $c) (elem (i32.const 299) $b)
        (func (export "f") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))`,
      [['f', [0]], ['f', [1]], ['f', [63]], ['f', [64]], ['f', [65]], ['f', [299]], ['f', [298]], ['f', [300]], ['f', [4096]], ['f', [-1]]],
    );
    expect(out).toEqual([
      '[1]', '[2]', 'trap uninitialized element', '[2]', 'trap indirect call type mismatch', '[2]', 'trap uninitialized element',
      'trap undefined element', 'trap undefined element', 'trap undefined element',
    ]);
  });

  it('a later segment overwrites an earlier one where they overlap', async () => {
    const out = await agree(
      `(module (type $v (func (result i32))) (table 2 funcref)
        (func $a (type $v) (i32.const 1)) (func $b (type $v) (i32.const 2))
        (elem (i32.const 0) $a $a) (elem (i32.const 1) $b)
        (func (export "f") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))`,
      [['f', [0]], ['f', [1]]],
    );
    expect(out).toEqual(['[1]', '[2]']);
  });
});

describe('call_indirect the frontend cannot follow', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an imported table', `(import "env" "t" (table 2 funcref))`, /call_indirect through table 0, which is not fixed by its element segments: it is imported \(import "env" "t"\)/],
    ['a table.set anywhere, even in code nothing selected reaches', `(table 2 funcref) (func $w (table.set 0 (i32.const 0) (ref.null func)))`,
      /not fixed by its element segments: table\.set in function func\[0\] may change it/],
    ['a table.grow', `(table 2 funcref) (func $w (drop (table.grow 0 (ref.null func) (i32.const 1))))`, /table\.grow in function func\[0\] may change it/],
    ['an entry given by global.get', `(import "env" "f" (global funcref)) (table 2 funcref) (elem (i32.const 0) funcref (global.get 0))`,
      /not fixed by its element segments: an element segment entry is neither ref\.func nor ref\.null/],
    ['a segment at an imported offset', `(import "env" "o" (global i32)) (table 2 funcref) (elem (global.get 0) func)`,
      /an element segment offset is not an i32\.const/],
    ['an imported function of the call\'s type in the table', `(import "env" "g" (func $g (result i32))) (table 2 funcref) (elem (i32.const 1) $g)`,
      /call_indirect that may call the imported function "env" "g"/],
  ];
  for (const [what, decls, message] of cases) {
    it(`${what}: a CompileError at the call_indirect`, async () => {
      const wat = `(module ${decls} (type $v (func (result i32)))
        (func (export "ok") (result i32) (i32.const 1))
        (func (export "ci") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))`;
      const e = await compileError(compile(wat, { exports: ['ci'] }));
      expect(e.message).toMatch(message);
      expect(e.info).toEqual({ instruction: 'call_indirect', func: 'ci', offset: await callIndirectOffset(wat) });
      // the other export still compiles from the same module
      expect((await compile(wat, { exports: ['ok'] })).layout.entries.map((x) => x.name)).toEqual(['ok']);
    });
  }

  it('a call_indirect of a non-i32 type', async () => {
    const wat = `(module (type $l (func (param externref) (result i32))) (table 1 funcref)
      (func (export "ci") (param i32) (result i32) (call_indirect (type $l) (ref.null extern) (local.get 0))))`;
    const e = await compileError(compile(wat));
    expect(e.message).toMatch(/call_indirect of a type with externref values/);
    expect(e.message).toMatch(/instruction ref\.null/);
  });

  it('the table reaches its entries of the call\'s type: unsupported code in them counts, in entries of other types not', async () => {
    const wat = `(module
      (type $v (func (result i32)))
      (table funcref (elem $wide $other))
      (func $wide (type $v) (i32.trunc_f32_s (f32.const 5)))
      (func $other (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
      (func (export "ci") (param i32) (result i32) (call_indirect (type $v) (local.get 0)))
      (func (export "narrow") (param i32) (result i32) (call_indirect (type $ii) (local.get 0) (local.get 0)))
      (type $ii (func (param i32) (result i32))))`;
    const e = await compileError(compile(wat, { exports: ['ci'] }));
    expect(e.message).toMatch(/instruction i32\.trunc_f32_s.*function func\[0\]/);
    expect(e.message).not.toMatch(/func\[1\]/);
    // no entry has the type (param i32) (result i32): every index traps, nothing else is compiled
    expect(await agree(wat, [['narrow', [0]], ['narrow', [1]], ['narrow', [2]]], ['narrow'])).toEqual([
      'trap indirect call type mismatch', 'trap indirect call type mismatch', 'trap undefined element',
    ]);
  });
});
