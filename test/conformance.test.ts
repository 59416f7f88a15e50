// test/conformance.test.ts — the spec-test runner (conformance/) on its own small script.
//
// test/fixtures/conformance/tiny.wast says in a comment what each command's verdict must
// be; its wast2json output is committed in tiny/ (so no ../shared and no wabt are needed),
// and regenerated here when wast2json is installed, to keep the two in step. The counts
// are exact, so miscounting passed / failed / unsupported / rejects fails the test; the CLI
// is run once to check its last line, its exit status and its silence when piped.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listScripts, loadScript, resolveSuiteDir, type SpecScript } from '../conformance/script.js';
import { reasonOf, runScript, type ScriptReport } from '../conformance/spec.js';
import { finalLine, formatReport, totals } from '../conformance/report.js';
import { CompileError } from '../format/errors.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = join(ROOT, 'test/fixtures/conformance');
const MAX_STEPS = 200; // tiny's "spin" needs far more: its assert fails on the step limit

function tinyScript(dir: string): SpecScript {
  const refs = listScripts(dir);
  expect(refs.map((r) => r.name)).toEqual(['tiny']);
  const s = loadScript(refs[0]!);
  if (s instanceof Error) throw s;
  return s;
}

function hasWast2json(): boolean {
  return spawnSync('wast2json', ['--version'], { stdio: 'ignore' }).status === 0;
}

function expectTinyVerdicts(r: ScriptReport): void {
  expect({ passed: r.passed, failed: r.failed, unsupported: r.unsupported }).toEqual({ passed: 13, failed: 3, unsupported: 3 });
  expect(r.unsupportedI32).toBe(2);
  expect([...r.reasonsI32.values()].reduce((a, b) => a + b, 0)).toBe(2);
  expect(r.memoryCopies).toBe(1); // store64 ran on V8 only; load then read V8's memory
  expect({ checks: r.rejectChecks, passed: r.rejectPassed }).toEqual({ checks: 4, passed: 3 });
  expect(r.failures).toHaveLength(3);
  expect(r.failures[0]).toBe('tiny:22 assert_return add(2, 2): expected [5]; transformer gives [4]; native gives [4]');
  expect(r.failures[1]).toMatch(/^tiny:27 assert_exhaustion spin\(1000000\): expected trap "call stack exhausted"; transformer: RunError: step limit/);
  expect(r.failures[2]).toBe('tiny:44 assert_invalid tiny.3.wasm: module accepted (expected "a valid module")');
  const reasons = [...r.reasons.keys()].sort();
  expect(reasons).toHaveLength(3);
  expect(reasons[0]).toBe('non-i32 signature (f64)');
  expect(reasons[1]).toBe('state diverged: a call we could not run changed an exported global');
  expect(reasons[2]).toMatch(/^unsupported: [^(]*i32\.trunc_f32_s[^(]*$/); // the CompileError's cause, no location
  // V8 agrees with the script except where the script is wrong on purpose (lines 22 and 27)
  expect(r.oracleNotes.map((n) => n.split(' ')[0])).toEqual(['tiny:22', 'tiny:27']);
  // every assert that ran went through the transformer: add x4, store x2, load x4, spin, dead
  expect(r.invokes).toBe(12);
}

describe('conformance runner', () => {
  it('gives every command of tiny.wast the verdict its comment states', async () => {
    expectTinyVerdicts(await runScript(tinyScript(join(FIXTURE, 'tiny')), { maxSteps: MAX_STEPS }));
  });

  it('has committed wast2json output that matches tiny.wast', async () => {
    const wast = readFileSync(join(FIXTURE, 'tiny.wast'), 'utf8').split('\n');
    const committed = tinyScript(join(FIXTURE, 'tiny'));
    for (const c of committed.commands) {
      const kind = c.type === 'action' ? 'invoke' : c.type;
      expect(wast[c.line - 1]!.trimStart().startsWith(`(${kind}`), `tiny.wast:${c.line} is not a ${kind}`).toBe(true);
    }
    if (!hasWast2json()) return; // the line check above still holds
    const out = mkdtempSync(join(tmpdir(), 'wasmformer-conf-'));
    try {
      execFileSync('wast2json', [join(FIXTURE, 'tiny.wast'), '-o', join(out, 'tiny.json')]);
      const fresh = tinyScript(out);
      expect(fresh.commands).toEqual(committed.commands);
      for (const f of readdirSync(out).filter((n) => n !== 'tiny.json')) {
        expect(readFileSync(join(out, f)), f).toEqual(readFileSync(join(FIXTURE, 'tiny', f)));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('reads both wast2json layouts and explains a missing suite in one line', () => {
    expect(resolveSuiteDir(FIXTURE)).toBe(FIXTURE); // DIR/NAME/NAME.json
    expect(resolveSuiteDir(join(FIXTURE, 'tiny'))).toBe(join(FIXTURE, 'tiny')); // DIR/NAME.json
    const missing = resolveSuiteDir(join(tmpdir(), 'no-such-spec-tests'));
    expect(missing).toBeInstanceOf(Error);
    expect((missing as Error).message).toMatch(/^spec tests not found: .*no-such-spec-tests is not a directory/);
    expect((missing as Error).message).not.toContain('\n');
  });

  it('counts a CompileError by its cause, not its location', () => {
    const e = new CompileError('unsupported: instruction i64.const; wasmformer supports only i32.const, i32.add', {
      instruction: 'i64.const', func: 'func[3]', offset: 0x2a,
    });
    expect(reasonOf(e)).toBe('unsupported: instruction i64.const');
    expect(reasonOf(new CompileError('validation failed: type mismatch', { offset: 8 }))).toBe('validation failed: type mismatch');
    const listed = new CompileError('unsupported: 2 uses of 1 unsupported feature(s): instruction i64.add (2 times, first at f+0x2a); hint');
    expect(reasonOf(listed)).toBe('unsupported: 2 uses of 1 unsupported feature(s): instruction i64.add');
    expect(reasonOf(new CompileError('unsupported: function signature with type i64 (only i32); supports ...'))).toBe('unsupported: function signature with type i64 (only i32)');
  });

  it('ends its report with the totals line', () => {
    const r: ScriptReport = {
      script: 's', passed: 2, failed: 1, unsupported: 4, unsupportedI32: 3, rejectChecks: 1, rejectPassed: 1,
      reasons: new Map([['x', 4]]), reasonsI32: new Map([['x', 3]]), failures: ['s:1 f: wrong'], oracleNotes: [], memoryCopies: 0, invokes: 2, steps: 9, ms: 5,
    };
    const lines = formatReport([r]).split('\n');
    expect(lines.at(-1)).toBe('2 passed, 1 failed, 4 unsupported');
    expect(lines).toContain('  s:1 f: wrong');
    expect(lines.at(-2)).toBe('i32-signature asserts: 5, ran 2, unsupported 3 (60.0%)');
    expect(lines).toContain('unsupported reasons of i32-signature asserts (script: count):');
    expect(lines).toContain('      3  x (s: 3)');
    expect(finalLine(totals([r, r]))).toBe('4 passed, 2 failed, 8 unsupported');
  });

  it('runs as a command: report on stdout only, exit status 1 on a failure, 2 without a suite', () => {
    const tsx = join(ROOT, 'node_modules/.bin/tsx');
    const ok = spawnSync(tsx, ['conformance/run.ts', FIXTURE, '--max-steps', String(MAX_STEPS)], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.stderr).toBe(''); // piped: no progress
    expect(ok.status).toBe(1);
    const lines = ok.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('13 passed, 3 failed, 3 unsupported');
    expect(lines[0]).toMatch(/^script\s+passed\s+failed\s+unsupported/);
    expect(lines.find((l) => l.startsWith('tiny '))).toMatch(/^tiny\s+13\s+3\s+3\s+2\s+3\/4\s/);
    expect(lines).toContain('i32-signature asserts: 14, ran 12, unsupported 2 (14.3%)');
    expect(lines).toContain('memory copied from V8 into the transformer after 1 call(s) it could not run');
    const none = spawnSync(tsx, ['conformance/run.ts', join(tmpdir(), 'no-such-spec-tests')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, INIT_CWD: ROOT } });
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr.trim()).toMatch(/^error: spec tests not found: [^\n]*$/);
  });
});
