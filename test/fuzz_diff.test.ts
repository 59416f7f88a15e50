// test/fuzz_diff.test.ts — `npm run fuzz -- diff` in small: extended random programs (the whole
// supported instruction set, calls, globals, br_table, memory.grow, traps, call-stack exhaustion)
// through native V8, the IR interpreter and the compiled transformer, which must agree on every
// call's results, trap, memory and globals, and on steps (transformer = IR). The corpus must
// really exercise what it claims. Also: the oracles' comparison catches a disagreement, and the
// delta debugger shrinks a failing case to a few lines that fail the same way. (.ci/run runs
// 500 programs.)

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiff, sameKind, signatureOf } from '../fuzz/diff.js';
import { fuzzDiff, generateCase, minimizeAndSave, DEFAULT_SIZE } from '../fuzz/diff_fuzz.js';
import { minimize, parseSExprs, printSExprs, smallerInts } from '../fuzz/minimize.js';
import { loadRegressions } from '../fuzz/regressions.js';
import { DiffPool } from '../fuzz/diff_pool.js';
import { watToWasmBytes, type GenFeatures } from './gen/random_program.js';

const PROGRAMS = 80;
const SEED = 20261202;

describe('fuzz diff: native = IR interpreter = transformer on random programs', () => {
  it(`${PROGRAMS} extended programs agree, and the corpus covers the instruction set`, { timeout: 1_800_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'wasmformer-diff-'));
    try {
      const r = await fuzzDiff({ seed: SEED, count: PROGRAMS, outDir: out, minimizeSeconds: 60 });
      const found = r.findings.map((f) => `case ${f.index}: ${f.finding.kind}: ${f.finding.detail}\n  saved: ${f.path ?? f.sameAs}\n${f.path ? readFileSync(f.path, 'utf8') : ''}`);
      expect(found).toEqual([]);
      expect(r.cases).toBe(PROGRAMS);
      expect(r.agreed).toBe(PROGRAMS);
      expect(readdirSync(out)).toEqual([]);
      // calls that return and calls that trap, with several trap kinds
      expect(r.outcomes.ok ?? 0).toBeGreaterThan(PROGRAMS);
      expect(Object.keys(r.outcomes)).toEqual(expect.arrayContaining(['ok', 'OutOfBounds', 'CallStackExhausted']));
      expect(Object.keys(r.outcomes).length).toBeGreaterThanOrEqual(4);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    // the same cases, regenerated: what they contain
    const uses: Record<keyof GenFeatures, number> = {} as Record<keyof GenFeatures, number>;
    for (let i = 0; i < PROGRAMS; i++) {
      const c = await generateCase(SEED, i);
      for (const [k, v] of Object.entries(c.program.features) as Array<[keyof GenFeatures, number]>) uses[k] = (uses[k] ?? 0) + (v > 0 ? 1 : 0);
    }
    for (const k of ['ops', 'loads', 'stores', 'narrowAccesses', 'loops', 'brIfs', 'brTables', 'valueBrTables', 'ifs', 'selects', 'globalOps', 'calls', 'deepCalls', 'memoryOps', 'paramBlocks', 'returns', 'dataSegments', 'wideOps'] as const) {
      expect(uses[k], k).toBeGreaterThanOrEqual(3);
    }
    expect(uses.outputs).toBe(0); // env.output_byte is not compiled by the transformer backend
  });

  it('cases are a function of seed and index', async () => {
    const a = await generateCase(7, 3);
    const b = await generateCase(7, 3);
    const c = await generateCase(7, 4);
    expect(b.wat).toBe(a.wat);
    expect(b.calls).toEqual(a.calls);
    expect(c.wat + JSON.stringify(c.calls)).not.toBe(a.wat + JSON.stringify(a.calls));
    expect(a.calls).toHaveLength(3);
    expect(DEFAULT_SIZE.stepLimit).toBeLessThanOrEqual(200);
  });
});

describe('fuzz diff: finding and minimizing a disagreement', () => {
  // Recursion 20 deep: V8 returns, while the IR interpreter and the transformer, run with a
  // call depth of 16, trap "call stack exhausted" — a disagreement runDiff must report.
  const deepWat = `(module
  (memory 1)
  (global $g (export "g") (mut i32) (i32.const 7))
  (func $other (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $down (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 1))
      (else (i32.add (call $down (i32.sub (local.get $n) (i32.const 1))) (i32.const 2)))))
  (func (export "main") (param $a i32) (param $b i32) (result i32)
    (i32.store (i32.const 8) (call $other (local.get $b)))
    (global.set $g (i32.add (global.get $g) (local.get $b)))
    (drop (i32.load (i32.const 8)))
    (i32.add (call $down (local.get $a)) (call $other (i32.const 5)))))
`;

  it('runDiff reports an IR trap native does not have, and agrees when the depth allows the recursion', async () => {
    const wasm = await watToWasmBytes(deepWat);
    const f = await runDiff({ wasm, exportName: 'main', calls: [[3, 1], [20, 2]], callDepth: 16 });
    expect(f?.kind).toBe('ir:trap');
    expect(f?.call).toBe(1);
    expect(await runDiff({ wasm, exportName: 'main', calls: [[3, 1], [20, 2]], callDepth: 64 })).toBeNull();
  }, 300_000);

  it('the delta debugger shrinks it to the recursion alone and saves a case the regression test can load', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wasmformer-min-'));
    try {
      const wasm = await watToWasmBytes(deepWat);
      const calls = [[3, 1], [20, 2]];
      const f = (await runDiff({ wasm, exportName: 'main', calls, callDepth: 16 }))!;
      const c = { wat: deepWat, wasm, exportName: 'main', calls, callDepth: 16 };
      const pool = new DiffPool();
      const saved = await minimizeAndSave(c, f, 'test/fuzz_diff.test.ts', { pool, minimizeSeconds: 600, outDir: out }).finally(() => pool.close());
      expect(saved.minimized?.timedOut).toBe(false);
      const [reg] = await loadRegressions(out);
      expect(reg?.open).toBe(true);
      expect(reg?.finding.kind).toBe('ir:trap');
      expect(reg?.calls).toHaveLength(1); // the first call is not needed
      const text = readFileSync(saved.path!, 'utf8');
      expect(text).not.toContain('$other'); // nor the unrelated function, store and global
      expect(text).not.toContain('global');
      expect(text).not.toContain('i32.store');
      expect(text.length).toBeLessThan(deepWat.length / 2);
      expect(sameKind(await runDiff({ wasm: reg!.wasm, exportName: 'main', calls: reg!.calls, callDepth: 16 }), f)).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 900_000);

  it('minimize keeps only what the test needs, and every accepted candidate validates', async () => {
    const c = await generateCase(11, 5, { maxChoices: 600, stepLimit: 200 });
    expect(c.wat).toContain('i32.');
    const needle = /i32\.(mul|add|sub|xor|and|or)/;
    expect(c.wat).toMatch(needle);
    let checked = 0;
    const r = await minimize({ wat: c.wat, calls: c.calls }, async (cand, wasm) => {
      checked++;
      expect(WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)).toBe(true);
      return needle.test(cand.wat);
    }, { deadline: performance.now() + 120_000, exportName: c.exportName });
    expect(r.timedOut).toBe(false);
    expect(checked).toBeGreaterThan(0);
    expect(r.wat).toMatch(needle);
    expect(r.calls).toHaveLength(1);
    expect(r.wat.length).toBeLessThan(200);
    expect(r.wat.length).toBeLessThan(c.wat.length);
  }, 300_000);

  it('S-expressions print back to equivalent WAT; numbers shrink towards 0; signatures blot out details', async () => {
    const text = '(module (func (export "f") (param i32) (result i32) ;; comment\n (i32.add (local.get 0) (i32.const -12)) (; block ;)))';
    const printed = printSExprs(parseSExprs(text), 40);
    expect(parseSExprs(printed)).toEqual(parseSExprs(text));
    expect(Buffer.from(await watToWasmBytes(printed)).equals(Buffer.from(await watToWasmBytes(text)))).toBe(true);
    expect(() => parseSExprs('(module')).toThrow(/not closed/);
    expect(smallerInts(100)).toEqual([0, 1, 50]);
    expect(smallerInts(-7)).toEqual([0, -1, -3]);
    expect(smallerInts(1)).toEqual([0]);
    expect(smallerInts(0)).toEqual([]);
    expect(signatureOf("i32.mul in block 12 has 3000 units (function 'f', byte offset 0x2a)")).toBe('i32.mul in block # has # units');
  });
});
