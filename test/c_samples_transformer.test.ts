// test/c_samples_transformer.test.ts — every C sample (wasm-samples/c/, clang -O0 and -O2) through
// the compiled transformer and the IR interpreter against native.
//
// expected.json holds each case's native outcome (gen_expected.ts, checked against V8 and
// independent JS models by c_samples_native.test.ts). Here each module is compiled without
// flags and every case runs through the IR interpreter of the compiled module; the cases of up to
// TRANSFORMER_STEPS steps (and each export's shortest case, whatever its length) also run through
// the transformer (one runBatch per export, a fresh memory per case). Results, traps and step
// counts must equal native's. (All 446 cases through the transformer took 17 minutes on 2 loaded
// cores with 0 mismatches; the long ones are the -O0 loops.) The showcase programs
// (compute(input) with output) run in the demo and the bench; their short inputs run here too.

import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { interpret } from '../ir/interp.js';
import { initialMemory } from '../ir/ir.js';
import { TransformerModel } from '../runtime/transformer.js';
import { OPT_LEVELS, loadCatalogue, readWasm, type CCase } from '../wasm-samples/c/c_samples.js';
import { inputImage } from '../format/io.js';

const catalogue = loadCatalogue();
/** Cases longer than this (in steps) run through the IR interpreter only (see the header). */
const TRANSFORMER_STEPS = 3000;
const show = (o: { trap: string | null; results: number[] }) => (o.trap ? `trap: ${o.trap}` : o.results.join(', '));
const expected = (c: CCase) => (c.trap ? `trap: ${c.trap}` : (c.results ?? []).join(', '));

describe('C samples through the transformer and the IR interpreter = native', () => {
  for (const s of catalogue.samples) {
    for (const opt of OPT_LEVELS) {
      it(`${s.name}.${opt}: ${s.cases.length} cases`, { timeout: 600_000 }, async () => {
        const m = await compile(readWasm(s.source, opt), { filename: `${s.name}.${opt}.wasm` });
        const model = await TransformerModel.load(m.onnx);
        const byExport = new Map<string, CCase[]>();
        for (const c of s.cases) byExport.set(c.export, [...(byExport.get(c.export) ?? []), c]);
        for (const [name, all] of byExport) {
          const irs = all.map((c) => {
            const ir = interpret(m.ir, name, c.args, { memory: initialMemory(m.ir) });
            expect(show(ir), `${s.name}.${opt} ${name}(${c.args.join(', ')}) IR interpreter`).toBe(expected(c));
            return ir;
          });
          const shortest = irs.reduce((k, r, i) => (r.steps < irs[k]!.steps ? i : k), 0);
          const run = all.map((_, i) => i).filter((i) => irs[i]!.steps <= TRANSFORMER_STEPS || i === shortest);
          const outs = await model.runBatch(name, run.map((i) => all[i]!.args), run.map(() => model.newMemory()));
          run.forEach((ci, k) => {
            const c = all[ci]!;
            const at = `${s.name}.${opt} ${name}(${c.args.join(', ')})`;
            expect(show(outs[k]!), `${at} transformer`).toBe(expected(c));
            expect(outs[k]!.steps, `${at} steps`).toBe(irs[ci]!.steps);
          });
        }
      });
    }
  }
});

describe('showcase programs on their short inputs', () => {
  for (const p of catalogue.showcase) {
    const runs = p.runs.filter((r) => r.input.length <= 12 && (r.output ?? '').length <= 64);
    if (runs.length === 0) continue;
    it(`${p.name}.O2: ${runs.map((r) => JSON.stringify(r.input)).join(', ')}`, { timeout: 600_000 }, async () => {
      const m = await compile(readWasm(p.source, 'O2'), { filename: `${p.name}.O2.wasm` });
      const model = await TransformerModel.load(m.onnx);
      const at = model.inputAddress();
      expect(at, 'the program exports __heap_base').not.toBeNull();
      const mems = runs.map((r) => {
        const mem = model.newMemory();
        mem.write(model.layout.memory!, at!, inputImage(r.input));
        return mem;
      });
      const outs = await model.runBatch('compute', runs.map(() => [at!]), mems, { maxSteps: 200_000 });
      runs.forEach((r, i) => {
        expect(outs[i]!.trap, `${p.name}(${JSON.stringify(r.input)})`).toBeNull();
        expect(new TextDecoder().decode(outs[i]!.output), `${p.name}(${JSON.stringify(r.input)})`).toBe(r.output);
      });
    });
  }
});
