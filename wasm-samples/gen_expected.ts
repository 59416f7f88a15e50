// wasm-samples/gen_expected.ts — recompute every case's expected outcome in
// samples.json natively (Node's WebAssembly, i.e. V8) and rewrite the file, so
// expected values never come from hand arithmetic. Also checks that each
// export's declared params/results match the module.
// Run: npx tsx wasm-samples/gen_expected.ts   (or: bash wasm-samples/build.sh --expected)

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeInstance, runNative } from '../harness/native.js';
import { SAMPLES_DIR, formatSamples, sampleWasm, type Sample, type SampleCase } from './samples.js';

/** Lenient load: cases may lack results (new cases being added). */
function loadDraft(): Sample[] {
  const raw = JSON.parse(readFileSync(join(SAMPLES_DIR, 'samples.json'), 'utf8')) as Sample[];
  return raw;
}

async function main(): Promise<void> {
  const samples = loadDraft();
  let changed = 0;
  let total = 0;
  for (const s of samples) {
    const wasm = sampleWasm(s);
    const probe = await NativeInstance.create(wasm);
    for (const e of s.exports) {
      if (!probe.exports().includes(e.name)) throw new Error(`${s.name}: no export ${e.name}`);
      const arity = probe.paramCount(e.name);
      if (arity !== e.params) throw new Error(`${s.name}.${e.name}: declared ${e.params} params, module has ${arity}`);
      const fresh: SampleCase[] = [];
      for (const c of e.cases) {
        const out = await runNative(wasm, e.name, c.args);
        total++;
        let next: SampleCase;
        if (out.trap !== null) {
          next = { args: c.args, trap: out.trap };
        } else {
          if (out.results.length !== e.results) {
            throw new Error(`${s.name}.${e.name}: declared ${e.results} results, got ${out.results.length}`);
          }
          next = { args: c.args, results: out.results };
        }
        if (JSON.stringify(next) !== JSON.stringify({ args: c.args, ...(c.trap !== undefined ? { trap: c.trap } : { results: c.results }) })) {
          changed++;
        }
        fresh.push(next);
      }
      e.cases = fresh;
    }
  }
  writeFileSync(join(SAMPLES_DIR, 'samples.json'), formatSamples(samples));
  console.log(`samples.json: ${total} cases over ${samples.length} samples, ${changed} updated`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
