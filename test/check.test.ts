// test/check.test.ts — the differential check itself: it must catch disagreements.
//
// checkProgram compares transformer, IR interpreter and V8. Runs that finish are compared on
// results, traps, steps and memory; runs still going at the step limit are compared with the IR
// interpreter on the state reached (block, arguments, memory). Feeding it the IR of a slightly
// different program must produce failures of both kinds, and the right IR none.

import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { TransformerModel } from '../runtime/transformer.js';
import { checkProgram } from '../harness/check.js';

const src = (step: number) => `(module (memory 1)
  (func (export "acc") (param $n i32) (result i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.const ${step})))
      (i32.store (i32.const 8) (local.get $s))
      (local.set $n (i32.add (local.get $n) (i32.const -1)))
      (br_if $l (local.get $n)))
    (local.get $s)))`;

describe('checkProgram', () => {
  it('passes on the right program, including runs compared on a prefix', async () => {
    const m = await compile(src(3), { filename: 'acc.wat' });
    const model = await TransformerModel.load(m.onnx);
    const r = await checkProgram(model, m.ir, m.wasm, { cases: 6, maxSteps: 40, extraArgs: { acc: [[5], [30]] } });
    expect(r.failed).toBe(0);
    expect(r.tooLong).toBeGreaterThan(0); // random n runs far past 40 steps
    expect(r.passed).toBe(r.cases.length);
  });

  it('catches a wrong IR both on finished runs and on the prefix of long ones', async () => {
    const right = await compile(src(3), { filename: 'acc.wat' });
    const wrong = await compile(src(4), { filename: 'acc4.wat' });
    const model = await TransformerModel.load(right.onnx);
    const r = await checkProgram(model, wrong.ir, right.wasm, { cases: 6, maxSteps: 40, extraArgs: { acc: [[5], [30]] } });
    const finished = r.cases.filter((c) => !c.tooLong && !c.ok);
    const prefix = r.cases.filter((c) => c.tooLong && !c.ok);
    expect(finished.length).toBeGreaterThan(0);
    expect(finished[0].reason).toMatch(/IR interpreter .* != native/);
    expect(prefix.length).toBeGreaterThan(0);
    expect(prefix[0].reason).toMatch(/after 40 steps/);
  });
});
