// test/samples_transformer.test.ts — every sample through transformer, IR interpreter and native.
//
// For each sample: compile (op-set and allocation checker asserted), run the
// hand-picked cases of samples.json and 55+ random tuples inside argRanges
// (plus edge tuples where the range allows) through all three oracles,
// comparing results, traps, step counts (transformer vs IR) and final memory.

import { describe, expect, it } from 'vitest';
import { loadSamples, sampleWasm, type ArgRange } from '../wasm-samples/samples.js';
import { TransformerModel } from '../runtime/transformer.js';
import { checkProgram, prng } from '../harness/check.js';
import { argsFor, compileChecked } from './support/oracles.js';

const samples = loadSamples();

/** Every tuple of a small argument domain, or null when it has more than `limit` tuples. */
function enumerate(ranges: ArgRange[], limit: number): number[][] | null {
  let out: number[][] = [[]];
  for (const r of ranges) {
    if (r === 'any' || r[1] - r[0] + 1 > limit) return null;
    const next: number[][] = [];
    for (const t of out) for (let x = r[0]; x <= r[1]; x++) next.push([...t, x]);
    if (next.length > limit) return null;
    out = next;
  }
  return out;
}

function distinct(gen: () => number[], n: number): number[][] {
  const seen = new Map<string, number[]>();
  for (let tries = 0; seen.size < n && tries < 100 * n; tries++) {
    const t = gen();
    seen.set(t.join(), t);
  }
  return [...seen.values()];
}

describe('samples: transformer = IR interpreter = native', () => {
  for (const sample of samples) {
    it(sample.name, async () => {
      const wasm = sampleWasm(sample);
      const m = await compileChecked(wasm, sample.file);
      const model = await TransformerModel.load(m.onnx);
      expect(m.stats.layers).toBeGreaterThanOrEqual(m.stats.criticalPath);
      expect(m.stats.dModel).toBeGreaterThanOrEqual(m.stats.maxLive);
      expect(m.stats.dModel).toBeLessThanOrEqual(m.stats.naiveSlots);
      const argGen: Record<string, (r: () => number) => number[]> = {};
      const extraArgs: Record<string, number[][]> = {};
      for (const ex of sample.exports) {
        // small argument domains are enumerated; larger ones sampled until 55 distinct tuples
        const all = enumerate(ex.argRanges, 64);
        const rand = prng(11);
        const tuples = all ?? distinct(() => argsFor(ex.argRanges, rand), 55);
        argGen[ex.name] = () => [];
        extraArgs[ex.name] = [...ex.cases.map((c) => c.args), ...tuples];
      }
      const report = await checkProgram(model, m.ir, m.wasm, { cases: 0, seed: 7, argGen, extraArgs, maxSteps: 5000 });
      // evicting superseded cache rows is an optimisation that must not change any result
      const evicted = await checkProgram(model, m.ir, m.wasm, { cases: 0, seed: 7, argGen, extraArgs, maxSteps: 5000, evict: true });
      expect(evicted.cases.filter((c) => !c.ok).map((c) => `evict: ${c.export}(${c.args.join(', ')}): ${c.reason}`)).toEqual([]);
      const failures = report.cases.filter((c) => !c.ok).map((c) => `${c.export}(${c.args.join(', ')}): ${c.reason}`);
      expect(failures).toEqual([]);
      // every hand-picked case matches its recorded expectation (from V8)
      for (const ex of sample.exports) {
        for (const c of ex.cases) {
          const r = report.cases.find((x) => x.export === ex.name && x.args.join() === c.args.join());
          expect(r, `${ex.name}(${c.args.join(', ')}) was run`).toBeDefined();
          if (r!.tooLong) continue;
          expect(r!.transformer?.trap ?? null).toBe(c.trap ?? null);
          if (!c.trap) expect(r!.transformer?.results).toEqual(c.results);
        }
      }
      // at least 50 compared tuples per export (or its whole argument domain)
      for (const ex of sample.exports) {
        const domain = enumerate(ex.argRanges, 64)?.length ?? Infinity;
        expect(report.cases.filter((c) => c.export === ex.name && !c.tooLong).length).toBeGreaterThanOrEqual(Math.min(50, domain));
      }
    });
  }
});
