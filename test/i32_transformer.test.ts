// test/i32_transformer.test.ts — every i32 instruction through the compiled transformer, against V8.
//
// One module exports each operator as a one-instruction function; it is compiled once and every
// export runs, batched, on the edge values crossed with themselves (0, 1, -1, INT_MIN, INT_MAX,
// limb boundaries, shift counts 0/1/15/16/31/32/33, divisors 0 and -1) plus seeded random pairs,
// comparing results and traps with native WebAssembly.

import { describe, it, beforeAll } from 'vitest';
import { compile } from '../index.js';
import { TransformerModel } from '../runtime/transformer.js';
import { NativeInstance } from '../harness/native.js';
import { prng } from '../harness/check.js';
import { agreeWithNative } from './support/oracles.js';

const BINARY = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr', 'eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const UNARY = ['eqz', 'clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s'];
const EDGE = [0, 1, -1, 2, -2, 3, 7, 15, 16, 31, 32, 33, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x12345678, -0x80000000, 0x7fffffff];

const wat = `(module
${BINARY.map((op) => `  (func (export "${op}") (param i32 i32) (result i32) (i32.${op} (local.get 0) (local.get 1)))`).join('\n')}
${UNARY.map((op) => `  (func (export "${op}") (param i32) (result i32) (i32.${op} (local.get 0)))`).join('\n')}
  (func (export "select") (param i32 i32 i32) (result i32) (select (local.get 0) (local.get 1) (local.get 2))))`;

let model: TransformerModel;
let native: NativeInstance;

beforeAll(async () => {
  const m = await compile(wat);
  model = await TransformerModel.load(m.onnx);
  native = await NativeInstance.create(m.wasm);
}, 600_000);

const agree = (name: string, tuples: number[][]) => agreeWithNative(model, native, name, tuples);

describe('every i32 instruction through the transformer = V8', () => {
  const rand = prng(20261201);
  for (const op of BINARY) {
    it(`i32.${op} on edge values crossed and 100 random pairs`, async () => {
      const tuples: number[][] = [];
      for (const a of EDGE) for (const b of EDGE) tuples.push([a | 0, b | 0]);
      for (let k = 0; k < 100; k++) tuples.push([rand() | 0, rand() | 0]);
      await agree(op, tuples);
    });
  }
  for (const op of UNARY) {
    it(`i32.${op} on edge values and 100 random values`, async () => {
      await agree(op, [...EDGE.map((a) => [a | 0]), ...Array.from({ length: 100 }, () => [rand() | 0])]);
    });
  }
  it('select on both conditions', async () => {
    await agree('select', [[5, 7, 0], [5, 7, 1], [5, 7, -1], [-1, 0x7fffffff, 0x10000]]);
  });
});
