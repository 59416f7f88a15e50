// wasm-samples/c/c_samples.ts — types and a checked loader for expected.json, the catalogue
// of the C samples (exports called on fixed i32 args) and the showcase programs (compute
// called on an input text), with outcomes computed natively by gen_expected.ts.
// Each sample/program is built at every level in OPT_LEVELS as <source-without-.c>.<level>.wasm;
// all levels must agree, so one expected outcome serves both.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const C_DIR: string = dirname(fileURLToPath(import.meta.url));
export const OPT_LEVELS = ['O0', 'O2'] as const;
export type OptLevel = (typeof OPT_LEVELS)[number];

export interface CCase {
  export: string;
  args: number[];
  results?: number[]; // present when the call returns
  trap?: string; // present when the call traps (spec wording)
}

export interface CSample {
  name: string;
  source: string; // .c, relative to wasm-samples/c/
  description: string;
  cases: CCase[];
}

export interface ShowcaseRun {
  input: string;
  output?: string; // what the program prints (filled by gen_expected.ts)
}

export interface ShowcaseProgram {
  name: string;
  source: string;
  description: string;
  runs: ShowcaseRun[];
}

export interface CCatalogue {
  samples: CSample[];
  showcase: ShowcaseProgram[];
}

/** Path of the module built from `source` at `opt`. */
export function wasmPath(source: string, opt: OptLevel): string {
  return join(C_DIR, source.replace(/\.c$/, `.${opt}.wasm`));
}

export function readWasm(source: string, opt: OptLevel): Uint8Array {
  return new Uint8Array(readFileSync(wasmPath(source, opt)));
}

function fail(what: string): never {
  throw new Error(`wasm-samples/c/expected.json: ${what}`);
}

function isI32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= -2147483648 && x <= 2147483647;
}

/** Reads expected.json; with `complete`, every case must carry its outcome. */
export function loadCatalogue(complete = true): CCatalogue {
  const raw = JSON.parse(readFileSync(join(C_DIR, 'expected.json'), 'utf8')) as CCatalogue;
  if (!Array.isArray(raw.samples) || !Array.isArray(raw.showcase)) fail('needs "samples" and "showcase" arrays');
  for (const s of raw.samples) {
    if (typeof s.name !== 'string' || typeof s.source !== 'string' || !Array.isArray(s.cases)) fail(`bad sample ${JSON.stringify(s.name)}`);
    for (const c of s.cases) {
      const where = `${s.name}.${c.export}(${String(c.args)})`;
      if (typeof c.export !== 'string' || !Array.isArray(c.args) || !c.args.every(isI32)) fail(`${where}: bad case`);
      if (complete && (c.results === undefined) === (c.trap === undefined)) fail(`${where}: needs exactly one of results, trap`);
      if (c.results !== undefined && !c.results.every(isI32)) fail(`${where}: results must be i32`);
    }
  }
  for (const p of raw.showcase) {
    if (typeof p.name !== 'string' || typeof p.source !== 'string' || !Array.isArray(p.runs)) fail(`bad showcase ${JSON.stringify(p.name)}`);
    for (const r of p.runs) {
      if (typeof r.input !== 'string') fail(`${p.name}: input must be a string`);
      if (complete && typeof r.output !== 'string') fail(`${p.name} on ${JSON.stringify(r.input)}: no output`);
    }
  }
  return raw;
}

/** expected.json text: one line per case/run, stable for diffs. */
export function formatCatalogue(cat: CCatalogue): string {
  const lines: string[] = ['{', '  "samples": ['];
  cat.samples.forEach((s, i) => {
    lines.push(`    { "name": ${JSON.stringify(s.name)}, "source": ${JSON.stringify(s.source)}, "description": ${JSON.stringify(s.description)}, "cases": [`);
    s.cases.forEach((c, k) => lines.push(`      ${JSON.stringify(c)}${k < s.cases.length - 1 ? ',' : ''}`));
    lines.push(`    ] }${i < cat.samples.length - 1 ? ',' : ''}`);
  });
  lines.push('  ],', '  "showcase": [');
  cat.showcase.forEach((p, i) => {
    lines.push(`    { "name": ${JSON.stringify(p.name)}, "source": ${JSON.stringify(p.source)}, "description": ${JSON.stringify(p.description)}, "runs": [`);
    p.runs.forEach((r, k) => lines.push(`      ${JSON.stringify(r)}${k < p.runs.length - 1 ? ',' : ''}`));
    lines.push(`    ] }${i < cat.showcase.length - 1 ? ',' : ''}`);
  });
  lines.push('  ]', '}', '');
  return lines.join('\n');
}
