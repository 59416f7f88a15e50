// wasm-samples/samples.ts — types and a checked loader for samples.json, the
// catalogue of hand-written sample programs and their natively verified cases.
//
// Each sample names a .wasm (built from .wat by build.sh) and lists its exports;
// every export has `argRanges` (per param: "any" = full i32 range, or [lo, hi]
// inclusive signed bounds that keep loop counts small) and hand-picked `cases`
// whose expected outcome (results as signed i32, or a trap message) was
// computed natively by gen_expected.ts. Each case assumes a fresh instance.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ArgRange = 'any' | [number, number];

export interface SampleCase {
  args: number[];
  results?: number[]; // present when the call returns
  trap?: string; // present when the call traps (spec wording)
}

export interface SampleExport {
  name: string;
  params: number;
  results: number;
  argRanges: ArgRange[];
  cases: SampleCase[];
}

export interface Sample {
  name: string;
  file: string; // .wasm, relative to wasm-samples/
  source: string; // .wat, relative to wasm-samples/
  description: string;
  exports: SampleExport[];
}

/** Absolute path of the wasm-samples directory. */
export const SAMPLES_DIR: string = dirname(fileURLToPath(import.meta.url));

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

function isI32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= I32_MIN && x <= I32_MAX;
}

function fail(where: string, what: string): never {
  throw new Error(`samples.json: ${where}: ${what}`);
}

function checkRange(r: unknown, where: string): ArgRange {
  if (r === 'any') return 'any';
  if (Array.isArray(r) && r.length === 2 && isI32(r[0]) && isI32(r[1]) && r[0] <= r[1]) {
    return [r[0], r[1]];
  }
  return fail(where, `bad argRange ${JSON.stringify(r)}`);
}

function checkCase(c: unknown, ex: { params: number; results: number }, where: string): SampleCase {
  if (typeof c !== 'object' || c === null) fail(where, 'case is not an object');
  const o = c as Record<string, unknown>;
  const args = o['args'];
  if (!Array.isArray(args) || args.length !== ex.params || !args.every(isI32)) {
    fail(where, `args must be ${ex.params} signed i32 values`);
  }
  const out: SampleCase = { args: [...(args as number[])] };
  if (o['trap'] !== undefined) {
    if (typeof o['trap'] !== 'string') fail(where, 'trap must be a string');
    if (o['results'] !== undefined) fail(where, 'a case has either results or trap');
    out.trap = o['trap'];
  } else {
    const res = o['results'];
    if (!Array.isArray(res) || res.length !== ex.results || !res.every(isI32)) {
      fail(where, `results must be ${ex.results} signed i32 values`);
    }
    out.results = [...(res as number[])];
  }
  return out;
}

/** Parse and validate samples.json text. */
export function parseSamples(text: string): Sample[] {
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) fail('top level', 'expected an array');
  return raw.map((s: unknown, si: number): Sample => {
    if (typeof s !== 'object' || s === null) fail(`sample #${si}`, 'not an object');
    const o = s as Record<string, unknown>;
    const name = o['name'];
    if (typeof name !== 'string') fail(`sample #${si}`, 'missing name');
    for (const k of ['file', 'source', 'description'] as const) {
      if (typeof o[k] !== 'string') fail(name, `missing ${k}`);
    }
    const exportsRaw = o['exports'];
    if (!Array.isArray(exportsRaw) || exportsRaw.length === 0) fail(name, 'no exports');
    const exports = exportsRaw.map((e: unknown): SampleExport => {
      if (typeof e !== 'object' || e === null) fail(name, 'export is not an object');
      const eo = e as Record<string, unknown>;
      const en = eo['name'];
      const params = eo['params'];
      const results = eo['results'];
      if (typeof en !== 'string') fail(name, 'export without name');
      const where = `${name}.${en}`;
      if (!Number.isInteger(params) || !Number.isInteger(results)) fail(where, 'params/results must be integers');
      const ranges = eo['argRanges'];
      if (!Array.isArray(ranges) || ranges.length !== params) fail(where, 'argRanges must have one entry per param');
      const cases = eo['cases'];
      if (!Array.isArray(cases) || cases.length === 0) fail(where, 'no cases');
      const shape = { params: params as number, results: results as number };
      return {
        name: en,
        params: shape.params,
        results: shape.results,
        argRanges: ranges.map((r: unknown) => checkRange(r, where)),
        cases: cases.map((c: unknown, ci: number) => checkCase(c, shape, `${where} case #${ci}`)),
      };
    });
    return {
      name,
      file: o['file'] as string,
      source: o['source'] as string,
      description: o['description'] as string,
      exports,
    };
  });
}

/** Load wasm-samples/samples.json. */
export function loadSamples(): Sample[] {
  return parseSamples(readFileSync(join(SAMPLES_DIR, 'samples.json'), 'utf8'));
}

/** The bytes of a sample's .wasm file. */
export function sampleWasm(sample: Sample): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(join(SAMPLES_DIR, sample.file)));
}

/** Serialise samples.json: readable, with each case on one line. */
export function formatSamples(samples: Sample[]): string {
  const lines: string[] = ['['];
  samples.forEach((s, si) => {
    lines.push('  {');
    lines.push(`    "name": ${JSON.stringify(s.name)},`);
    lines.push(`    "file": ${JSON.stringify(s.file)},`);
    lines.push(`    "source": ${JSON.stringify(s.source)},`);
    lines.push(`    "description": ${JSON.stringify(s.description)},`);
    lines.push('    "exports": [');
    s.exports.forEach((e, ei) => {
      lines.push('      {');
      lines.push(`        "name": ${JSON.stringify(e.name)},`);
      lines.push(`        "params": ${e.params},`);
      lines.push(`        "results": ${e.results},`);
      lines.push(`        "argRanges": ${JSON.stringify(e.argRanges)},`);
      lines.push('        "cases": [');
      e.cases.forEach((c, ci) => {
        const obj = c.trap !== undefined ? { args: c.args, trap: c.trap } : { args: c.args, results: c.results };
        lines.push(`          ${JSON.stringify(obj).replace(/,"/g, ', "').replace(/":/g, '": ')}${ci < e.cases.length - 1 ? ',' : ''}`);
      });
      lines.push('        ]');
      lines.push(`      }${ei < s.exports.length - 1 ? ',' : ''}`);
    });
    lines.push('    ]');
    lines.push(`  }${si < samples.length - 1 ? ',' : ''}`);
  });
  lines.push(']');
  return lines.join('\n') + '\n';
}
