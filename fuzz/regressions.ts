// fuzz/regressions.ts — the saved differential findings under test/regressions/: reading and writing.
//
// Each case is NAME.wat (or NAME.wasm) beside NAME.json:
//   { "export": "main", "calls": [[1, 2], [0, 0]], "callDepth": 16,
//     "expect": [{ "results": [3], "trap": null }, ...],   native V8's outcome of each call
//     "finding": { "kind": "transformer:results", "signature": "", "detail": "..." },
//     "open": true,                                         the bug is not fixed yet
//     "origin": "npm run fuzz -- diff --seed 1 (case 17), minimized" }
// test/regressions.test.ts runs every case through the three oracles: a fixed case ("open":
// false) must agree everywhere and match "expect"; an open one must still fail the same way, so
// the suite stays green until someone fixes the bug, and then tells them to close the case.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watToWasmBytes } from '../test/gen/random_program.js';
import type { DiffFinding } from './diff.js';

export const REGRESSIONS_DIR = join(dirname(dirname(fileURLToPath(import.meta.url))), 'test', 'regressions');

export interface Expected {
  results: number[];
  trap: string | null;
}

export interface RegressionMeta {
  export: string;
  calls: number[][];
  callDepth: number;
  expect: Expected[];
  finding: Pick<DiffFinding, 'kind' | 'signature' | 'detail'>;
  open: boolean;
  origin: string;
}

export interface RegressionCase extends RegressionMeta {
  name: string;
  /** The .wat or .wasm file. */
  modulePath: string;
  wasm: Uint8Array;
}

function isIntMatrix(x: unknown): x is number[][] {
  return Array.isArray(x) && x.every((a) => Array.isArray(a) && a.every((v) => Number.isInteger(v) && v === (v | 0)));
}

/** Checks one parsed NAME.json; the message says which field is wrong. */
function checkMeta(x: unknown, file: string): RegressionMeta {
  const bad = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (typeof x !== 'object' || x === null) bad('is not a JSON object');
  const o = x as Record<string, unknown>;
  if (typeof o.export !== 'string') bad('"export" must be the name of the exported function');
  if (!isIntMatrix(o.calls) || o.calls.length === 0) bad('"calls" must be a non-empty list of i32 argument lists');
  if (!Number.isInteger(o.callDepth) || (o.callDepth as number) < 1) bad('"callDepth" must be a positive integer');
  const expect = o.expect;
  if (!Array.isArray(expect) || expect.length !== (o.calls as number[][]).length) bad('"expect" must have one entry per call');
  for (const e of expect as unknown[]) {
    const r = e as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || !isIntMatrix([r.results]) || !(r.trap === null || typeof r.trap === 'string')) bad('each "expect" entry is { "results": [i32...], "trap": string | null }');
  }
  const f = o.finding as Record<string, unknown> | undefined;
  if (!f || typeof f.kind !== 'string' || typeof f.signature !== 'string' || typeof f.detail !== 'string') bad('"finding" must have string "kind", "signature" and "detail"');
  if (typeof o.open !== 'boolean') bad('"open" must be true (not fixed yet) or false');
  if (typeof o.origin !== 'string') bad('"origin" must say where the case came from');
  return o as unknown as RegressionMeta;
}

/** Every saved case in `dir`, by name; throws (with the file) on a malformed or orphaned one. */
export async function loadRegressions(dir: string = REGRESSIONS_DIR): Promise<RegressionCase[]> {
  const files = readdirSync(dir);
  const out: RegressionCase[] = [];
  for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
    const name = f.slice(0, -'.json'.length);
    const meta = checkMeta(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
    const wat = join(dir, `${name}.wat`);
    const bin = join(dir, `${name}.wasm`);
    let wasm: Uint8Array;
    let modulePath: string;
    if (existsSync(wat)) {
      modulePath = wat;
      wasm = await watToWasmBytes(readFileSync(wat, 'utf8'));
    } else if (existsSync(bin)) {
      modulePath = bin;
      wasm = new Uint8Array(readFileSync(bin));
    } else {
      throw new Error(`${f}: neither ${name}.wat nor ${name}.wasm is beside it`);
    }
    out.push({ ...meta, name, modulePath, wasm });
  }
  for (const f of files.filter((x) => /\.(wat|wasm)$/.test(x))) {
    if (!files.includes(f.replace(/\.(wat|wasm)$/, '.json'))) throw new Error(`${f} has no expectation file ${f.replace(/\.(wat|wasm)$/, '.json')} beside it`);
  }
  return out;
}

/** Writes NAME.wat and NAME.json (NAME from the kind and a hash of the case); returns the .wat path. */
export function saveRegression(dir: string, wat: string, meta: RegressionMeta): string {
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(wat).update(JSON.stringify(meta.calls)).digest('hex').slice(0, 10);
  const name = `${meta.finding.kind.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${hash}`;
  const path = join(dir, `${name}.wat`);
  writeFileSync(path, wat);
  // two-space JSON, but lists of numbers (argument tuples, results) on one line
  const json = JSON.stringify(meta, null, 2).replace(/\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]/g, (_, xs: string) => `[${xs.split(/,\s*/).join(', ')}]`);
  writeFileSync(join(dir, `${name}.json`), json + '\n');
  return path;
}
