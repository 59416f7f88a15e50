// test/ir_ops.test.ts — every i32 instruction through the IR interpreter against native V8
// on edge values (0, 1, -1, INT_MIN, INT_MAX, shift counts 0/31/32/33, divisors 0 and -1)
// and random values; memory widths at the end of memory, memory.grow at its limits,
// select, globals persisting across calls, the call-depth limit, and the table's
// evaluate/trap functions agreeing with what the interpreter does.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileToIR } from '../frontend/index.js';
import { IRInstance, DEFAULT_MAX_CALL_DEPTH, interpret } from '../ir/interp.js';
import { BINARY_CODES, UNARY_CODES } from '../ir/instructions.js';
import { NativeInstance } from '../harness/native.js';
import { TrapCode } from '../format/errors.js';
import { watToWasmBytes } from './gen/random_program.js';

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
const EDGES = [0, 1, -1, I32_MIN, I32_MAX, 2, -2, 7, -7, 31, 32, 33, 255, 256, 65535, 0x12345678, I32_MIN + 1, I32_MAX - 1];

async function pair(wat: string): Promise<{ native: NativeInstance; ir: IRInstance }> {
  const wasm = await watToWasmBytes(wat);
  const { ir } = await compileToIR(wasm);
  return { native: await NativeInstance.create(wasm), ir: new IRInstance(ir) };
}

function agree(p: { native: NativeInstance; ir: IRInstance }, name: string, args: number[]): void {
  const n = p.native.invoke(name, args);
  const m = p.ir.invoke(name, args);
  expect({ results: m.results, trap: m.trap, trapCode: m.trapCode }, `${name}(${args.join(', ')})`)
    .toEqual({ results: n.results, trap: n.trap, trapCode: n.trapCode });
}

const randomPairs = fc.sample(fc.tuple(fc.integer({ min: I32_MIN, max: I32_MAX }), fc.integer({ min: I32_MIN, max: I32_MAX })), { numRuns: 200, seed: 7 });

describe('binary operators', () => {
  for (const code of BINARY_CODES) {
    it(`i32.${code} matches native on edge and random values`, async () => {
      const p = await pair(`(module (func (export "f") (param i32 i32) (result i32) (i32.${code} (local.get 0) (local.get 1))))`);
      for (const a of EDGES) for (const b of EDGES) agree(p, 'f', [a, b]);
      for (const [a, b] of randomPairs) agree(p, 'f', [a, b]);
    });
  }

  it('div/rem trap exactly where native does', async () => {
    const p = await pair(`(module
      (func (export "ds") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "rs") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1))))`);
    expect(p.ir.invoke('ds', [I32_MIN, -1]).trapCode).toBe(TrapCode.IntegerOverflow);
    expect(p.ir.invoke('ds', [5, 0]).trapCode).toBe(TrapCode.IntegerDivideByZero);
    expect(p.ir.invoke('rs', [I32_MIN, -1]).results).toEqual([0]);
    agree(p, 'ds', [I32_MIN, -1]);
    agree(p, 'rs', [I32_MIN, -1]);
  });
});

describe('unary operators', () => {
  for (const code of UNARY_CODES) {
    it(`i32.${code} matches native on edge and random values`, async () => {
      const p = await pair(`(module (func (export "f") (param i32) (result i32) (i32.${code} (local.get 0))))`);
      for (const a of EDGES) agree(p, 'f', [a]);
      for (const [a, b] of randomPairs) { agree(p, 'f', [a]); agree(p, 'f', [b & 0xffff]); }
    });
  }
});

describe('select', () => {
  it('typed and untyped select pick a when the condition is non-zero', async () => {
    const p = await pair(`(module
      (func (export "s") (param i32 i32 i32) (result i32) (select (local.get 0) (local.get 1) (local.get 2)))
      (func (export "t") (param i32 i32 i32) (result i32) (select (result i32) (local.get 0) (local.get 1) (local.get 2))))`);
    for (const c of [0, 1, -1, I32_MIN, 2]) for (const n of ['s', 't']) agree(p, n, [11, 22, c]);
    expect(p.ir.invoke('s', [11, 22, I32_MIN]).results).toEqual([11]);
  });
});

describe('memory widths', () => {
  const WAT = `(module (memory 1 3) (data (i32.const 65530) "\\81\\82\\83\\84\\85\\86")
    (func (export "l8s") (param i32) (result i32) (i32.load8_s (local.get 0)))
    (func (export "l8u") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "l16s") (param i32) (result i32) (i32.load16_s offset=1 (local.get 0)))
    (func (export "l16u") (param i32) (result i32) (i32.load16_u (local.get 0)))
    (func (export "l32") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "s8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "s16") (param i32 i32) (i32.store16 offset=2 (local.get 0) (local.get 1)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size)))`;
  it('loads and stores of 1, 2 and 4 bytes sign/zero-extend, wrap and trap like native, also after growing', async () => {
    const p = await pair(WAT);
    const addrs = [0, 1, 65529, 65530, 65532, 65533, 65534, 65535, 65536, -1, I32_MIN, 131070, 131071];
    const run = (): void => {
      for (const a of addrs) for (const n of ['l8s', 'l8u', 'l16s', 'l16u', 'l32']) agree(p, n, [a]);
      for (const a of addrs) for (const v of [0x1ff, -1, 0x12345678]) { agree(p, 's8', [a, v]); agree(p, 's16', [a, v]); }
      expect(Buffer.from(p.ir.memory()).equals(Buffer.from(p.native.memory()))).toBe(true);
    };
    run();
    for (const d of [0, 1, 5, 1, 1, -1]) { agree(p, 'grow', [d]); agree(p, 'size', []); }
    run();
    expect(p.ir.invoke('size', []).results).toEqual([3]);
  });

  it('memory.grow stops at the supported limit when none is declared', async () => {
    const { ir } = await compileToIR('(module (memory 1) (func (export "g") (param i32) (result i32) (memory.grow (local.get 0))))', { maxMemoryPages: 4 });
    const inst = new IRInstance(ir);
    expect(ir.memory?.maxPages).toBe(4);
    expect(inst.invoke('g', [4]).results).toEqual([-1]);
    expect(inst.invoke('g', [3]).results).toEqual([1]);
    expect(inst.memory().length).toBe(4 * 65536);
  });
});

describe('globals and calls', () => {
  it('globals persist across invocations of one instance, like native', async () => {
    const p = await pair(`(module (global $sp (export "sp") (mut i32) (i32.const 1024)) (global $k (export "k") i32 (i32.const -5))
      (func (export "push") (param i32) (result i32) (global.set $sp (i32.sub (global.get $sp) (local.get 0))) (i32.add (global.get $sp) (global.get $k))))`);
    for (const d of [16, 16, -1, I32_MIN]) {
      agree(p, 'push', [d]);
      expect(p.ir.global('sp')).toBe(p.native.global('sp'));
    }
    expect(p.ir.global('k')).toBe(-5);
  });

  it('recursion traps with "call stack exhausted" past maxCallDepth, and runs up to it', async () => {
    const wat = `(module (func $d (export "d") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0)) (else (i32.add (i32.const 1) (call $d (i32.sub (local.get 0) (i32.const 1))))))))`;
    const { ir } = await compileToIR(wat);
    expect(interpret(ir, 'd', [DEFAULT_MAX_CALL_DEPTH - 1]).results).toEqual([DEFAULT_MAX_CALL_DEPTH - 1]);
    const deep = interpret(ir, 'd', [DEFAULT_MAX_CALL_DEPTH]);
    expect(deep.trapCode).toBe(TrapCode.CallStackExhausted);
    expect(deep.trap).toBe('call stack exhausted');
    expect(interpret(ir, 'd', [10], { maxCallDepth: 10 }).trapCode).toBe(TrapCode.CallStackExhausted);
    expect(interpret(ir, 'd', [9], { maxCallDepth: 10 }).results).toEqual([9]);
    const p = await pair(wat.replace('(module', '(module (func (export "inf") (param i32) (result i32) (call $d (i32.const -1)))'));
    expect(p.native.invoke('inf', [0]).trapCode).toBe(TrapCode.CallStackExhausted);
    expect(p.ir.invoke('inf', [0]).trapCode).toBe(TrapCode.CallStackExhausted);
  });

  it('counts the call block, the callee blocks and the continuation as steps', async () => {
    const { ir } = await compileToIR(`(module (func $id (param i32) (result i32) (local.get 0))
      (func (export "f") (param i32) (result i32) (i32.add (call $id (local.get 0)) (i32.const 1))))`);
    const r = interpret(ir, 'f', [4]);
    expect(r.results).toEqual([5]);
    expect(r.steps).toBe(3);
  });

  it('unreachable traps', async () => {
    const p = await pair('(module (func (export "u") (param i32) (result i32) (if (local.get 0) (then unreachable)) (i32.const 3)))');
    agree(p, 'u', [0]);
    agree(p, 'u', [1]);
    expect(p.ir.invoke('u', [1]).trapCode).toBe(TrapCode.Unreachable);
  });

  it('output bytes are collected like env.output_byte natively', async () => {
    const p = await pair(`(module (import "env" "output_byte" (func $o (param i32)))
      (func (export "hi") (param i32) (call $o (i32.const 72)) (call $o (i32.add (local.get 0) (i32.const 256)))))`);
    const n = p.native.invoke('hi', [105]);
    const m = p.ir.invoke('hi', [105]);
    expect(m.output).toEqual([72, 105]);
    expect(m.output).toEqual(n.output);
  });
});

describe('structured control with params and results', () => {
  it('blocks, loops and ifs with params and multi-value results, and br_table, match native', async () => {
    const p = await pair(`(module
      (type $ii (func (param i32 i32) (result i32 i32)))
      (func (export "swap") (param i32 i32) (result i32)
        (local.get 0) (local.get 1) (block (type $ii) (local.set 0) (local.set 1) (local.get 0) (local.get 1))
        (i32.sub))
      (func (export "ifp") (param i32 i32) (result i32)
        (local.get 1) (if (param i32) (result i32) (local.get 0) (then (i32.const 10) (i32.mul)) (else (i32.const 3) (i32.add))))
      (func (export "ifnoelse") (param i32 i32) (result i32)
        (local.get 1) (if (param i32) (result i32) (local.get 0) (then (i32.const 1) (i32.shl))))
      (func (export "loopp") (param i32) (result i32)
        (i32.const 0) (loop $l (param i32) (result i32) (local.get 0) (i32.add)
          (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (local.get 0) (br_if $l (i32.gt_s (local.get 0) (i32.const 0))) (drop) ))
      (func (export "tbl") (param i32) (result i32)
        (block $c (result i32) (block $b (result i32) (block $a (result i32)
          (i32.const 100) (local.get 0) (br_table $a $b $c)) (i32.const 1) (i32.add)) (i32.const 2) (i32.mul)))
      (func (export "multi") (param i32) (result i32 i32) (local.get 0) (i32.const 9))
      (func (export "usemulti") (param i32) (result i32) (call 5 (local.get 0)) (i32.sub)))`);
    for (const a of [0, 1, 2, 3, -1, 7, I32_MIN]) {
      for (const b of [0, 5, -3]) for (const n of ['swap', 'ifp', 'ifnoelse']) agree(p, n, [a, b]);
      for (const n of ['loopp', 'tbl', 'usemulti']) agree(p, n, [a === I32_MIN ? 6 : a]);
    }
    expect(p.ir.invoke('multi', [4]).results).toEqual([4, 9]);
    expect(p.native.invoke('multi', [4]).results).toEqual([4, 9]);
  });
});
