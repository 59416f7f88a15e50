// wasm-samples/c/gen_expected.ts — recompute every outcome in expected.json natively (Node's
// WebAssembly, V8, through harness/io.ts) and rewrite the file: each sample case's results or
// trap, each showcase run's output. Every case runs on a fresh instance at -O0 and at -O2, and
// the two must agree (a disagreement is a bug in a sample, and stops the script).
// Run: npx tsx wasm-samples/c/gen_expected.ts   (or: bash wasm-samples/c/build.sh --expected)

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoProgram } from '../../harness/io.js';
import { C_DIR, OPT_LEVELS, formatCatalogue, loadCatalogue, readWasm, type CCase } from './c_samples.js';

async function programs(source: string): Promise<IoProgram[]> {
  return Promise.all(OPT_LEVELS.map((o) => IoProgram.compile(readWasm(source, o))));
}

async function main(): Promise<void> {
  const cat = loadCatalogue(false);
  let n = 0;
  for (const s of cat.samples) {
    const progs = await programs(s.source);
    for (const c of s.cases) {
      const outs: CCase[] = [];
      for (const p of progs) {
        const o = await p.run({ invoke: c.export, args: c.args });
        if (o.output.length > 0) throw new Error(`${s.name}.${c.export}: samples must not print`);
        outs.push(o.trap !== null ? { export: c.export, args: c.args, trap: o.trap } : { export: c.export, args: c.args, results: o.results });
      }
      if (JSON.stringify(outs[0]) !== JSON.stringify(outs[1])) {
        throw new Error(`${s.name}: -O0 and -O2 disagree: ${JSON.stringify(outs)}`);
      }
      delete c.results;
      delete c.trap;
      Object.assign(c, outs[0]);
      n++;
    }
  }
  for (const p of cat.showcase) {
    const progs = await programs(p.source);
    for (const r of p.runs) {
      const texts: string[] = [];
      for (const prog of progs) {
        const o = await prog.run({ invoke: 'compute', args: ['@input'], input: r.input });
        if (o.trap !== null) throw new Error(`${p.name} on ${JSON.stringify(r.input)}: trap ${o.trap}`);
        texts.push(o.text);
      }
      if (texts[0] !== texts[1]) throw new Error(`${p.name} on ${JSON.stringify(r.input)}: -O0 and -O2 disagree`);
      r.output = texts[0]!;
      n++;
    }
  }
  writeFileSync(join(C_DIR, 'expected.json'), formatCatalogue(cat));
  console.log(`expected.json: ${n} outcomes (each agreed at ${OPT_LEVELS.join(' and ')})`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
