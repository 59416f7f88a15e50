// test/bit_chains.test.ts — chains of bit operations share bits (backend/gadgets/bits.ts, KnownBits).
//
// A result of and/or/xor or of a constant shift is seeded into the BitCache with the bits it
// already has, so the next bit operation reads them instead of decomposing it again. These
// tests run chains that mix every seeding path (variable·variable, one constant operand,
// shifts and rotations by constants, then readers of the bits: variable shifts, popcnt, ctz,
// extend8_s, mul) through the transformer against V8 on edge and random values, and check the
// layer saving that is the point: a chain of 9 variable `or`s fits in one 11-layer step.

import { describe, expect, it, beforeAll } from 'vitest';
import { compile } from '../index.js';
import { TransformerModel } from '../runtime/transformer.js';
import { NativeInstance } from '../harness/native.js';
import { prng } from '../harness/check.js';
import { agreeWithNative } from './support/oracles.js';

const EDGE = [0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x12345678, -0x80000000, 0x7fffffff, 31, 32, 33];

const CHAINS: Record<string, string> = {
  // variable·variable results read by the next variable op
  ors: 'local.get 0 local.get 1 i32.or local.get 0 i32.const 7 i32.rotl i32.xor local.get 1 i32.and local.get 0 i32.or',
  // constant operands: every per-bit form (and keeps, or sets, xor flips) read by the next op
  consts: 'local.get 0 i32.const 0x00ff0f0f i32.and local.get 1 i32.xor i32.const 0x8001 i32.or local.get 0 i32.xor i32.const 0xfffffff0 i32.xor local.get 1 i32.and',
  // constant shifts of seeded values (both limbs move, the sign repeats, limbs swap at 16)
  shifts: 'local.get 0 local.get 1 i32.xor i32.const 3 i32.shl i32.const 16 i32.rotr i32.const 5 i32.shr_s local.get 1 i32.or i32.const 24 i32.shr_u local.get 0 i32.xor i32.const 16 i32.shl local.get 1 i32.and',
  // other bit readers of seeded results
  readers: 'local.get 0 local.get 1 i32.and local.get 1 i32.shl local.get 0 i32.xor i32.popcnt local.get 0 local.get 1 i32.or i32.ctz i32.add local.get 0 i32.const 9 i32.shr_u i32.extend8_s i32.add local.get 1 i32.const 0x55 i32.xor local.get 0 i32.mul i32.xor',
  // a decimal digit as compilers spell it, (a − (a/10)·10) | '0', then masks its range decides
  digit: 'local.get 0 local.get 0 i32.const 10 i32.div_u i32.const 10 i32.mul i32.sub i32.const 48 i32.or i32.const 0x3f i32.and i32.const 0x40 i32.xor local.get 0 i32.const 10 i32.div_u i32.add',
  // the crc32 inner step: crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1)), twice
  crc: 'local.get 0 i32.const 1 i32.shr_u i32.const 0 local.get 0 i32.const 1 i32.and i32.sub i32.const 0xEDB88320 i32.and i32.xor local.tee 0 i32.const 1 i32.shr_u i32.const 0 local.get 0 i32.const 1 i32.and i32.sub i32.const 0xEDB88320 i32.and i32.xor local.get 1 i32.xor',
};

const wat = `(module
${Object.entries(CHAINS).map(([n, body]) => `  (func (export "${n}") (param i32 i32) (result i32) ${body})`).join('\n')}
  (func (export "ors9") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 i32.or local.get 2 i32.or local.get 3 i32.or local.get 4 i32.or
    local.get 5 i32.or local.get 6 i32.or local.get 7 i32.or local.get 8 i32.or local.get 9 i32.or))`;

let model: TransformerModel;
let native: NativeInstance;

beforeAll(async () => {
  const m = await compile(wat, { filename: 'chains.wat' });
  model = await TransformerModel.load(m.onnx);
  native = await NativeInstance.create(m.wasm);
}, 600_000);

const agree = (name: string, tuples: number[][]) => agreeWithNative(model, native, name, tuples);

describe('chains of bit operations = V8', () => {
  const rand = prng(20261202);
  for (const name of Object.keys(CHAINS)) {
    it(`${name} on edge values crossed and 150 random pairs`, async () => {
      const tuples: number[][] = [];
      for (const a of EDGE) for (const b of EDGE) tuples.push([a | 0, b | 0]);
      for (let k = 0; k < 150; k++) tuples.push([rand() | 0, rand() | 0]);
      await agree(name, tuples);
    });
  }
  it('9 chained variable ors on random words', async () => {
    await agree('ors9', Array.from({ length: 64 }, (_, k) => Array.from({ length: 10 }, (_, j) => (k === j ? -1 : (rand() & rand() & rand()) | 0))));
  });
});

describe('the saving', () => {
  it('a chain of 9 variable ors is one step of 11 layers: bits 2 + 9 ors, no re-decomposition', async () => {
    const m = await compile(
      '(module (func (export "f") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32) local.get 0 local.get 1 i32.or local.get 2 i32.or local.get 3 i32.or local.get 4 i32.or local.get 5 i32.or local.get 6 i32.or local.get 7 i32.or local.get 8 i32.or local.get 9 i32.or))',
      { filename: 'ors.wat' },
    );
    expect(m.stats.experts).toBe(1);
    expect(m.stats.layers).toBeLessThanOrEqual(11);
  });

  it("a digit (a − (a/10)·10) | '0' costs the division alone: one gadget for / and %, no bits after", async () => {
    const digit = '(module (func (export "f") (param i32) (result i32) local.get 0 local.get 0 i32.const 10 i32.div_u i32.const 10 i32.mul i32.sub i32.const 48 i32.or))';
    const div = '(module (func (export "f") (param i32) (result i32) local.get 0 i32.const 10 i32.div_u))';
    const [d, q] = await Promise.all([compile(digit, { filename: 'digit.wat' }), compile(div, { filename: 'div.wat' })]);
    expect(d.stats.layers).toBe(q.stats.layers);
    expect(d.stats.mlpHidden).toBeLessThanOrEqual(q.stats.mlpHidden + 8);
  });

  it('a / C beside a − (a / C)·C costs one division for every kind of constant divisor (small, long division split over steps, signed)', async () => {
    for (const [div, C] of [['div_u', 10], ['div_u', 100000], ['div_s', -7]] as const) {
      const q = `local.get 0 i32.const ${C} i32.${div}`;
      const both = `(module (func (export "f") (param i32) (result i32) local.get 0 ${q} i32.const ${C} i32.mul i32.sub ${q} i32.add))`;
      const alone = `(module (func (export "f") (param i32) (result i32) ${q}))`;
      const [d, a] = await Promise.all([compile(both, { filename: 'both.wat' }), compile(alone, { filename: 'alone.wat' })]);
      // sharing (or, across steps, the carried quotient) adds the remainder and the add; a second division would double the weights
      expect(d.stats.nonzeros, `${div} by ${C}`).toBeLessThan(1.5 * a.stats.nonzeros);
    }
  });
});
