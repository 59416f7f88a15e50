// test/wide_values.test.ts — i64, f32 and f64 values as i32 words (frontend/lower_words.ts).
//
// One module exports each i64 operator behind an all-i32 boundary (an i64 operand is passed as
// its two words, an i64 result returned as two): compiled once, every export runs on edge words
// crossed with themselves plus seeded random tuples, through the transformer, the IR interpreter
// and V8, comparing results and traps. Then wide locals, globals, block types, calls,
// call_indirect signatures, memory (traps included), float bits, and the errors for float values
// the program observes.

import { describe, it, beforeAll, expect } from 'vitest';
import { compile } from '../index.js';
import { compileToIR } from '../frontend/index.js';
import { TransformerModel } from '../runtime/transformer.js';
import { NativeInstance, nativeTrapAgrees } from '../harness/native.js';
import { prng } from '../harness/check.js';
import { interpret } from '../ir/interp.js';
import { initialMemory } from '../ir/ir.js';
import { printModule } from '../ir/print.js';
import { parseModule as parseIR } from '../ir/parse.js';
import { WIDE_INSTRUCTIONS } from '../ir/instructions.js';
import { wideRule } from '../frontend/lower_words.js';
import { compileError } from './support/oracles.js';

const BINARY = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const COMPARE = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const UNARY = ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'];
const DIVIDE = ['div_s', 'div_u', 'rem_s', 'rem_u'];
const EDGE = [0, 1, -1, 2, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xffff, 0x10000, 0x12345678, -0x80000000, 0x7fffffff];

const mk = (a: number, b: number): string => `(call $mk (local.get ${a}) (local.get ${b}))`;
const out64 = '(i32.wrap_i64 (local.get $r)) (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32)))';
const wat = `(module
  (memory 1)
  (func $mk (param i32 i32) (result i64)
    (i64.or (i64.extend_i32_u (local.get 0)) (i64.shl (i64.extend_i32_u (local.get 1)) (i64.const 32))))
${BINARY.map((op) => `  (func (export "${op}") (param i32 i32 i32 i32) (result i32 i32) (local $r i64)
    (local.set $r (i64.${op} ${mk(0, 1)} ${mk(2, 3)})) ${out64})`).join('\n')}
${COMPARE.map((op) => `  (func (export "${op}") (param i32 i32 i32 i32) (result i32) (i64.${op} ${mk(0, 1)} ${mk(2, 3)}))`).join('\n')}
${UNARY.map((op) => `  (func (export "${op}") (param i32 i32) (result i32 i32) (local $r i64) (local.set $r (i64.${op} ${mk(0, 1)})) ${out64})`).join('\n')}
${DIVIDE.map((op) => `  (func (export "${op}") (param i32 i32 i32 i32) (result i32) (drop (i64.${op} ${mk(0, 1)} ${mk(2, 3)})) (i32.const 7))`).join('\n')}
  (func (export "eqz") (param i32 i32) (result i32) (i64.eqz ${mk(0, 1)}))
  (func (export "extend_s") (param i32) (result i32 i32) (local $r i64) (local.set $r (i64.extend_i32_s (local.get 0))) ${out64})
  (func (export "select") (param i32 i32 i32 i32 i32) (result i32 i32) (local $r i64)
    (local.set $r (select ${mk(0, 1)} ${mk(2, 3)} (local.get 4))) ${out64}))`;

const BINARY_EXPORTS = [...BINARY, ...COMPARE, ...DIVIDE];

let model: TransformerModel;
let native: NativeInstance;
let ir: Awaited<ReturnType<typeof compile>>['ir'];

beforeAll(async () => {
  const m = await compile(wat, { filename: 'wide.wat' });
  model = await TransformerModel.load(m.onnx);
  native = await NativeInstance.create(m.wasm);
  ir = m.ir;
}, 600_000);

const fmt = (o: { results: number[]; trap: string | null }): string => (o.trap ? `trap ${o.trap}` : `${o.results}`);

/** The transformer (one batch), the IR interpreter and V8 agree on every tuple. */
async function agree(name: string, tuples: number[][]): Promise<void> {
  const outs = await model.runBatch(name, tuples, tuples.map(() => model.newMemory()));
  tuples.forEach((args, i) => {
    const n = fmt(native.invoke(name, args));
    expect(fmt(interpret(ir, name, args, { memory: initialMemory(ir) })), `IR ${name}(${args.join(', ')})`).toBe(n);
    expect(fmt(outs[i]!), `transformer ${name}(${args.join(', ')})`).toBe(n);
  });
}

/** i64 operands as word pairs: edge words in each position, then random words. */
function pairs(rand: () => number, count: number): number[][] {
  const t: number[][] = [];
  for (const a of EDGE) for (const b of EDGE) t.push([a, 0, b, 0], [a, -1, b, 0], [0, a, b, 0], [a, a, b >>> 31, b], [a, b, a, b]);
  for (let k = 0; k < count; k++) t.push([rand() | 0, rand() | 0, rand() | 0, rand() % 4 === 0 ? 0 : rand() | 0]);
  return t.map((x) => x.map((v) => v | 0));
}

describe('every i64 instruction through the transformer = IR interpreter = V8', () => {
  const rand = prng(20261202);
  for (const op of BINARY_EXPORTS) {
    it(`i64.${op} on edge words and 60 random tuples`, async () => {
      const tuples = pairs(rand, 60);
      if (DIVIDE.includes(op)) tuples.push([0, 0x80000000, -1, -1], [0, 0x80000000, 1, 0], [5, 0, 0, 0]);
      await agree(op, tuples);
    }, 120_000);
  }
  for (const op of [...UNARY, 'eqz']) {
    it(`i64.${op} on edge words and 60 random values`, async () => {
      const t = [...EDGE.flatMap((a) => [[a, 0], [0, a], [a, -1], [a, a]]), ...Array.from({ length: 60 }, () => [rand() | 0, rand() | 0])];
      await agree(op, t);
    }, 120_000);
  }
  it('i64.extend_i32_s and a two-word select', async () => {
    await agree('extend_s', EDGE.map((a) => [a | 0]));
    await agree('select', [[1, 2, 3, 4, 0], [1, 2, 3, 4, 1], [-1, -2, -3, -4, -7]]);
  }, 120_000);
});

describe('wide values in locals, globals, blocks, calls and memory', () => {
  const prog = `(module
    (memory 1)
    (type $l (func (param i64) (result i32)))
    (type $ii (func (param i32 i32) (result i32)))
    (table funcref (elem $low $pair))
    (global $g (mut i64) (i64.const 0x7ffffffffffffffe))
    (global $f (mut f64) (f64.const -1.5))
    (func $low (type $l) (i32.wrap_i64 (local.get 0)))
    (func $pair (type $ii) (i32.add (local.get 0) (local.get 1)))
    (func (export "bump") (result i32)
      (global.set $g (i64.add (global.get $g) (i64.const 1)))
      (i32.wrap_i64 (i64.shr_u (global.get $g) (i64.const 32))))
    (func (export "indirect") (param i32) (result i32)
      (call_indirect (type $l) (i64.const 0x500000003) (local.get 0)))
    (func (export "indirect2") (param i32) (result i32)
      (call_indirect (type $ii) (i32.const 5) (i32.const 3) (local.get 0)))
    (func (export "blocks") (param i32) (result i32) (local $x i64)
      (local.set $x (i64.extend_i32_u (local.get 0)))
      (local.get $x)
      (block $out (param i64) (result i64)
        (loop $top (param i64) (result i64)
          (local.tee $x)
          (i64.eqz (i64.shr_u (local.get $x) (i64.const 40)))
          (if (param i64) (result i64) (then (i64.shl (i64.const 1)) (br $top)) (else (br $out)))))
      (i32.wrap_i64 (i64.shr_u (i64.const 40))))
    (func (export "store") (param i32 i32) (result i32)
      (i64.store offset=3 (local.get 0) (i64.extend_i32_s (local.get 1)))
      (f64.store (i32.const 32) (global.get $f))
      (i32.add (i32.load offset=3 (local.get 0)) (i32.load (i32.const 36))))
    (func (export "load") (param i32) (result i32)
      (i32.wrap_i64 (i64.shr_u (i64.load (local.get 0)) (i64.const 8))))
    (func (export "load8") (param i32) (result i32)
      (i32.wrap_i64 (i64.shr_s (i64.load8_s (local.get 0)) (i64.const 32))))
    (func (export "bits") (param i32) (result i32)
      (i32.reinterpret_f32 (f32.copysign (f32.abs (f32.reinterpret_i32 (local.get 0))) (f32.neg (f32.const 2)))))
    (func (export "fbits") (param i32) (result i32)
      (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (f64.neg (f64.reinterpret_i64 (i64.extend_i32_u (local.get 0))))) (i64.const 32))))
    (func (export "dead") (param i32) (result i32) (local $f f32)
      (local.set $f (f32.mul (f32.convert_i32_s (local.get 0)) (f32.const 3)))
      (drop (f64.lt (f64.const 1) (f64.promote_f32 (local.get $f))))
      (local.get 0)))`;

  it('agree on every export, traps included', async () => {
    const m = await compile(prog, { filename: 'prog.wat' });
    const t = await TransformerModel.load(m.onnx);
    const n = await NativeInstance.create(m.wasm);
    const calls: Array<[string, number[]]> = [
      ['bump', []], ['indirect', [0]], ['indirect', [1]], ['indirect', [2]], ['indirect2', [1]], ['indirect2', [0]],
      ['blocks', [1]], ['blocks', [0x12345]], ['store', [0, -5]], ['store', [65528, 1]], ['store', [65525, 1]], ['store', [65526, 1]],
      ['load', [65528]], ['load', [65529]], ['load8', [0]], ['bits', [0x3f800000]], ['bits', [-1]], ['bits', [0x7fc00001]],
      ['fbits', [0]], ['fbits', [123]], ['dead', [4]],
    ];
    for (const [f, a] of calls) {
      const nat = n.invoke(f, a);
      const [o] = await t.runBatch(f, [a], [t.newMemory()]);
      const i = interpret(m.ir, f, a, { memory: initialMemory(m.ir) });
      expect(fmt(o!), `transformer ${f}(${a}) = IR`).toBe(fmt(i));
      // V8 words some traps its own way ("null function or function signature mismatch")
      if (nat.trap !== null && o!.trap !== null) expect(nativeTrapAgrees(nat.trap, o!.trap), `${f}(${a}): V8 "${nat.trap}", ours "${o!.trap}"`).toBe(true);
      else expect(fmt(o!), `transformer ${f}(${a}) = V8`).toBe(fmt(nat));
    }
    // the dropped float computation left nothing behind
    expect(printModule(m.ir)).not.toContain('poison');
  }, 300_000);

  it('a store that traps writes nothing (its high word goes first)', async () => {
    const m = await compileToIR(prog, { filename: 'prog.wat' });
    const mem = initialMemory(m.ir);
    const r = interpret(m.ir, 'store', [65530, -1], { memory: mem });
    expect(r.trap).toBe('out of bounds memory access');
    expect([...r.memory.slice(65520)].every((b) => b === 0)).toBe(true);
  });
});

describe('float values the program observes, and the boundary', () => {
  it('an observed float result is one CompileError naming each instruction and its offset', async () => {
    const e = await compileError(compile(`(module
      (func (export "f") (param i32) (result i32)
        (i32.reinterpret_f32 (f32.add (f32.reinterpret_i32 (local.get 0)) (f32.const 1))))
      (func (export "g") (param i32) (result i32) (f64.lt (f64.const 1) (f64.convert_i32_s (local.get 0))))
      (func (export "h") (param i32) (result i32) (local.get 0)))`, { filename: 'fl.wat' }));
    expect(e.message).toMatch(/f32\.add \(in function f, byte offset 0x[0-9a-f]+\); f64\.lt \(in function g/);
    expect(e.message).toContain('only as bits');
    expect(e.info.offset).toBeGreaterThan(0);
  });
  it('an i64 quotient the program uses is rejected; its traps alone are kept', async () => {
    const e = await compileError(compile(`(module (func (export "f") (param i32) (result i32)
      (i32.wrap_i64 (i64.div_u (i64.const 10) (i64.extend_i32_u (local.get 0))))))`));
    expect(e.message).toContain('i64.div_u');
  });
  it('an export with i64 in its signature is named, with the exports that would compile', async () => {
    const e = await compileError(compile(`(module
      (func (export "wide") (param i64) (result i64) (local.get 0))
      (func (export "narrow") (param i32) (result i32) (local.get 0)))`));
    expect(e.message).toContain('exported function with i64 in its signature');
    expect(e.message).toContain('--export narrow');
  });
  it('a trapping float truncation stays unsupported', async () => {
    const e = await compileError(compile(`(module (func (export "f") (param i32) (result i32) (i32.trunc_f32_s (f32.reinterpret_i32 (local.get 0)))))`));
    expect(e.message).toContain('i32.trunc_f32_s');
  });
  it('a type mismatch in wide code is a located validation error', async () => {
    // wabt would reject this text, so the binary is built by hand: (func (result i32) i64.const 1)
    const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 7, 5, 1, 1, 0x66, 0, 0,
      10, 6, 1, 4, 0, 0x42, 1, 0x0b]);
    const e = await compileError(compile(bytes, { filename: 'bad.wasm' }));
    expect(e.message).toMatch(/validation failed: type mismatch/);
    expect(e.info.offset).toBeGreaterThan(0);
  });
});

describe('the rules', () => {
  it('every wide instruction of the opcode table has a rule', () => {
    expect(WIDE_INSTRUCTIONS.length).toBeGreaterThan(100);
    for (const name of WIDE_INSTRUCTIONS) expect(wideRule(name), name).toBeDefined();
  });
  it('poison round-trips through the IR text form', () => {
    const text = 'func $f params=0 results=1\nblock0():\n  v0 = poison "f32.add" 42\n  return v0\n';
    expect(printModule(parseIR(text))).toContain('v0 = poison "f32.add" 42');
  });
});
