// test/spec_conformance.test.ts — the WebAssembly core spec test scripts through wasmformer.
//
// Reads the wast2json output in ../shared/spec-tests (relative to the repo
// root; never copied into the project) and walks every script with the
// harness in test/support/spec.ts: assert_return / assert_trap with i32
// values on supported functions run through the transformer (one instance
// per module, memory kept across invokes) and the IR interpreter, V8 runs the
// original module alongside; binary assert_invalid / assert_malformed modules
// must be rejected with a CompileError. Asserts zero mismatches and coverage
// floors (90% of what runs today), so a coverage regression fails too.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { watToWasm } from '../frontend/wat.js';
import { listScripts, runScript, specJsonDir, summaryTable, SPEC_DIR, type ScriptReport } from './support/spec.js';

/**
 * Assertions executed through the transformer per script, measured when this
 * test was written (total 129); the floors are 90% of these, rounded down.
 */
const MEASURED_RUN: Record<string, number> = {
  block: 12, br: 12, i32: 8, load: 11, local_get: 8, local_set: 8, loop: 11, memory_trap: 18, nop: 26, return: 9, store: 6,
};
const MEASURED_TOTAL_RUN = 129;
/** Binary assert_invalid / assert_malformed modules checked (all rejected) when measured. */
const MEASURED_REJECT_CHECKS = 563;
const floor90 = (n: number) => Math.floor(n * 0.9);

const jsonDir = specJsonDir();
const scripts = jsonDir instanceof Error ? [] : listScripts(jsonDir);
const reports: ScriptReport[] = [];

describe('WebAssembly core spec tests (transformer, IR interpreter, V8)', () => {
  it(`finds the spec test scripts in ${SPEC_DIR}`, () => {
    if (jsonDir instanceof Error) throw jsonDir;
    expect(scripts.length).toBeGreaterThan(0);
  });

  for (const script of scripts) {
    it(script, async () => {
      const r = await runScript(jsonDir as string, script);
      reports.push(r);
      expect(r.mismatches).toEqual([]);
      expect(r.passed).toBe(r.run);
      expect(r.run).toBeGreaterThanOrEqual(floor90(MEASURED_RUN[script] ?? 0));
    });
  }

  it('keeps its coverage', () => {
    const run = reports.reduce((s, r) => s + r.run, 0);
    const rejects = reports.reduce((s, r) => s + r.rejectPassed, 0);
    expect(run, 'assertions executed through the transformer').toBeGreaterThanOrEqual(floor90(MEASURED_TOTAL_RUN));
    expect(rejects, 'invalid/malformed modules rejected').toBeGreaterThanOrEqual(floor90(MEASURED_REJECT_CHECKS));
    for (const [name, n] of Object.entries(MEASURED_RUN)) {
      expect(scripts, `spec script ${name} is missing`).toContain(name);
      expect(reports.find((r) => r.script === name)?.run ?? 0, `${name}: assertions run`).toBeGreaterThanOrEqual(floor90(n));
    }
  });

  afterAll(() => {
    if (reports.length === 0) return;
    const reasons = new Map<string, number>();
    for (const r of reports) for (const [k, n] of r.unsupportedReasons) reasons.set(k, (reasons.get(k) ?? 0) + n);
    const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(
      `\nspec conformance (modules full = compiled whole, partial = compiled for its supported exports only)\n${summaryTable(reports)}\n` +
        `\nmost common reasons a module/function is unsupported:\n${top.map(([k, n]) => `  ${String(n).padStart(4)}  ${k}`).join('\n')}\n`,
    );
  });
});

describe('spec harness self-check', () => {
  it('explains a missing spec-tests directory', () => {
    const r = specJsonDir(join(tmpdir(), 'no-such-spec-tests'));
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(/spec tests not found: expected wast2json output in .*no-such-spec-tests/);
  });

  it('keeps memory across invokes, resyncs after skipped stores, and reports a wrong expectation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmformer-spec-'));
    try {
      const script = 'selfcheck';
      mkdirSync(join(dir, script));
      const wasm = await watToWasm(`(module (memory 1)
        (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
        (func (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
        (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1))))`);
      writeFileSync(join(dir, script, 'm.0.wasm'), wasm);
      // (func (result i32)) with an empty body: well-formed but invalid
      writeFileSync(join(dir, script, 'm.1.wasm'), Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b]));
      writeFileSync(join(dir, script, 'm.2.wasm'), Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0])); // truncated
      const i32 = (v: number) => ({ type: 'i32', value: String(v >>> 0) });
      const inv = (field: string, args: Array<{ type: string; value: string }>) => ({ type: 'invoke', field, args });
      const commands = [
        { type: 'module', line: 1, filename: 'm.0.wasm' },
        { type: 'assert_return', line: 2, action: inv('store', [i32(8), i32(42)]), expected: [] },
        { type: 'assert_return', line: 3, action: inv('load', [i32(8)]), expected: [i32(42)] },
        { type: 'assert_return', line: 4, action: inv('load', [i32(8)]), expected: [i32(43)] }, // wrong on purpose
        { type: 'assert_trap', line: 5, action: inv('load', [i32(65533)]), text: 'out of bounds memory access' },
        { type: 'assert_return', line: 6, action: inv('mul', [i32(2), i32(3)]), expected: [i32(6)] },
        { type: 'assert_return', line: 7, action: inv('store64', [i32(16), { type: 'i64', value: String(5n * 2n ** 32n + 7n) }]), expected: [] },
        { type: 'assert_return', line: 8, action: inv('load', [i32(16)]), expected: [i32(7)] },
        { type: 'assert_return', line: 9, action: inv('load', [i32(20)]), expected: [i32(5)] },
        { type: 'assert_return', line: 10, action: inv('load', [i32(8)]), expected: [i32(42)] },
        { type: 'assert_invalid', line: 11, filename: 'm.1.wasm', text: 'type mismatch', module_type: 'binary' },
        { type: 'assert_malformed', line: 12, filename: 'm.2.wasm', text: 'unexpected end', module_type: 'binary' },
      ];
      writeFileSync(join(dir, script, `${script}.json`), JSON.stringify({ source_filename: 'selfcheck.wast', commands }));
      const r = await runScript(dir, script);
      expect(r.modulesPartial).toBe(1);
      expect(r.run).toBe(7);
      expect(r.batched).toBe(6); // loads 3-5 and 8-10: two batches (the export never stores)
      expect(r.skipped['function unsupported']).toBe(2);
      expect(r.resynced).toBe(1);
      expect(r.rejectPassed).toBe(2);
      expect(r.mismatches).toHaveLength(1);
      expect(r.mismatches[0]).toMatch(/^selfcheck:4 load\(8\): expected \[43\]; IR interpreter \[42\]; transformer \[42\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
