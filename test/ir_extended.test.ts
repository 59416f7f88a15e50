// test/ir_extended.test.ts — random programs over the whole supported instruction set
// (test/gen/random_program.ts, `extended: true`): arithmetic, bits, comparisons, select,
// if/else, br_table, globals, calls and recursion, 8/16-bit memory accesses, memory.grow,
// output bytes and traps), each run natively (V8) and by the IR interpreter on one
// instance for several calls: results, traps, memory, globals and output must agree,
// and the IR's step count stays within the generator's bound. The localized IR (every
// block self-contained, calls carrying their frame) verifies and behaves the same.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileToIR } from '../frontend/index.js';
import { IRInstance } from '../ir/interp.js';
import { localizeModule } from '../ir/localize.js';
import { verifyModule } from '../ir/verify.js';
import { instDst, instUses, termUses, type Module } from '../ir/ir.js';
import { NativeInstance } from '../harness/native.js';
import { arbArgs, arbChoices, generateProgram, watToWasmBytes } from './gen/random_program.js';

const RUNS = 320;

/** After localize, every value a block uses is one of its params or defined earlier in it. */
function selfContained(m: Module): void {
  for (const f of m.funcs) {
    f.blocks.forEach((b, i) => {
      const known = new Set(b.params);
      const check = (v: number): void => { expect(known.has(v), `${f.name} block${i} uses v${v}`).toBe(true); };
      for (const inst of b.insts) {
        instUses(inst).forEach(check);
        const d = instDst(inst);
        if (d !== null) known.add(d);
      }
      termUses(b.term).forEach(check);
    });
  }
}

describe('extended random programs: IR interpreter vs native', () => {
  it(`${RUNS} programs agree on results, traps, memory, globals and output`, async () => {
    const seen = { traps: new Set<string>(), calls: 0, outputs: 0, brTables: 0, grows: 0 };
    const arb = arbChoices.chain((choices) => {
      const p = generateProgram(choices, { extended: true });
      return fc.tuple(fc.constant(p), fc.array(arbArgs(p.params), { minLength: 3, maxLength: 3 }));
    });
    await fc.assert(
      fc.asyncProperty(arb, async ([p, argLists]) => {
        const wasm = await watToWasmBytes(p.wat);
        const { ir } = await compileToIR(wasm);
        const native = await NativeInstance.create(wasm);
        const mine = new IRInstance(ir);
        const local: Module = localizeModule(ir);
        verifyModule(local);
        selfContained(local);
        const localized = new IRInstance(local);
        for (const args of argLists) {
          const n = native.invoke(p.exportName, args);
          const m = mine.invoke(p.exportName, args);
          const l = localized.invoke(p.exportName, args);
          expect({ ...l, memory: null }).toEqual({ ...m, memory: null });
          const ctx = `${p.description}\nargs ${args.join(', ')}\n${p.wat}`;
          expect({ results: m.results, trap: m.trap, trapCode: m.trapCode, output: m.output }, ctx)
            .toEqual({ results: n.results, trap: n.trap, trapCode: n.trapCode, output: n.output });
          expect(Buffer.from(m.memory).equals(Buffer.from(n.memory)), `memory differs\n${ctx}`).toBe(true);
          for (const g of ['g0', 'g1', 'k0']) expect(mine.global(g), `global ${g}\n${ctx}`).toBe(native.global(g));
          expect(m.steps, ctx).toBeLessThanOrEqual(p.stepBound + 1);
          if (m.trap) seen.traps.add(m.trap);
          seen.outputs += m.output.length;
        }
        seen.calls += p.features.calls;
        seen.brTables += p.features.brTables;
        seen.grows += p.features.memoryOps;
      }),
      { numRuns: RUNS, seed: 20261201 },
    );
    // the generator really covers the instruction set (a degenerate one would pass trivially)
    expect([...seen.traps].sort()).toEqual(expect.arrayContaining(['integer divide by zero', 'out of bounds memory access', 'unreachable']));
    expect(seen.calls).toBeGreaterThan(50);
    expect(seen.outputs).toBeGreaterThan(50);
    expect(seen.brTables).toBeGreaterThan(20);
    expect(seen.grows).toBeGreaterThan(20);
  }, 300_000);
});
