// test/backend_sharing.test.ts — accesses to one address share their decoding and lookups.
//
// A block that loads, stores and reloads the same address must still see each store (a
// reload after a store is a new lookup) while a reload with no store in between reuses the
// first lookup. Results must match V8, and the model must be smaller than without sharing
// (fewer attention heads than two per loaded byte per load instruction).

import { describe, expect, it } from 'vitest';
import { compileChecked } from './support/oracles.js';
import { TransformerModel } from '../runtime/transformer.js';
import { checkProgram } from '../harness/check.js';

const WAT = `(module (memory 1)
  (func (export "f") (param $a i32) (param $v i32) (result i32) (local $s i32)
    (local.set $s (i32.load offset=2 (local.get $a)))
    (local.set $s (i32.add (local.get $s) (i32.load offset=2 (local.get $a))))
    (i32.store offset=2 (local.get $a) (i32.add (local.get $v) (local.get $s)))
    (local.set $s (i32.add (local.get $s) (i32.load offset=2 (local.get $a))))
    (local.set $s (i32.add (local.get $s) (i32.load offset=3 (local.get $a))))
    (i32.add (local.get $s) (i32.load offset=2 (local.get $a)))))`;

describe('sharing of address decoding and lookups', () => {
  it('matches V8 and uses fewer heads than one lookup per load instruction', async () => {
    const m = await compileChecked(WAT, 'share.wat');
    // 5 load instructions; the second and the last repeat an earlier lookup with no store between
    // them, so 3 lookups remain: 3 loads x 4 bytes x 1 head = 12 heads instead of 20.
    expect(m.stats.heads).toBe(12);
    const model = await TransformerModel.load(m.onnx);
    const args: number[][] = [];
    for (let i = 0; i < 30; i++) args.push([(i * 2654435761) % 70000, (i * 40503) | 0]);
    args.push([65530, 1], [65533, 2], [-1, 3], [0, -1]);
    const r = await checkProgram(model, m.ir, m.wasm, { cases: 0, extraArgs: { f: args }, argGen: { f: () => [] } });
    expect(r.cases.filter((c) => !c.ok).map((c) => c.reason)).toEqual([]);
    expect(r.passed).toBeGreaterThanOrEqual(34);
  });
});
