// test/random_programs.test.ts — property test: 200+ random programs, transformer vs native.
//
// fast-check draws programs in the supported subset (straight-line code,
// bounded countdown loops, nested blocks and branches, loads and stores at
// constant, loop-indexed and raw-parameter addresses, data segments) and
// argument tuples. Each program is compiled (op set and allocation checked),
// then every tuple runs batched through the transformer and, one by one,
// through the IR interpreter and V8; results, traps, steps and final memory
// must agree. A failure shrinks to a minimal program.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { arbArgs, arbProgram, watToWasmBytes } from './gen/random_program.js';
import { TransformerModel } from '../runtime/transformer.js';
import { checkProgram } from '../harness/check.js';
import { compileChecked } from './support/oracles.js';

describe('random programs: transformer = IR interpreter = native', () => {
  it('agrees on 220 random programs', async () => {
    let programs = 0;
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(
        arbProgram.chain((p) => fc.tuple(fc.constant(p), fc.array(arbArgs(p.params), { minLength: 4, maxLength: 8 }))),
        async ([prog, tuples]) => {
          const wasm = await watToWasmBytes(prog.wat);
          const m = await compileChecked(wasm, 'random.wasm');
          const model = await TransformerModel.load(m.onnx);
          const report = await checkProgram(model, m.ir, m.wasm, {
            cases: 0,
            extraArgs: { [prog.exportName]: tuples },
            argGen: { [prog.exportName]: () => [] },
            maxSteps: 1000,
          });
          programs++;
          compared += report.passed;
          const bad = report.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args.join(', ')}): ${c.reason}`);
          if (bad.length) throw new Error(`${prog.description}\n${prog.wat}\n${bad.join('\n')}`);
          expect(report.tooLong).toBe(0);
        },
      ),
      { numRuns: 220, seed: 20261129, endOnFailure: true },
    );
    expect(programs).toBeGreaterThanOrEqual(200);
    expect(compared).toBeGreaterThanOrEqual(800);
  }, 900_000);
});
